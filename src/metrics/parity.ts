/**
 * Parity metrics, all computed in float64 from float32 embeddings.
 *
 * Per row i, with a = exported embedding, b = reference embedding (raw, not
 * normalized), |.| the L2 norm:
 *   cosine_i     = a.b / (|a| |b|)
 *   angle_i      = 2 atan2(|a^ - b^|, |a^ + b^|)  (degrees; a^ = a/|a|; the same
 *                  as acos(cosine_i) but exact near 0, where acos loses half
 *                  the digits: acos(1 - e) ~ sqrt(2e))
 *   maxAbsDiff   = max_k |a_k - b_k| over all rows
 *   relL2_i      = |a - b| / |b|
 *   normRatio_i  = |a| / |b|
 * Reported: cosine min, mean and 1st percentile (linear interpolation between
 * order statistics, as numpy.percentile), the max angle, the max relL2, the
 * min and max norm ratio. A row whose exported values are not all finite, or
 * whose norm is 0, gets cosine -1 and angle 180, is counted in nonFiniteRows,
 * and is left out of the other metrics (they stay finite numbers for JSON).
 *
 * Flip TTA (what a deployment computes: the contract's flipTTA "sum"):
 *   t(x) = normalize(f(x) + f(flip_W x))
 * for the exported model and for the reference; ttaCosine_i = t_exp . t_ref.
 *
 * Pairs (p, q) with labels same/different: score = cosine(e_p, e_q), on the
 * flip-TTA embeddings when both sides have them (that is what verification
 * uses), else on the raw ones. On the REFERENCE scores (both thresholds are
 * defined once, in src/metrics/verification.ts, shared with the quantizer):
 *   thresholdAtFar: accept when score > t. With the negatives' scores sorted
 *     descending n_0 >= n_1 >= ..., k = floor(1e-3 * #neg): at most k
 *     negatives may score above t, so t lies in [n_k, n_{k-1}); it is put
 *     halfway between n_k and the next higher score of any pair (FAR <= 1e-3;
 *     with fewer than 1000 negatives that is FAR = 0).
 *   thresholdBestAccuracy: among the midpoints between consecutive distinct
 *     scores (and below/above all), the one with the highest accuracy; ties go
 *     to the widest gap between the two scores around it (the most robust).
 * At each reference threshold: decision flips = #pairs with
 * (ref score > t) != (exported score > t); the change in TAR (at the FAR
 * threshold) and in accuracy (at the best-accuracy threshold) from reference
 * to export; and the max |exported score - reference score|.
 * ROC points (FAR, TAR) at every distinct score, for plots.
 */

import { TARGET_FAR, bestAccuracyThreshold, decisionFlips, thresholdAtFar } from './verification.js';

export interface RowMetrics {
  readonly rows: number;
  readonly dim: number;
  readonly cosine: { readonly min: number; readonly mean: number; readonly p1: number };
  readonly maxAngleDeg: number;
  readonly maxAbsDiff: number;
  readonly maxRelL2: number;
  readonly normRatio: { readonly min: number; readonly max: number };
  readonly nonFiniteRows: number;
  /** Index of the row with the lowest cosine. */
  readonly worstRow: number;
}

export interface TtaMetrics {
  readonly cosine: { readonly min: number; readonly mean: number };
}

export interface PairMetrics {
  readonly pairs: number;
  readonly positives: number;
  readonly negatives: number;
  readonly scoreEmbedding: 'flipTTA' | 'raw';
  readonly far: number;
  readonly thresholdAtFar: number;
  readonly thresholdBestAccuracy: number;
  readonly flipsAtFar: number;
  readonly flipsAtBestAccuracy: number;
  readonly tarAtFar: { readonly reference: number; readonly exported: number; readonly change: number };
  readonly accuracy: { readonly reference: number; readonly exported: number; readonly change: number };
  readonly maxScoreDiff: number;
}

export interface ParityMetrics {
  readonly rows: RowMetrics;
  readonly tta?: TtaMetrics;
  readonly pairs?: PairMetrics;
}

