import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TensorData } from '../../src/ir/tensor.js';
import { DType } from '../../src/ir/dtype.js';
import { float16BitsToFloat32, float32ToFloat16Bits, float32ToBfloat16Bits, bfloat16BitsToFloat32 } from '../../src/ir/float16.js';

describe('TensorData', () => {
  it('reads float32 and int64 values and checks sizes', () => {
    const t = TensorData.float32([2, 2], [1, -2, 3.5, 4]);
    expect([...t.float32()]).toEqual([1, -2, 3.5, 4]);
    expect(t.byteLength).toBe(16);
    const i = TensorData.int64([3], [1n, -1n, 9007199254740993n]);
    expect([...i.bigints()]).toEqual([1n, -1n, 9007199254740993n]);
    // Out-of-range int64 (e.g. INT64_MAX in Slice ends) clamps instead of wrapping.
    expect(TensorData.int64([1], [9223372036854775807n]).numbers()[0]).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => TensorData.fromBytes(DType.FLOAT, [3], new Uint8Array(8))).toThrow(/needs 12 bytes/);
  });

  it('reads typed fields for every integer type', () => {
    for (const [dtype, vals] of [
      [DType.INT8, [-128, 0, 127]],
      [DType.UINT8, [0, 1, 255]],
      [DType.INT16, [-32768, 5, 32767]],
      [DType.UINT16, [0, 65535, 7]],
      [DType.INT32, [-2147483648, 0, 2147483647]],
      [DType.BOOL, [1, 0, 1]],
    ] as const) {
      const t = new TensorData(dtype, [3], { kind: 'typed', values: vals });
      expect(t.numbers()).toEqual(vals);
    }
  });

  it('float16 bits round-trip every finite half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >> 10) & 0x1f;
      if (exp === 0x1f) continue; // Inf/NaN handled below
      expect(float32ToFloat16Bits(float16BitsToFloat32(h))).toBe(h);
    }
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(70000)).toBe(0x7c00); // overflow -> Inf
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
  });

  it('float32 -> float16 rounds to the nearest half (error at most half an ulp)', () => {
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const y = float16BitsToFloat32(float32ToFloat16Bits(x));
        const ax = Math.abs(x);
        // ulp of half at |x|: 2^(e-10) for normals, 2^-24 for subnormals.
        const ulp = ax < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(ax)) - 10);
        return Math.abs(y - x) <= ulp / 2 + 1e-30;
      }),
      { numRuns: 2000 },
    );
  });

  it('bfloat16 keeps the top 16 bits with round to nearest even', () => {
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(1))).toBe(1);
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(-2.5))).toBe(-2.5);
    fc.assert(
      fc.property(fc.float({ min: Math.fround(-1e30), max: Math.fround(1e30), noNaN: true }), (x) => {
        const y = bfloat16BitsToFloat32(float32ToBfloat16Bits(x));
        // bfloat16 keeps 8 significant bits: half an ulp is at most 2^-8 of |x|.
        return Math.abs(y - x) <= Math.abs(x) * 2 ** -8 + 1e-38;
      }),
    );
  });
});
