import { describe, expect, it } from 'vitest';
import { bestAccuracyThreshold, decisionFlips, thresholdAtFar } from '../../src/metrics/verification.js';
import { checkEmbeddings } from '../../src/quantize/metric.js';
import { pairMetrics, thresholdAtFar as parityThresholdAtFar, thresholdBestAccuracy } from '../../src/metrics/parity.js';
import { referenceThreshold, thresholdAtFar as quantizeThresholdAtFar } from '../../src/quantize/metric.js';

// The parity report and the quantizer used two copies of these thresholds that disagreed when
// no pair scored above the k-th negative: parity put t at (n_k + max(n_k, 1)) / 2 (ON n_k when
// n_k >= 1), the quantizer at n_k + 1 (a threshold no cosine reaches, so it never counted a flip
// there). Both now call src/metrics/verification.ts.
describe('verification thresholds: one definition for parity and the quantizer', () => {
  it('parity and the quantizer re-export the same functions', () => {
    expect(parityThresholdAtFar).toBe(thresholdAtFar);
    expect(quantizeThresholdAtFar).toBe(thresholdAtFar);
    const scores = [0.1, 0.2, 0.6, 0.9], issame = Uint8Array.of(0, 1, 0, 1);
    expect(thresholdBestAccuracy(scores, issame)).toBe(referenceThreshold(Float64Array.from(scores), issame).threshold);
  });

  it('no score above the top negative: t half-way to the top of the cosine range', () => {
    // One negative 0.3, one positive 0.2: k = 0, nothing scores above 0.3 -> t = (0.3 + 1) / 2.
    expect(thresholdAtFar([0.3, 0.2], Uint8Array.of(0, 1))).toBeCloseTo(0.65, 15);
    // A top negative at cosine 1 (or rounded above it) leaves no room below 1: t above it, never on it.
    const t = thresholdAtFar([1, 0.5], Uint8Array.of(0, 1));
    expect(t).toBe(2);
    expect(decisionFlips([1, 0.5], [1 + 2 ** -52, 0.5], [t])).toBe(0); // was 1 with parity's t = 1
  });

  it('the quantizer counts the flip parity counts when the top reference score is a negative', () => {
    // Rows: (0, 1) a negative pair at cosine 0.3, (2, 3) a positive pair at cosine 0.2.
    const ref = Float32Array.of(1, 0, 0.3, Math.sqrt(1 - 0.09), 1, 0, 0.2, Math.sqrt(1 - 0.04));
    const q = ref.slice();
    q[2] = 0.7; q[3] = Math.sqrt(1 - 0.49); // the negative pair now scores 0.7, above t = 0.65
    const pairs = { pairs: Int32Array.of(0, 1, 2, 3), issame: Uint8Array.of(0, 1) };
    const c = checkEmbeddings(ref, q, 2, { minCosine: 0, maxFlips: 0 }, pairs);
    expect(c.thresholdAtFar).toBeCloseTo(0.65, 6); // float32 embeddings: scores within ~1e-7
    expect(c.flips).toBe(1); // was 0 with the quantizer's t = 1.3
    expect(c.pass).toBe(false);
    // The parity report on the same scores counts it too.
    const p = pairMetrics([0.3, 0.2], [0.7, 0.2], Uint8Array.of(0, 1), 'raw');
    expect(p.flipsAtFar).toBe(1);
  });

  it('best accuracy: accuracy reported with the threshold; no pairs -> accuracy 1', () => {
    expect(bestAccuracyThreshold([0.9, 0.5, 0.8, 0.1, 0.6], Uint8Array.of(1, 0, 1, 0, 1))).toEqual({ threshold: 0.55, accuracy: 1 });
    expect(bestAccuracyThreshold([], Uint8Array.of())).toEqual({ threshold: 0, accuracy: 1 });
  });
});