/** Per-row series kept for plots and for checking the summary. */
export interface ParitySeries {
  readonly cosine: number[];
  /** Exported pair scores, in pair order (reference scores are the report's). */
  readonly pairScores?: number[];
}

export { TARGET_FAR };

// ---------------------------------------------------------------- helpers

/** numpy.percentile(values, q) with linear interpolation. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function rowNorm(x: ArrayLike<number>, o: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += x[o + k]! * x[o + k]!;
  return Math.sqrt(s);
}

/** Row-wise L2-normalized copy in float64 (zero rows stay zero). */
export function normalizeRows(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const nr = rowNorm(x, r * d, d);
    for (let k = 0; k < d; k++) out[r * d + k] = nr > 0 ? x[r * d + k]! / nr : 0;
  }
  return out;
}

/** normalize(f(x) + f(flip x)) per row. */
export function ttaEmbeddings(e: ArrayLike<number>, eFlip: ArrayLike<number>, n: number, d: number): Float64Array {
  const s = new Float64Array(n * d);
  for (let k = 0; k < n * d; k++) s[k] = e[k]! + eFlip[k]!;
  return normalizeRows(s, n, d);
}

function rowFinite(x: ArrayLike<number>, o: number, d: number): boolean {
  for (let k = 0; k < d; k++) if (!Number.isFinite(x[o + k]!)) return false;
  return true;
}

// ---------------------------------------------------------------- rows

export function rowMetrics(exp: ArrayLike<number>, ref: ArrayLike<number>, n: number, d: number): { metrics: RowMetrics; cosine: number[] } {
  if (exp.length !== n * d || ref.length !== n * d) throw new RangeError(`rowMetrics: ${exp.length} and ${ref.length} values for ${n} x ${d}`);
  const cosine: number[] = [];
  let maxAngle = 0, maxAbs = 0, maxRel = 0, nrMin = Infinity, nrMax = -Infinity, nonFinite = 0;
  for (let r = 0; r < n; r++) {
    const o = r * d;
    const nb = rowNorm(ref, o, d);
    const na = rowNorm(exp, o, d);
    if (!rowFinite(exp, o, d) || na === 0) {
      nonFinite++;
      cosine.push(-1);
      maxAngle = 180;
      continue; // its other metrics are undefined; nonFiniteRows > 0 fails the result

    }
    let dot = 0, diff2 = 0, dm2 = 0, dp2 = 0;
    for (let k = 0; k < d; k++) {
      const a = exp[o + k]!, b = ref[o + k]!;
      dot += a * b;
      diff2 += (a - b) * (a - b);
      const ah = a / na, bh = b / nb;
      dm2 += (ah - bh) * (ah - bh);
      dp2 += (ah + bh) * (ah + bh);
      maxAbs = Math.max(maxAbs, Math.abs(a - b));
    }
    cosine.push(Math.max(-1, Math.min(1, dot / (na * nb))));
    maxAngle = Math.max(maxAngle, (2 * Math.atan2(Math.sqrt(dm2), Math.sqrt(dp2)) * 180) / Math.PI);
    maxRel = Math.max(maxRel, Math.sqrt(diff2) / nb);
    nrMin = Math.min(nrMin, na / nb);
    nrMax = Math.max(nrMax, na / nb);
  }
  let worst = 0;
  for (let r = 1; r < n; r++) if (cosine[r]! < cosine[worst]!) worst = r;
  const mean = cosine.reduce((a, b) => a + b, 0) / n;
  return {
    metrics: {
      rows: n,
      dim: d,
      cosine: { min: Math.min(...cosine), mean, p1: percentile(cosine, 1) },
      maxAngleDeg: maxAngle,
      maxAbsDiff: maxAbs,
      maxRelL2: maxRel,
      normRatio: { min: nonFinite === n ? 0 : nrMin, max: nonFinite === n ? 0 : nrMax },
      nonFiniteRows: nonFinite,
      worstRow: worst,
    },
    cosine,
  };
}

