/**
 * Weight packing: a matrix [rows][cols] becomes rows of quads (4 consecutive
 * columns per quad, each row zero-padded to a multiple of 4 columns), stored as
 *   f32:  4 x float32 per quad
 *   f16:  4 x binary16 per quad (round to nearest even; the same bytes serve
 *         array<vec4<f16>> and array<vec2<u32>> + unpack2x16float)
 *   int8: 4 x int8 per quad (one u32 word, first column in the low byte).
 * int8 is symmetric per output channel, by src/quantize/schemes.ts (shared by all targets):
 *   s[o] = max(max_i |w[o, i]| / 127, 1e-12),
 *   q = clamp(round_half_even(w / s[o]), -127, 127),  w ~= q * s[o],  |w - q s| <= s / 2.
 * The output channel is a column (conv: B[k][co]) or a row (fc, grouped conv).
 */
import { float32ToFloat16Bits } from '../../ir/float16.js';
import { UnsupportedError } from '../../errors.js';
import { quantizeWeightPerChannel } from '../../quantize/schemes.js';

export type WeightDType = 'f32' | 'f16' | 'i8';

export interface Packed {
  readonly bytes: Uint8Array;
  readonly dtype: WeightDType;
  /** Rows x padded columns. */
  readonly shape: readonly [number, number];
  /** int8 only: per output channel scale. */
  readonly scales: Float32Array | null;
}

/**
 * Pack `get(r, c)` for r < rows, c < cols. `channelAxis` says which axis is the
 * output channel (for int8 scales); `padRows` pads the row count too (fc: rows are
 * outputs read four at a time).
 */
export function packQuads(
  rows: number,
  cols: number,
  get: (r: number, c: number) => number,
  dtype: WeightDType,
  channelAxis: 'rows' | 'cols',
  what: string,
  padRows = 1,
): Packed {
  const colsP = Math.ceil(cols / 4) * 4;
  const rowsP = Math.ceil(rows / padRows) * padRows;
  const n = rowsP * colsP;
  const m = new Float32Array(n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r * colsP + c] = get(r, c);
  switch (dtype) {
    case 'f32':
      return { bytes: new Uint8Array(m.buffer), dtype, shape: [rowsP, colsP], scales: null };
    case 'f16': {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const x = m[i]!;
        if (Math.abs(x) > 65504) {
          throw new UnsupportedError('fp16-range', `${what}: weight ${x} does not fit in float16 (max 65504)`, 'export this model with --precision fp32');
        }
        h[i] = float32ToFloat16Bits(x);
      }
      return { bytes: new Uint8Array(h.buffer), dtype, shape: [rowsP, colsP], scales: null };
    }
    case 'i8': {
      // The quantization module's scheme (src/quantize/schemes.ts), so every target rounds alike;
      // padded channels are all zero and get the scale floor with q = 0.
      const q = quantizeWeightPerChannel({ values: m, dims: [rowsP, colsP] }, channelAxis === 'rows' ? 0 : 1);
      return { bytes: new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength), dtype, shape: [rowsP, colsP], scales: q.scales };
    }
  }
}
