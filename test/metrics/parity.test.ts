import { describe, expect, it } from 'vitest';
import { pairMetrics, pairScores, normalizeRows, percentile, rocPoints, rowMetrics, thresholdAtFar, thresholdBestAccuracy, ttaMetrics } from '../../src/metrics/parity.js';
import { DEFAULT_THRESHOLDS, failures, parseThresholdFlag, resolveThresholds, thresholdsFromConfig } from '../../src/metrics/thresholds.js';
import { UsageError } from '../../src/errors.js';

// Hand-computed cases. Tolerances: float64 arithmetic on a handful of terms
// (error ~1e-16 relative), so toBeCloseTo(x, 14) unless stated.

describe('row metrics', () => {
  it('cosine, angle, abs diff, relative L2 and norm ratio on a 2 x 2 case', () => {
    // row 0: exported (1, 0) vs reference (1, 0): identical.
    // row 1: exported (0, 2) vs reference (1, 1): cos = 2 / (2 sqrt 2) = 1/sqrt 2, 45 degrees,
    //        diff (-1, 1): max |diff| 1, |diff| / |ref| = sqrt 2 / sqrt 2 = 1, |a|/|b| = 2 / sqrt 2.
    const { metrics: m, cosine } = rowMetrics([1, 0, 0, 2], [1, 0, 1, 1], 2, 2);
    expect(cosine[0]).toBe(1);
    expect(cosine[1]).toBeCloseTo(Math.SQRT1_2, 14);
    expect(m.cosine.min).toBeCloseTo(Math.SQRT1_2, 14);
    expect(m.cosine.mean).toBeCloseTo((1 + Math.SQRT1_2) / 2, 14);
    // numpy.percentile([0.7071, 1], 1) = 0.7071 + 0.01 * (1 - 0.7071)
    expect(m.cosine.p1).toBeCloseTo(Math.SQRT1_2 + 0.01 * (1 - Math.SQRT1_2), 14);
    expect(m.maxAngleDeg).toBeCloseTo(45, 12);
    expect(m.maxAbsDiff).toBe(1);
    expect(m.maxRelL2).toBeCloseTo(1, 14);
    expect(m.normRatio.min).toBe(1);
    expect(m.normRatio.max).toBeCloseTo(Math.SQRT2, 14);
    expect(m.worstRow).toBe(1);
    expect(m.nonFiniteRows).toBe(0);
  });

  it('keeps the angle exact where acos(cosine) would round to 0', () => {
    // (1, 1e-8) vs (1, 0): angle atan(1e-8) = 1e-8 rad; cos = 1 - 5e-17 rounds to 1 in float64.
    const { metrics: m } = rowMetrics([1, 1e-8], [1, 0], 1, 2);
    expect(Math.acos(m.cosine.min)).toBe(0);
    expect(m.maxAngleDeg).toBeCloseTo((1e-8 * 180) / Math.PI, 20);
    expect(m.maxAngleDeg / ((1e-8 * 180) / Math.PI)).toBeCloseTo(1, 10);
  });

  it('scores a non-finite or zero exported row as cosine -1 and counts it', () => {
    const { metrics: m, cosine } = rowMetrics([NaN, 0, 0, 0, 3, 4], [1, 0, 1, 0, 3, 4], 3, 2);
    expect(cosine).toEqual([-1, -1, 1]);
    expect(m.nonFiniteRows).toBe(2);
    expect(m.maxAngleDeg).toBe(180);
    // The other metrics come from the finite row only, and stay JSON-safe numbers.
    expect(m.maxAbsDiff).toBe(0);
    expect(m.normRatio).toEqual({ min: 1, max: 1 });
    expect(failures({ rows: m }, DEFAULT_THRESHOLDS.int8)).toEqual(expect.arrayContaining(['2 row(s) not finite or zero']));
  });

  it('percentile interpolates like numpy', () => {
    expect(percentile([4, 1, 3, 2], 1)).toBeCloseTo(1.03, 14); // 1 + 0.03 * (2 - 1)
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([7], 1)).toBe(7);
  });

  it('flip-TTA cosine compares normalize(f(x) + f(flip x)) on both sides', () => {
    // exported: (1,0) + (0,1) -> (1,1)/sqrt 2; reference: (1,0) + (1,0) -> (1,0); cos = 1/sqrt 2.
    const t = ttaMetrics([1, 0], [0, 1], [1, 0], [1, 0], 1, 2);
    expect(t.cosine.min).toBeCloseTo(Math.SQRT1_2, 14);
  });
});

