/**
 * Verification thresholds and decision flips: the one definition used by the
 * parity report (src/metrics/parity.ts) and by the quantizer's mixed-precision
 * choice (src/quantize/metric.ts), so that what the quantizer accepts is what
 * parity accepts.
 *
 * A pair (a, b) is accepted when its score s = cos(e_a, e_b) > t. Both
 * thresholds are computed on the REFERENCE scores:
 *
 *   thresholdAtFar: the negatives' scores sorted descending n_0 >= n_1 >= ...,
 *     k = floor(far * #neg) (with fewer than 1/far negatives: k = 0, FAR = 0).
 *     n_0..n_{k-1} may be accepted and n_k must not be, so t is in
 *     [n_k, n_{k-1}). Every such t accepts the same reference pairs; t is put
 *     halfway between n_k and the next higher score of ANY pair, so no score
 *     sits on the threshold (a threshold ON a data point flips on a 1e-9
 *     change: measured, a float16 sfnet10 moved a negative pair from
 *     0.38699186 to 0.38699201). With no score above n_k the gap runs up to
 *     the top of the cosine range: t = (n_k + 1) / 2; when n_k >= 1 already
 *     (a cosine rounded to 1 or just above) there is no room below 1 and
 *     t = n_k + 1. (The quantizer used n_k + 1 in every such case, a
 *     threshold no cosine reaches, so it counted no flips where parity
 *     counted them: a precision it accepted could then fail parity.)
 *   bestAccuracy: among the midpoints between consecutive distinct sorted
 *     scores (and 1 below the lowest / 1 above the highest), the one with the
 *     highest accuracy; ties go to the widest gap between the two scores
 *     around it (the most robust).
 *
 * A decision flip is a pair with (ref score > t) != (exported score > t) at
 * one of the thresholds (counted once per pair).
 */

/** The false-accept rate the FAR threshold is set for. */
export const TARGET_FAR = 1e-3;

/** Threshold at `far` on the reference scores (see the header); -Infinity without negatives. */
export function thresholdAtFar(scores: ArrayLike<number>, issame: ArrayLike<number>, far = TARGET_FAR): number {
  const neg: number[] = [];
  for (let k = 0; k < scores.length; k++) if (!issame[k]) neg.push(scores[k]!);
  if (!neg.length) return -Infinity;
  neg.sort((x, y) => y - x);
  const nk = neg[Math.min(neg.length - 1, Math.floor(far * neg.length))]!;
  let above = Infinity;
  for (let k = 0; k < scores.length; k++) if (scores[k]! > nk && scores[k]! < above) above = scores[k]!;
  if (above !== Infinity) return (nk + above) / 2;
  return nk < 1 ? (nk + 1) / 2 : nk + 1;
}

/** The best-accuracy threshold on the reference scores and its accuracy (1 without pairs). */
export function bestAccuracyThreshold(scores: ArrayLike<number>, issame: ArrayLike<number>): { threshold: number; accuracy: number } {
  const m = scores.length;
  // Ascending by score, ties in pair order.
  const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => scores[a]! - scores[b]! || a - b);
  let correct = 0;
  for (let j = 0; j < m; j++) correct += issame[j] ? 1 : 0; // threshold below everything: all accepted
  let best = { acc: correct, gap: Infinity, t: m ? scores[order[0]!]! - 1 : 0 };
  for (let k = 0; k < m; k++) {
    correct += issame[order[k]!] ? -1 : 1; // t above order[k]: rejected (a negative becomes right, a positive wrong)
    const lo = scores[order[k]!]!;
    const hi = k + 1 < m ? scores[order[k + 1]!]! : lo + 1;
    if (k + 1 < m && hi === lo) continue; // not a distinct boundary
    const gap = hi - lo;
    if (correct > best.acc || (correct === best.acc && gap > best.gap)) best = { acc: correct, gap, t: k + 1 < m ? (lo + hi) / 2 : lo + 1 };
  }
  return { threshold: best.t, accuracy: m ? best.acc / m : 1 };
}

/** Pairs whose decision differs between reference and exported scores at any of `thresholds`. */
export function decisionFlips(refScores: ArrayLike<number>, expScores: ArrayLike<number>, thresholds: readonly number[]): number {
  let f = 0;
  for (let j = 0; j < refScores.length; j++) if (thresholds.some((t) => refScores[j]! > t !== expScores[j]! > t)) f++;
  return f;
}
