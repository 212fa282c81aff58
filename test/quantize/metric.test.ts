import { describe, expect, it } from 'vitest';
import { checkEmbeddings, decisionFlips, referenceThreshold, rowCosines, thresholdAtFar } from '../../src/quantize/metric.js';

describe('embedding metric', () => {
  it('row cosines; a zero or non-finite embedding counts as -1, never NaN', () => {
    const ref = Float32Array.of(1, 0, 0, 1, 1, 1);
    const q = Float32Array.of(1, 1, 0, 0, NaN, 1);
    const c = rowCosines(ref, q, 2);
    expect(c[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(c[1]).toBe(-1);
    expect(c[2]).toBe(-1);
  });

  it('best-accuracy threshold: the midpoint of the widest gap among the most accurate', () => {
    // same pairs score 0.9, 0.8, 0.6; different 0.5, 0.1: any t in (0.5, 0.6) is perfect.
    const scores = Float64Array.of(0.9, 0.5, 0.8, 0.1, 0.6);
    const issame = Uint8Array.of(1, 0, 1, 0, 1);
    expect(referenceThreshold(scores, issame)).toEqual({ threshold: 0.55, accuracy: 1 });
    // With fewer than 1000 negatives, FAR 1e-3 means above the highest negative score (0.5),
    // placed mid-way to the next score (0.6), so a tiny change of 0.5 flips nothing.
    expect(thresholdAtFar(scores, issame)).toBe(0.55);
    // Nothing above the top negative: half-way to the top of the cosine range, as the parity
    // report places it (one definition, src/metrics/verification.ts; this was 1.3 before, a
    // threshold no cosine reaches, so the quantizer missed flips that parity then counted).
    expect(thresholdAtFar(Float64Array.of(0.3, 0.2), Uint8Array.of(0, 1))).toBeCloseTo(0.65, 15);
    // Decisions are score > t: a quantized 0.56 -> 0.54 flips at 0.55.
    expect(decisionFlips(Float64Array.of(0.56, 0.3), Float64Array.of(0.54, 0.3), [0.55])).toBe(1);
    expect(decisionFlips(Float64Array.of(0.56, 0.3), Float64Array.of(0.57, 0.2), [0.55, 0.5])).toBe(0);
  });

  it('checkEmbeddings: passes only with the min cosine and no flips', () => {
    // 4 rows of 2-d embeddings; pairs (0,1) same, (2,3) different.
    const ref = Float32Array.of(1, 0, 0.9, 0.1, 0, 1, 1, 0.2);
    const pairs = { pairs: Int32Array.of(0, 1, 2, 3), issame: Uint8Array.of(1, 0) };
    const same = checkEmbeddings(ref, ref, 2, { minCosine: 0.99, maxFlips: 0 }, pairs);
    expect(same.pass).toBe(true);
    expect(same.flips).toBe(0);
    // Rotate row 3 towards row 2: pair (2,3) now scores high -> a flip.
    const q = ref.slice();
    q[6] = 0.05; q[7] = 1;
    const bad = checkEmbeddings(ref, q, 2, { minCosine: 0.2, maxFlips: 0 }, pairs);
    expect(bad.flips).toBe(1);
    expect(bad.pass).toBe(false);
    expect(bad.worstRow).toBe(3);
    expect(checkEmbeddings(ref, q, 2, { minCosine: 0.2, maxFlips: 1 }, pairs).pass).toBe(true);
  });
});