export function ttaMetrics(exp: ArrayLike<number>, expFlip: ArrayLike<number>, ref: ArrayLike<number>, refFlip: ArrayLike<number>, n: number, d: number): TtaMetrics {
  const a = ttaEmbeddings(exp, expFlip, n, d);
  const b = ttaEmbeddings(ref, refFlip, n, d);
  const cos: number[] = [];
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let dot = 0;
    for (let k = 0; k < d; k++) dot += a[o + k]! * b[o + k]!;
    cos.push(rowFinite(a, o, d) && rowNorm(a, o, d) > 0 ? Math.max(-1, Math.min(1, dot)) : -1);
  }
  return { cosine: { min: Math.min(...cos), mean: cos.reduce((x, y) => x + y, 0) / n } };
}

// ---------------------------------------------------------------- pairs

/** Cosine score of each pair, from row-normalized embeddings [n, d]. */
export function pairScores(unit: Float64Array, d: number, pairs: Int32Array): number[] {
  const m = pairs.length / 2;
  const out: number[] = [];
  for (let k = 0; k < m; k++) {
    const p = pairs[2 * k]! * d, q = pairs[2 * k + 1]! * d;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += unit[p + j]! * unit[q + j]!;
    out.push(Number.isFinite(dot) ? dot : -1);
  }
  return out;
}

/** The FAR threshold and the best-accuracy threshold: one definition, in src/metrics/verification.ts. */
export { thresholdAtFar };

/** The best-accuracy threshold: midpoints of distinct sorted scores, ties to the widest gap. */
export function thresholdBestAccuracy(scores: readonly number[], issame: Uint8Array): number {
  return bestAccuracyThreshold(scores, issame).threshold;
}

function tar(scores: readonly number[], issame: Uint8Array, t: number): number {
  let tp = 0, p = 0;
  scores.forEach((s, k) => { if (issame[k]) { p++; if (s > t) tp++; } });
  return p ? tp / p : NaN;
}

function accuracy(scores: readonly number[], issame: Uint8Array, t: number): number {
  let ok = 0;
  scores.forEach((s, k) => { if ((s > t) === !!issame[k]) ok++; });
  return scores.length ? ok / scores.length : NaN;
}

export function pairMetrics(refScores: readonly number[], expScores: readonly number[], issame: Uint8Array, scoreEmbedding: 'flipTTA' | 'raw'): PairMetrics {
  const tFar = thresholdAtFar(refScores, issame);
  const tAcc = thresholdBestAccuracy(refScores, issame);
  const flips = (t: number) => decisionFlips(refScores, expScores, [t]);
  const positives = issame.reduce((a, s) => a + s, 0);
  const tarRef = tar(refScores, issame, tFar), tarExp = tar(expScores, issame, tFar);
  const accRef = accuracy(refScores, issame, tAcc), accExp = accuracy(expScores, issame, tAcc);
  let maxDiff = 0;
  refScores.forEach((s, k) => { maxDiff = Math.max(maxDiff, Math.abs(s - expScores[k]!)); });
  return {
    pairs: refScores.length,
    positives,
    negatives: refScores.length - positives,
    scoreEmbedding,
    far: TARGET_FAR,
    thresholdAtFar: tFar,
    thresholdBestAccuracy: tAcc,
    flipsAtFar: flips(tFar),
    flipsAtBestAccuracy: flips(tAcc),
    tarAtFar: { reference: tarRef, exported: tarExp, change: tarExp - tarRef },
    accuracy: { reference: accRef, exported: accExp, change: accExp - accRef },
    maxScoreDiff: maxDiff,
  };
}

/** ROC points (FAR, TAR), from accepting everything to accepting nothing, one per distinct score. */
export function rocPoints(scores: readonly number[], issame: Uint8Array): Array<[number, number]> {
  const order = scores.map((s, k) => [s, issame[k]!] as const).sort((x, y) => y[0] - x[0]);
  const p = issame.reduce((a, s) => a + s, 0), n = scores.length - p;
  const out: Array<[number, number]> = [[0, 0]];
  let tp = 0, fp = 0;
  for (let k = 0; k < order.length; k++) {
    if (order[k]![1]) tp++;
    else fp++;
    if (k + 1 < order.length && order[k + 1]![0] === order[k]![0]) continue;
    out.push([n ? fp / n : 0, p ? tp / p : 0]);
  }
  return out;
}
