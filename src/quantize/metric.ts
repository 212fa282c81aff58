/**
 * The embedding metric that decides mixed precision (never elementwise
 * tolerances: a face embedding is used through cosine similarity only).
 *
 *   cos_i = <r_i, q_i> / (|r_i| |q_i|)        per input row i (reference r, quantized q)
 *   minCosine = min_i cos_i, meanCosine = mean_i cos_i
 *
 * Verification decisions: a pair (a, b) is accepted when cos(e_a, e_b) > t,
 * at two reference thresholds computed on the REFERENCE scores by the same
 * functions the parity report uses (src/metrics/verification.ts: best
 * accuracy, and FAR 1e-3 placed mid-gap above the k-th negative), so that
 * what the quantizer accepts is what parity accepts.
 * A flip is a pair whose decision differs between the reference and the
 * quantized embeddings at either threshold (counted once).
 */

import { bestAccuracyThreshold, decisionFlips, thresholdAtFar } from '../metrics/verification.js';

export interface Pairs {
  /** [M, 2] row indices into the embedding rows. */
  readonly pairs: Int32Array;
  /** [M]: 1 when both rows show the same identity. */
  readonly issame: Uint8Array;
}

export interface Thresholds {
  readonly minCosine: number;
  /** Maximum number of decision flips at the reference threshold (0 = none allowed). */
  readonly maxFlips: number;
}

export const FP16_THRESHOLDS: Thresholds = { minCosine: 0.9995, maxFlips: 0 };
export const INT8_THRESHOLDS: Thresholds = { minCosine: 0.99, maxFlips: 0 };

export interface EmbeddingCheck {
  readonly minCosine: number;
  readonly meanCosine: number;
  /** Row with the smallest cosine. */
  readonly worstRow: number;
  /** null when no pairs were given. */
  readonly flips: number | null;
  /** Best-accuracy reference threshold (null without pairs). */
  readonly threshold: number | null;
  readonly thresholdAtFar: number | null;
  readonly pairs: number;
  readonly pass: boolean;
  /** Per-row cosines (not serialized into reports). */
  readonly cosines: Float64Array;
}

export function rowCosines(ref: Float32Array, q: Float32Array, dim: number): Float64Array {
  if (ref.length !== q.length || ref.length % dim !== 0) throw new RangeError(`embedding sizes differ: ${ref.length} vs ${q.length} (dim ${dim})`);
  const n = ref.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = cosine(ref, i * dim, q, i * dim, dim);
  return out;
}

/** cos(x[xo : xo + d], y[yo : yo + d]); a zero or non-finite vector has no direction: -1 (worst), never NaN. */
function cosine(x: Float32Array, xo: number, y: Float32Array, yo: number, d: number): number {
  let xy = 0, xx = 0, yy = 0;
  for (let k = 0; k < d; k++) {
    const a = x[xo + k]!, b = y[yo + k]!;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  const c = xy / Math.sqrt(xx * yy);
  return Number.isFinite(c) ? c : -1;
}

/** Cosine similarity of each pair within one set of embeddings. */
export function pairScores(emb: Float32Array, dim: number, p: Pairs): Float64Array {
  const m = p.issame.length;
  const out = new Float64Array(m);
  for (let j = 0; j < m; j++) out[j] = cosine(emb, p.pairs[2 * j]! * dim, emb, p.pairs[2 * j + 1]! * dim, dim);
  return out;
}

/** Best-accuracy threshold on the reference scores (src/metrics/verification.ts). */
export function referenceThreshold(scores: Float64Array, issame: Uint8Array): { threshold: number; accuracy: number } {
  return bestAccuracyThreshold(scores, issame);
}

export { decisionFlips, thresholdAtFar };

/** Compare quantized embeddings to the reference; `pairs` optional. */
export function checkEmbeddings(ref: Float32Array, q: Float32Array, dim: number, thresholds: Thresholds, pairs?: Pairs): EmbeddingCheck {
  const cos = rowCosines(ref, q, dim);
  let min = Infinity, worst = 0, sum = 0;
  cos.forEach((c, i) => {
    sum += c;
    if (c < min) {
      min = c;
      worst = i;
    }
  });
  let flips: number | null = null, threshold: number | null = null, atFar: number | null = null;
  if (pairs && pairs.issame.length) {
    const rs = pairScores(ref, dim, pairs);
    threshold = referenceThreshold(rs, pairs.issame).threshold;
    atFar = thresholdAtFar(rs, pairs.issame);
    flips = decisionFlips(rs, pairScores(q, dim, pairs), [threshold, atFar]);
  }
  const pass = min >= thresholds.minCosine && (flips === null || flips <= thresholds.maxFlips);
  return { minCosine: min, meanCosine: cos.length ? sum / cos.length : 1, worstRow: worst, flips, threshold, thresholdAtFar: atFar, pairs: pairs?.issame.length ?? 0, pass, cosines: cos };
}
