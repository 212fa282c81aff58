/**
 * Quantization schemes, shared by every target (ONNX here; tfjs and WebGPU
 * reuse the same functions so all bundles round weights identically).
 *
 * Weights: symmetric int8, one scale per output channel c:
 *     s_c = max(max_i |W[c,i]| / 127, SCALE_FLOOR)     (stored as float32)
 *     q   = clamp(round(W / s_c), -127, 127)            (round half to even)
 *     W~  = q * s_c
 * Because |W[c,i]| <= 127 s_c, the clamp never bites and |W - W~| <= s_c / 2
 * (half a step) in exact arithmetic; the float32 product q * s_c adds at most
 * half an ulp of W~. -128 is never used, so the range is symmetric and the
 * zero point is 0 (what ONNX QLinearConv / ORT's u8s8 kernels and WGSL
 * unpacking expect).
 *
 * SCALE_FLOOR keeps every scale non-zero and normal: a channel whose weights
 * are all (near) zero, e.g. after folding a batch norm whose gamma is ~0,
 * would otherwise get s_c = 0 and 0/0 = NaN on quantization and a division by
 * zero in any runtime computing 1/s_c. 1e-12 is far below any weight that
 * changes a float32 sum of O(1) activations (their ulp is ~1e-7), and 1/1e-12
 * is finite in float32.
 *
 * Activations (static QDQ): affine per tensor over a calibrated range [lo, hi],
 * widened to contain 0 so that zero (padding, ReLU) is exact:
 *     uint8: rmin = min(lo, 0), rmax = max(hi, 0), s = (rmax - rmin) / 255,
 *            z = clamp(round(-rmin / s), 0, 255)
 *     int8:  symmetric, s = max(|lo|, |hi|) / 127, z = 0
 *     q = clamp(round(x / s) + z, qmin, qmax),  x~ = (q - z) * s
 * For x in [rmin, rmax] the error is at most s/2: rounding z shifts the grid
 * by at most s/2, so each end of the range stays within s/2 of the nearest
 * grid point (the property tests check this).
 *
 * float16: IEEE binary16 bits (Uint16Array), round to nearest even, overflow
 * to +-Inf above 65504 (src/ir/float16.ts).
 */
import { TensorData } from '../ir/tensor.js';
import { fromFloat16Bits, toFloat16Bits } from '../ir/float16.js';

export const INT8_QMAX = 127;
export const SCALE_FLOOR = 1e-12;
/** Largest finite float16. */
export const FLOAT16_MAX = 65504;

export interface PerChannelInt8 {
  /** Quantized values, same layout (and dims) as the float weight. */
  readonly data: Int8Array;
  /** One float32 scale per channel along `axis` (dims[axis] of them), never zero. */
  readonly scales: Float32Array;
  readonly axis: number;
  readonly dims: readonly number[];
}

export interface FloatTensor {
  readonly values: Float32Array;
  readonly dims: readonly number[];
}

function asFloat(t: TensorData | FloatTensor): FloatTensor {
  return t instanceof TensorData ? { values: t.float32(), dims: t.dims } : t;
}

/** Strides of the [outer, channel, inner] view of a tensor around `axis`. */
function channelView(dims: readonly number[], axis: number): { outer: number; channels: number; inner: number } {
  if (!Number.isInteger(axis) || axis < 0 || axis >= dims.length) throw new RangeError(`axis ${axis} is out of range for a tensor of rank ${dims.length}`);
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i]!;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
  return { outer, channels: dims[axis]!, inner };
}

/** Round half to even (what ONNX QuantizeLinear and numpy.round do). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Symmetric int8 per output channel: `axis` is the output-channel axis
 * (Conv weight [O, I, kh, kw]: 0; Gemm with transB=1 [O, I]: 0; MatMul [I, O]: 1).
 */
export function quantizeWeightPerChannel(tensor: TensorData | FloatTensor, axis: number): PerChannelInt8 {
  const { values, dims } = asFloat(tensor);
  const { outer, channels, inner } = channelView(dims, axis);
  const absMax = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = absMax[c]!;
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(values[base + i]!);
        if (a > m) m = a;
      }
      absMax[c] = m;
    }
  }
  for (let c = 0; c < channels; c++) {
    if (!Number.isFinite(absMax[c]!)) throw new RangeError(`channel ${c} has a non-finite weight; cannot quantize`);
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = Math.max(absMax[c]! / INT8_QMAX, SCALE_FLOOR);
  const data = new Int8Array(values.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = scales[c]!; // the float32 scale actually stored
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const q = roundHalfEven(values[base + i]! / s);
        data[base + i] = q > INT8_QMAX ? INT8_QMAX : q < -INT8_QMAX ? -INT8_QMAX : q;
      }
    }
  }
  return { data, scales, axis, dims: [...dims] };
}

/** W~ = q * s_c, in float32 (what DequantizeLinear computes). */
export function dequantizePerChannel(q: PerChannelInt8): Float32Array {
  const { outer, channels, inner } = channelView(q.dims, q.axis);
  const out = new Float32Array(q.data.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = q.scales[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = q.data[base + i]! * s;
    }
  }
  return out;
}

export type ActivationType = 'uint8' | 'int8';

export interface AffineParams {
  /** float32 scale, never zero. */
  readonly scale: number;
  readonly zeroPoint: number;
  readonly type: ActivationType;
}

export function qRange(type: ActivationType): { qmin: number; qmax: number } {
  return type === 'uint8' ? { qmin: 0, qmax: 255 } : { qmin: -127, qmax: 127 };
}

/** Per-tensor affine parameters for a calibrated range [lo, hi] (see the header). */
export function activationParams(lo: number, hi: number, type: ActivationType = 'uint8'): AffineParams {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new RangeError(`invalid activation range [${lo}, ${hi}]`);
  if (type === 'int8') {
    const scale = Math.fround(Math.max(Math.max(Math.abs(lo), Math.abs(hi)) / 127, SCALE_FLOOR));
    return { scale, zeroPoint: 0, type };
  }
  const rmin = Math.min(lo, 0), rmax = Math.max(hi, 0);
  const scale = Math.fround(Math.max((rmax - rmin) / 255, SCALE_FLOOR));
  const z = roundHalfEven(-rmin / scale);
  return { scale, zeroPoint: Math.min(255, Math.max(0, z)), type };
}

export function quantizeAffine(x: number, p: AffineParams): number {
  const { qmin, qmax } = qRange(p.type);
  const q = roundHalfEven(x / p.scale) + p.zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

export function dequantizeAffine(q: number, p: AffineParams): number {
  return Math.fround((q - p.zeroPoint) * p.scale);
}

/**
 * float32 values -> float16 bits (round to nearest even; |x| > 65504 becomes +-Inf)
 * and back (exact): src/ir/float16.ts owns the conversion; these are its names in the
 * quantization API.
 */
export { toFloat16Bits as toFloat16, fromFloat16Bits as fromFloat16 } from '../ir/float16.js';

/** Values rounded through float16 and back (for emulating float16 storage in float32). */
export function roundToFloat16(values: ArrayLike<number>): Float32Array {
  return fromFloat16Bits(toFloat16Bits(values));
}

/** Largest |x| of a tensor (0 for an empty one). */
export function absMax(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (a > m) m = a;
  }
  return m;
}
