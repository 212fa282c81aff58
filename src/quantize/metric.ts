/**
 * The embedding metric that decides mixed precision (never elementwise
 * tolerances: a face embedding is used through cosine similarity only).
 *
 *   cos_i = <r_i, q_i> / (|r_i| |q_i|)        per input row i (reference r, quantized q)
 *   minCosine = min_i cos_i, meanCosine = mean_i cos_i
 *
 * Verification decisions: a pair (a, b) is accepted when cos(e_a, e_b) > t,
 * at two reference thresholds computed on the REFERENCE scores, defined as the
 * parity report defines them (src/parity/metrics.ts), so that what the
 * quantizer accepts is what parity accepts:
 *   best accuracy: among the midpoints between consecutive distinct sorted
 *     scores (and below/above all), the highest accuracy; ties go to the
 *     widest gap around the midpoint;
 *   FAR 1e-3: with the negatives' scores sorted descending n_0 >= n_1 >= ...,
 *     k = floor(1e-3 #neg) (with < 1000 negatives: the highest one), and t the
 *     midpoint between n_k and the next reference score above it (the parity
 *     report uses t = n_k; see thresholdAtFar for why the midpoint).
 * A flip is a pair whose decision differs between the reference and the
 * quantized embeddings at either threshold (counted once).
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
  const order = [...scores.keys()].sort((a, b) => scores[a]! - scores[b]! || a - b);
  const m = order.length;
  let correct = 0;
  for (let j = 0; j < m; j++) correct += issame[j]! ? 1 : 0; // threshold below everything: all accepted
  let best = { acc: correct, gap: Infinity, t: m ? scores[order[0]!]! - 1 : 0 };
  for (let k = 0; k < m; k++) {
    correct += issame[order[k]!]! ? -1 : 1; // t above order[k]: rejected
    const lo = scores[order[k]!]!;
    const hi = k + 1 < m ? scores[order[k + 1]!]! : lo + 1;
    if (k + 1 < m && hi === lo) continue; // not a distinct boundary
    const gap = hi - lo;
    if (correct > best.acc || (correct === best.acc && gap > best.gap)) best = { acc: correct, gap, t: k + 1 < m ? (lo + hi) / 2 : lo + 1 };
  }
  return { threshold: best.t, accuracy: m ? best.acc / m : 1 };
}

/**
 * Threshold at FAR 1e-3 on the reference scores (see the header), moved up to
 * the middle of the gap above n_k: t = n_k itself sits exactly on a reference
 * score, so that pair flips under ANY upward perturbation (measured: a float16
 * sfnet10 moved a negative pair from 0.38699186 to 0.38699201, a "flip" at
 * t = n_k). Every t in [n_k, next score above n_k) accepts the same pairs, so
 * FAR and TAR are unchanged and the margin is the largest.
 */
export function thresholdAtFar(scores: Float64Array, issame: Uint8Array, far = 1e-3): number {
  const neg = [...scores].filter((_, k) => !issame[k]).sort((x, y) => y - x);
  if (!neg.length) return -Infinity;
  const nk = neg[Math.min(neg.length - 1, Math.floor(far * neg.length))]!;
  let above = Infinity;
  for (const s of scores) if (s > nk && s < above) above = s;
  return Number.isFinite(above) ? (nk + above) / 2 : nk + 1;
}

/** Pairs whose decision differs at any of `thresholds`. */
export function decisionFlips(refScores: Float64Array, qScores: Float64Array, thresholds: readonly number[]): number {
  let f = 0;
  for (let j = 0; j < refScores.length; j++) if (thresholds.some((t) => refScores[j]! > t !== qScores[j]! > t)) f++;
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