describe('pair metrics', () => {
  const issame = Uint8Array.from([1, 1, 0, 0]);
  const ref = [0.9, 0.8, 0.3, 0.5];

  it('places the FAR threshold between scores, never on one', () => {
    // negatives descending: 0.5, 0.3; k = floor(1e-3 * 2) = 0 -> n_0 = 0.5 must be rejected;
    // the next higher score of any pair is 0.8 -> t = 0.65.
    expect(thresholdAtFar(ref, issame)).toBeCloseTo(0.65, 15);
    // With 2000 negatives k = 2: the third highest negative is the first one rejected.
    const many = Array.from({ length: 2000 }, (_, k) => k / 2000);
    const labels = new Uint8Array(2000);
    const t = thresholdAtFar(many, labels);
    expect(many.filter((s) => s > t).length).toBe(2);
    expect(t).toBeCloseTo((1997 / 2000 + 1998 / 2000) / 2, 15);
  });

  it('best-accuracy threshold: midpoint of the widest gap among the best', () => {
    expect(thresholdBestAccuracy(ref, issame)).toBeCloseTo(0.65, 15); // 0.5 | 0.8: accuracy 1
    // Ties in accuracy: scores 0.1(0) 0.2(1) 0.6(0) 0.9(1). t in (0.1,0.2): 3/4; (0.6,0.9): 3/4; (0.2,0.6): 2/4.
    // Widest gap among the 3/4 ones: 0.6..0.9 (0.3) -> 0.75.
    expect(thresholdBestAccuracy([0.1, 0.2, 0.6, 0.9], Uint8Array.from([0, 1, 0, 1]))).toBeCloseTo(0.75, 15);
  });

  it('counts decision flips and TAR / accuracy changes at the reference thresholds', () => {
    const exp = [0.9, 0.6, 0.3, 0.5]; // pair 1 drops below t = 0.65
    const p = pairMetrics(ref, exp, issame, 'raw');
    expect(p.flipsAtFar).toBe(1);
    expect(p.flipsAtBestAccuracy).toBe(1);
    expect(p.tarAtFar).toEqual({ reference: 1, exported: 0.5, change: -0.5 });
    expect(p.accuracy).toEqual({ reference: 1, exported: 0.75, change: -0.25 });
    expect(p.maxScoreDiff).toBeCloseTo(0.2, 15);
    expect([p.positives, p.negatives, p.pairs]).toEqual([2, 2, 4]);
    expect(failures({ rows: rowMetrics([1], [1], 1, 1).metrics, pairs: p }, DEFAULT_THRESHOLDS.fp32)).toEqual([
      '1 of 4 pair decisions flip at the FAR 1e-3 threshold (allowed 0)',
      '1 of 4 pair decisions flip at the best accuracy threshold (allowed 0)',
    ]);
    // int8 allows floor(1% of 4) = 0 flips too; with 100 pairs it allows 1.
    expect(failures({ rows: rowMetrics([1], [1], 1, 1).metrics, pairs: { ...p, pairs: 100 } }, DEFAULT_THRESHOLDS.int8)).toEqual([]);
  });

  it('pair scores are cosines of the rows', () => {
    const unit = normalizeRows([3, 4, 4, 3, 1, 0], 3, 2);
    const s = pairScores(unit, 2, Int32Array.from([0, 1, 0, 2]));
    expect(s[0]).toBeCloseTo(24 / 25, 15);
    expect(s[1]).toBeCloseTo(3 / 5, 15);
  });

  it('ROC points go from (0,0) to (1,1), one per distinct score', () => {
    expect(rocPoints(ref, issame)).toEqual([[0, 0], [0, 0.5], [0, 1], [0.5, 1], [1, 1]]);
    expect(rocPoints([0.5, 0.5], Uint8Array.from([1, 0]))).toEqual([[0, 0], [1, 1]]);
  });
});

describe('thresholds', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({
      fp32: { minCosine: 0.99999, maxFlipFraction: 0 },
      fp16: { minCosine: 0.9995, maxFlipFraction: 0 },
      int8: { minCosine: 0.99, maxFlipFraction: 0.01 },
    });
  });
  it('takes flags for every precision or per precision, and config files', () => {
    expect(resolveThresholds(parseThresholdFlag('minCosine', '0.9999')).fp16.minCosine).toBe(0.9999);
    const o = parseThresholdFlag('minCosine', 'fp16=0.999,int8=0.98');
    parseThresholdFlag('maxFlipFraction', 'int8=0.02', o);
    const t = resolveThresholds(o);
    expect(t.fp32).toEqual(DEFAULT_THRESHOLDS.fp32);
    expect(t.fp16.minCosine).toBe(0.999);
    expect(t.int8).toEqual({ minCosine: 0.98, maxFlipFraction: 0.02 });
    expect(resolveThresholds(thresholdsFromConfig({ thresholds: { fp32: { minCosine: 0.999999 } } }, 'c.json')).fp32.minCosine).toBe(0.999999);
  });
  it('refuses bad values, keys and precisions', () => {
    expect(() => parseThresholdFlag('minCosine', 'abc')).toThrow(UsageError);
    expect(() => parseThresholdFlag('minCosine', 'fp64=0.9')).toThrow(/unknown precision fp64/);
    expect(() => parseThresholdFlag('maxFlipFraction', '2')).toThrow(/in \[0, 1\]/);
    expect(() => thresholdsFromConfig({ fp16: { minCos: 0.9 } }, 'c.json')).toThrow(/unknown key minCos/);
  });
  it('decides pass from min cosine and flip-TTA cosine', () => {
    const rows = rowMetrics([1, 0, 0.99, 0.142], [1, 0, 1, 0], 2, 2).metrics; // row 1: cos = 0.99 / |(0.99, 0.142)| = 0.98987 < 0.99
    expect(failures({ rows }, DEFAULT_THRESHOLDS.int8)).toEqual([`min cosine ${rows.cosine.min.toPrecision(7)} < 0.99 (row 1)`]);
    expect(failures({ rows, tta: { cosine: { min: 0.5, mean: 0.5 } } }, { minCosine: 0.9, maxFlipFraction: 0 })).toEqual(['flip-TTA min cosine 0.5000000 < 0.9']);
  });
});
