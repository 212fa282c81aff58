/**
 * Mixed precision decided by the embedding metric (metric.ts), measured.
 *
 *   1. Quantize every unit; measure. If the thresholds hold (and the mode is
 *      'auto'), done: nothing stays in higher precision.
 *   2. Sensitivity of each unit u: quantize u ALONE (every other unit in
 *      higher precision) and measure the embedding: min cosine, mean cosine,
 *      flips. Rank worst first (lowest min cosine, then lowest mean).
 *   3. Keep the worst-ranked units in higher precision one by one, measuring
 *      the whole model after each, until the thresholds hold.
 * Every number in the report is a measurement of a real model on the runtime;
 * nothing is estimated from weight statistics.
 */
import type { EmbeddingCheck } from './metric.js';

export interface Unit {
  readonly node: string;
  readonly op: string;
}

export interface LayerSensitivity {
  readonly node: string;
  readonly op: string;
  /** The embedding with only this unit quantized. */
  readonly minCosine: number;
  readonly meanCosine: number;
  readonly flips: number | null;
}

export interface KeptForAccuracy extends LayerSensitivity {
  /** Min cosine of the whole model after this unit was also kept. */
  readonly minCosineAfter: number;
  readonly flipsAfter: number | null;
}

export type SensitivityMode = 'auto' | 'always' | 'off';

export interface MixedPrecision {
  readonly keep: ReadonlySet<string>;
  /** All units quantized. */
  readonly initial: EmbeddingCheck;
  /** With `keep` in higher precision. */
  readonly final: EmbeddingCheck;
  /** Per-unit measurements, worst first (null when not measured). */
  readonly layers: readonly LayerSensitivity[] | null;
  readonly kept: readonly KeptForAccuracy[];
  /** Models measured (each one onnxruntime session over the inputs). */
  readonly evaluations: number;
}

export async function decideMixedPrecision(
  units: readonly Unit[],
  evaluate: (keep: ReadonlySet<string>) => Promise<EmbeddingCheck>,
  mode: SensitivityMode,
  onProgress?: (msg: string) => void,
): Promise<MixedPrecision> {
  let evaluations = 0;
  const ev = async (keep: ReadonlySet<string>) => {
    evaluations++;
    return evaluate(keep);
  };
  const initial = await ev(new Set());
  if (mode === 'off' || (mode === 'auto' && initial.pass) || units.length === 0) {
    return { keep: new Set(), initial, final: initial, layers: null, kept: [], evaluations };
  }
  const names = units.map((u) => u.node);
  const layers: LayerSensitivity[] = [];
  for (const u of units) {
    const c = await ev(new Set(names.filter((n) => n !== u.node)));
    layers.push({ node: u.node, op: u.op, minCosine: c.minCosine, meanCosine: c.meanCosine, flips: c.flips });
  }
  layers.sort((a, b) => a.minCosine - b.minCosine || a.meanCosine - b.meanCosine || (a.node < b.node ? -1 : 1));
  onProgress?.(`sensitivity: ${layers.length} units measured, worst ${layers[0]?.node} (min cosine ${layers[0]?.minCosine.toFixed(6)})`);
  const keep = new Set<string>();
  const kept: KeptForAccuracy[] = [];
  let final = initial;
  for (const l of layers) {
    if (final.pass) break;
    keep.add(l.node);
    final = await ev(keep);
    kept.push({ ...l, minCosineAfter: final.minCosine, flipsAfter: final.flips });
  }
  return { keep, initial, final, layers, kept, evaluations };
}
