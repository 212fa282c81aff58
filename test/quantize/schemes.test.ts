import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  SCALE_FLOOR, activationParams, dequantizeAffine, dequantizePerChannel, fromFloat16, quantizeAffine,
  quantizeWeightPerChannel, roundHalfEven, toFloat16,
} from '../../src/quantize/schemes.js';
import { TensorData } from '../../src/ir/tensor.js';

/** A weight tensor [O, rest...] with per-channel magnitudes spanning many orders, including all-zero channels. */
const weightArb = fc
  .record({
    o: fc.integer({ min: 1, max: 6 }),
    inner: fc.integer({ min: 1, max: 12 }),
    outer: fc.integer({ min: 1, max: 3 }),
    axisFirst: fc.boolean(),
    seed: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1, max: 1 }), { minLength: 1, maxLength: 300 }),
    mags: fc.array(fc.constantFrom(0, 1e-38, 1e-30, 1e-12, 1e-6, 1e-3, 1, 37.5, 1e4), { minLength: 6, maxLength: 6 }),
  })
  .map(({ o, inner, outer, axisFirst, seed, mags }) => {
    const dims = axisFirst ? [o, inner] : [outer, o, inner];
    const axis = axisFirst ? 0 : 1;
    const n = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = axisFirst ? Math.floor(i / inner) : Math.floor(i / inner) % o;
      values[i] = seed[i % seed.length]! * mags[c]!;
    }
    return { values, dims, axis };
  });

describe('quantizeWeightPerChannel', () => {
  it('dequantizes within half a step of every weight (property)', () => {
    fc.assert(
      fc.property(weightArb, ({ values, dims, axis }) => {
        const q = quantizeWeightPerChannel({ values, dims }, axis);
        const back = dequantizePerChannel(q);
        const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
        const o = dims[axis]!;
        for (let i = 0; i < values.length; i++) {
          const s = q.scales[Math.floor(i / inner) % o]!;
          // |w - q s| <= s/2 exactly; the float32 product q*s adds at most half an ulp
          // of the result (<= 2^-24 |q s|), so allow s/2 + 2^-24 |w~|.
          const err = Math.abs(values[i]! - back[i]!);
          expect(err).toBeLessThanOrEqual(s / 2 + 2 ** -24 * Math.abs(back[i]!));
          expect(Math.abs(q.data[i]!)).toBeLessThanOrEqual(127);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never makes a zero (or subnormal) scale, even for all-zero channels (property)', () => {
    fc.assert(
      fc.property(weightArb, ({ values, dims, axis }) => {
        const q = quantizeWeightPerChannel({ values, dims }, axis);
        expect(q.scales.length).toBe(dims[axis]);
        for (const s of q.scales) {
          expect(s).toBeGreaterThanOrEqual(Math.fround(SCALE_FLOOR));
          expect(Number.isFinite(1 / s)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same weights give the same bytes (property)', () => {
    fc.assert(
      fc.property(weightArb, ({ values, dims, axis }) => {
        const a = quantizeWeightPerChannel({ values, dims }, axis);
        const b = quantizeWeightPerChannel(TensorData.float32(dims, values.slice()), axis);
        expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
        expect(Buffer.from(a.scales.buffer).equals(Buffer.from(b.scales.buffer))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('uses the full symmetric range: the largest |w| of a channel maps to +-127', () => {
    const q = quantizeWeightPerChannel({ values: Float32Array.of(0.5, -2, 1, 0, 0, 3e-3), dims: [2, 3] }, 0);
    expect([...q.data]).toEqual([32, -127, 64, 0, 0, 127]);
    expect(q.scales[0]).toBeCloseTo(2 / 127, 9);
    // A channel whose BN gamma was ~0: all zeros -> the floor, quantized to 0.
    const z = quantizeWeightPerChannel({ values: new Float32Array(4), dims: [2, 2] }, 0);
    expect([...z.scales]).toEqual([Math.fround(SCALE_FLOOR), Math.fround(SCALE_FLOOR)]);
    expect([...z.data]).toEqual([0, 0, 0, 0]);
  });

  it('refuses an axis outside the tensor and non-finite weights', () => {
    expect(() => quantizeWeightPerChannel({ values: new Float32Array(4), dims: [2, 2] }, 2)).toThrow(/axis 2/);
    expect(() => quantizeWeightPerChannel({ values: Float32Array.of(1, Infinity), dims: [2, 1] }, 0)).toThrow(/non-finite/);
  });
});

describe('activation parameters (uint8 asymmetric, int8 symmetric)', () => {
  const rangeArb = fc
    .tuple(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

  it('uint8: every x in [min(lo,0), max(hi,0)] comes back within half a step; 0 is exact (property)', () => {
    fc.assert(
      fc.property(rangeArb, fc.double({ min: 0, max: 1, noNaN: true }), ([lo, hi], t) => {
        const p = activationParams(lo, hi, 'uint8');
        const rmin = Math.min(lo, 0), rmax = Math.max(hi, 0);
        const x = rmin + t * (rmax - rmin);
        const back = dequantizeAffine(quantizeAffine(x, p), p);
        // Half a step, plus float32 rounding of the dequantized value (2^-24 relative).
        expect(Math.abs(x - back)).toBeLessThanOrEqual(p.scale / 2 + 2 ** -24 * Math.abs(back) + 1e-12);
        expect(dequantizeAffine(quantizeAffine(0, p), p)).toBe(0);
        expect(p.scale).toBeGreaterThan(0);
        expect(p.zeroPoint).toBeGreaterThanOrEqual(0);
        expect(p.zeroPoint).toBeLessThanOrEqual(255);
      }),
      { numRuns: 500 },
    );
  });

  it('int8 symmetric: zero point 0, error within half a step (property)', () => {
    fc.assert(
      fc.property(rangeArb, fc.double({ min: 0, max: 1, noNaN: true }), ([lo, hi], t) => {
        const p = activationParams(lo, hi, 'int8');
        expect(p.zeroPoint).toBe(0);
        const x = lo + t * (hi - lo);
        const back = dequantizeAffine(quantizeAffine(x, p), p);
        expect(Math.abs(x - back)).toBeLessThanOrEqual(p.scale / 2 + 2 ** -24 * Math.abs(back) + 1e-12);
      }),
      { numRuns: 300 },
    );
  });

  it('a constant-zero tensor still gets a non-zero scale', () => {
    const p = activationParams(0, 0);
    expect(p.scale).toBe(Math.fround(SCALE_FLOOR));
    expect(quantizeAffine(0, p)).toBe(p.zeroPoint);
  });
});

describe('round half to even and float16', () => {
  it('rounds ties to even like ONNX QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });

  it('toFloat16 rounds to the nearest float16: within half an ulp (property)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true, min: -60000, max: 60000 }), (x) => {
        const back = fromFloat16(toFloat16([x]))[0]!;
        const e = Math.max(Math.floor(Math.log2(Math.abs(x) || 2 ** -24)), -14);
        const ulp = 2 ** (e - 10); // float16 spacing at |x| (subnormal spacing 2^-24 below 2^-14)
        expect(Math.abs(back - x)).toBeLessThanOrEqual(ulp / 2);
      }),
      { numRuns: 1000 },
    );
    expect(fromFloat16(toFloat16([70000, -70000, 65504]))).toEqual(Float32Array.of(Infinity, -Infinity, 65504));
  });
});
