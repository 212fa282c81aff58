/**
 * Mixed precision decided by the embedding metric (metric.ts), measured.
 *
 *   1. Quantize every unit; measure on all rows. If the thresholds hold (and
 *      the mode is 'auto'), done: nothing stays in higher precision.
 *   2. Sensitivity of each unit u: quantize u ALONE (every other unit in
 *      higher precision) and measure the embedding on the scan rows (the
 *      SCAN_ROWS rows with the lowest cosine in step 1: the inputs quantization
 *      hurts most; all rows when there are few): min cosine, mean cosine.
 *      Rank worst first (lowest min cosine, then lowest mean, then name).
 *   3. Keep the k worst-ranked units in higher precision, with the smallest k
 *      whose whole model (all rows, pairs) holds the thresholds, found by
 *      bisection over k (keeping more layers can only bring the model closer
 *      to float32; the result is checked: k passes, and k - 1 was measured to
 *      fail unless k = 1).
 * Every number in the report is a measurement of a real model on the runtime;
 * nothing is estimated from weight statistics. Cost: 1 + about log2(units)
 * models on all rows, plus the scan: one switch model (switches.ts) run once
 * per unit on the scan rows, or without one, one model per unit.
 */
import type { EmbeddingCheck } from './metric.js';

export const SCAN_ROWS = 8;

export interface Unit {
  readonly node: string;
  readonly op: string;
}

export interface LayerSensitivity {
  readonly node: string;
  readonly op: string;
  /** The embedding (scan rows) with only this unit quantized. */
  readonly minCosine: number;
  readonly meanCosine: number;
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
  /** The kept units, worst first. */
  readonly kept: readonly LayerSensitivity[];
  /** Rows the per-unit scan measured. */
  readonly scanRows: number;
  /** onnxruntime sessions opened (the switch model of the scan counts once). */
  readonly evaluations: number;
}

/**
 * `evaluate(keep, rows?)` measures the model with `keep` in higher precision,
 * on all rows or on the given row indices (then without pairs).
 */
export type Evaluate = (keep: ReadonlySet<string>, rows?: readonly number[]) => Promise<EmbeddingCheck>;

/**
 * Optional fast path for step 2: measure every unit alone on `rows` at once
 * (switches.ts: one session for all units). Without it each unit is one
 * `evaluate` of the model with every other unit kept.
 */
export type ScanAlone = (units: readonly Unit[], rows: readonly number[] | undefined) => Promise<{ minCosine: number; meanCosine: number }[]>;

export async function decideMixedPrecision(
  units: readonly Unit[],
  evaluate: Evaluate,
  mode: SensitivityMode,
  onProgress?: (msg: string) => void,
  scanAlone?: ScanAlone,
): Promise<MixedPrecision> {
  let evaluations = 0;
  const ev: Evaluate = async (keep, rows) => {
    evaluations++;
    return evaluate(keep, rows);
  };
  const initial = await ev(new Set());
  if (mode === 'off' || (mode === 'auto' && initial.pass) || units.length === 0) {
    return { keep: new Set(), initial, final: initial, layers: null, kept: [], scanRows: 0, evaluations };
  }
  const n = initial.cosines.length;
  const rows = n <= SCAN_ROWS ? undefined : [...initial.cosines.keys()].sort((a, b) => initial.cosines[a]! - initial.cosines[b]! || a - b).slice(0, SCAN_ROWS).sort((a, b) => a - b);
  const names = units.map((u) => u.node);
  const layers: LayerSensitivity[] = [];
  if (scanAlone) {
    evaluations++; // one session
    const r = await scanAlone(units, rows);
    units.forEach((u, i) => layers.push({ node: u.node, op: u.op, minCosine: r[i]!.minCosine, meanCosine: r[i]!.meanCosine }));
  } else {
    for (const [i, u] of units.entries()) {
      const c = await ev(new Set(names.filter((x) => x !== u.node)), rows);
      layers.push({ node: u.node, op: u.op, minCosine: c.minCosine, meanCosine: c.meanCosine });
      if ((i + 1) % 20 === 0) onProgress?.(`sensitivity: ${i + 1}/${units.length} units measured`);
    }
  }
  layers.sort((a, b) => a.minCosine - b.minCosine || a.meanCosine - b.meanCosine || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  onProgress?.(`sensitivity: worst ${layers[0]?.node} (min cosine ${layers[0]?.minCosine.toFixed(6)} alone)`);

  const prefix = (k: number) => new Set(layers.slice(0, k).map((l) => l.node));
  const results = new Map<number, EmbeddingCheck>([[0, initial]]);
  const at = async (k: number) => {
    let c = results.get(k);
    if (!c) {
      c = await ev(prefix(k));
      results.set(k, c);
    }
    return c;
  };
  // Smallest k in [1, U] that passes (bisection); if U itself fails, keep all U and report.
  let lo = 1, hi = layers.length;
  if (!(await at(hi)).pass) lo = hi;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await at(mid)).pass) hi = mid;
    else lo = mid + 1;
  }
  const k = lo;
  return { keep: prefix(k), initial, final: await at(k), layers, kept: layers.slice(0, k), scanRows: rows?.length ?? n, evaluations };
}
