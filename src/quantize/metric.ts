/**
 * The embedding metric that decides mixed precision (never elementwise
 * tolerances: a face embedding is used through cosine similarity only).
 *
 *   cos_i = <r_i, q_i> / (|r_i| |q_i|)        per input row i (reference r, quantized q)
 *   minCosine = min_i cos_i, meanCosine = mean_i cos_i
 *
 * Verification decisions: a pair (a, b) is "same" when cos(e_a, e_b) >= t.
 * The reference threshold t is the best single threshold on the reference
 * embeddings (highest accuracy over the pairs; among equally good thresholds,
 * the midpoint of the widest gap between sorted scores, so the reference
 * decisions have the largest margin). A flip is a pair whose decision at t
 * differs between the reference and the quantized embeddings.
 */

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
  readonly threshold: number | null;
  readonly pairs: number;
  readonly pass: boolean;
}

export function rowCosines(ref: Float32Array, q: Float32Array, dim: number): Float64Array {
  if (ref.length !== q.length || ref.length % dim !== 0) throw new RangeError(`embedding sizes differ: ${ref.length} vs ${q.length} (dim ${dim})`);
  const n = ref.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rq = 0, rr = 0, qq = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) {
      const a = ref[k]!, b = q[k]!;
      rq += a * b;
      rr += a * a;
      qq += b * b;
    }
    // A zero or non-finite embedding has no direction: cosine -1 (worst), never NaN.
    const c = rq / Math.sqrt(rr * qq);
    out[i] = Number.isFinite(c) ? c : -1;
  }
  return out;
}

/** Cosine similarity of each pair within one set of embeddings. */
export function pairScores(emb: Float32Array, dim: number, p: Pairs): Float64Array {
  const m = p.issame.length;
  const out = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const a = p.pairs[2 * j]!, b = p.pairs[2 * j + 1]!;
    let ab = 0, aa = 0, bb = 0;
    for (let k = 0; k < dim; k++) {
      const x = emb[a * dim + k]!, y = emb[b * dim + k]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const c = ab / Math.sqrt(aa * bb);
    out[j] = Number.isFinite(c) ? c : -1;
  }
  return out;
}

/** Best-accuracy threshold on the reference scores (see the header). */
export function referenceThreshold(scores: Float64Array, issame: Uint8Array): { threshold: number; accuracy: number } {
  const idx = [...scores.keys()].sort((a, b) => scores[a]! - scores[b]! || a - b);
  const m = idx.length;
  // Threshold below all scores: everything "same".
  let correct = 0;
  for (let j = 0; j < m; j++) correct += issame[j]! ? 1 : 0;
  let best = correct, bestGap = -1, bestT = m ? scores[idx[0]!]! - 1e-3 : 0;
  for (let k = 0; k < m; k++) {
    // Move the threshold above idx[k]: that pair becomes "different".
    correct += issame[idx[k]!]! ? -1 : 1;
    const lo = scores[idx[k]!]!;
    const hi = k + 1 < m ? scores[idx[k + 1]!]! : lo + 2e-3;
    if (hi === lo) continue; // not a place a threshold can sit
    const gap = hi - lo;
    if (correct > best || (correct === best && gap > bestGap)) {
      best = correct;
      bestGap = gap;
      bestT = (lo + hi) / 2;
    }
  }
  return { threshold: bestT, accuracy: m ? best / m : 1 };
}

export function decisionFlips(refScores: Float64Array, qScores: Float64Array, threshold: number): number {
  let f = 0;
  for (let j = 0; j < refScores.length; j++) if (refScores[j]! >= threshold !== qScores[j]! >= threshold) f++;
  return f;
}

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
  let flips: number | null = null, threshold: number | null = null;
  if (pairs && pairs.issame.length) {
    const rs = pairScores(ref, dim, pairs);
    threshold = referenceThreshold(rs, pairs.issame).threshold;
    flips = decisionFlips(rs, pairScores(q, dim, pairs), threshold);
  }
  const pass = min >= thresholds.minCosine && (flips === null || flips <= thresholds.maxFlips);
  return { minCosine: min, meanCosine: cos.length ? sum / cos.length : 1, worstRow: worst, flips, threshold, pairs: pairs?.issame.length ?? 0, pass };
}
