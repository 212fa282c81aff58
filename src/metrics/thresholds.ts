/**
 * Pass/fail thresholds per precision, and the one function that decides pass
 * from metrics (used by the engine and, on a stored report, by verify).
 *
 * Defaults (docs/parity.md explains each):
 *   fp32: min cosine 0.99999, no decision flips
 *         (float32 re-association error on a ~1e6-MAC network is ~1e-6
 *         relative; 1 - cos ~ relErr^2 / 2, so 1e-5 leaves a wide margin
 *         while a wrong fold or layout gives cos < 0.9)
 *   fp16: min cosine 0.9995, no decision flips
 *         (fp16 weights: relative rounding 2^-11 ~ 4.9e-4 per weight)
 *   int8: min cosine 0.99, decision flips on at most 1% of pairs
 * The flip-TTA cosine must reach the same minimum as the per-row cosine, and
 * every exported value must be finite.
 */
import { UsageError } from '../errors.js';
import { PRECISIONS, type Precision } from '../ir/precision.js';
import type { ParityMetrics } from './parity.js';

export interface Thresholds {
  /** Lowest acceptable per-row cosine (and flip-TTA cosine). */
  readonly minCosine: number;
  /** Highest acceptable fraction of pairs whose decision flips, at either reference threshold. */
  readonly maxFlipFraction: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Record<Precision, Thresholds>> = {
  fp32: { minCosine: 0.99999, maxFlipFraction: 0 },
  fp16: { minCosine: 0.9995, maxFlipFraction: 0 },
  int8: { minCosine: 0.99, maxFlipFraction: 0.01 },
};

export type ThresholdOverrides = Partial<Record<Precision, Partial<Thresholds>>>;

function checkValue(key: keyof Thresholds, v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < (key === 'minCosine' ? -1 : 0) || v > 1) {
    throw new UsageError(`${where}: ${key} must be a number in [${key === 'minCosine' ? -1 : 0}, 1], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Defaults with overrides applied, validated. */
export function resolveThresholds(overrides: ThresholdOverrides = {}): Record<Precision, Thresholds> {
  const out = { ...DEFAULT_THRESHOLDS } as Record<Precision, Thresholds>;
  for (const [p, o] of Object.entries(overrides)) {
    if (!(PRECISIONS as readonly string[]).includes(p)) throw new UsageError(`thresholds: unknown precision ${p}`, `use ${PRECISIONS.join(', ')}`);
    const cur = out[p as Precision];
    const next = { ...cur };
    for (const [k, v] of Object.entries(o ?? {})) {
      if (k !== 'minCosine' && k !== 'maxFlipFraction') throw new UsageError(`thresholds.${p}: unknown key ${k}`, 'use minCosine or maxFlipFraction');
      next[k] = checkValue(k, v, `thresholds.${p}`);
    }
    out[p as Precision] = next;
  }
  return out;
}

/**
 * Parse threshold flags: `--min-cosine 0.9999` (every precision) or
 * `--min-cosine fp16=0.999,int8=0.98`; the same for `--max-flips` (a fraction).
 */
export function parseThresholdFlag(key: keyof Thresholds, value: string, into: ThresholdOverrides = {}): ThresholdOverrides {
  const flag = key === 'minCosine' ? '--min-cosine' : '--max-flips';
  const set = (p: Precision, v: number) => {
    into[p] = { ...(into[p] ?? {}), [key]: checkValue(key, v, flag) };
  };
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:(\w+)=)?(.+)$/.exec(part)!;
    const v = Number(m[2]);
    if (m[2]!.trim() === '' || Number.isNaN(v)) throw new UsageError(`${flag} ${value}: ${m[2]} is not a number`, `e.g. ${flag} fp16=0.999`);
    if (m[1]) {
      if (!(PRECISIONS as readonly string[]).includes(m[1])) throw new UsageError(`${flag}: unknown precision ${m[1]}`, `use ${PRECISIONS.join(', ')}`);
      set(m[1] as Precision, v);
    } else {
      for (const p of PRECISIONS) set(p, v);
    }
  }
  return into;
}

/** `{"thresholds": {"fp16": {"minCosine": 0.999}}}` or the inner object directly, from a config file's parsed JSON. */
export function thresholdsFromConfig(json: unknown, where: string): ThresholdOverrides {
  const obj = json && typeof json === 'object' && 'thresholds' in json ? (json as { thresholds: unknown }).thresholds : json;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new UsageError(`${where}: thresholds must be an object like {"fp16": {"minCosine": 0.999}}`);
  resolveThresholds(obj as ThresholdOverrides); // validates
  return obj as ThresholdOverrides;
}

/** The reasons a result fails; empty means it passes. */
export function failures(m: ParityMetrics, t: Thresholds): string[] {
  const out: string[] = [];
  const r = m.rows;
  if (r.nonFiniteRows > 0) out.push(`${r.nonFiniteRows} row(s) not finite or zero`);
  if (!(r.cosine.min >= t.minCosine)) out.push(`min cosine ${fmtBelow(r.cosine.min, t.minCosine)} < ${t.minCosine} (row ${r.worstRow})`);
  if (m.tta && !(m.tta.cosine.min >= t.minCosine)) out.push(`flip-TTA min cosine ${fmtBelow(m.tta.cosine.min, t.minCosine)} < ${t.minCosine}`);
  if (m.pairs && m.pairs.pairs > 0) {
    const allowed = Math.floor(t.maxFlipFraction * m.pairs.pairs + 1e-9);
    for (const [name, n] of [['FAR 1e-3', m.pairs.flipsAtFar], ['best accuracy', m.pairs.flipsAtBestAccuracy]] as const) {
      if (n > allowed) out.push(`${n} of ${m.pairs.pairs} pair decisions flip at the ${name} threshold (allowed ${allowed})`);
    }
  }
  return out;
}

/** x with 7 significant digits, or as many more as it takes to show that x < limit. */
export function fmtBelow(x: number, limit: number): string {
  for (let p = 7; p <= 17; p++) {
    const s = x.toPrecision(p);
    if (Number(s) < limit) return s;
  }
  return String(x);
}
