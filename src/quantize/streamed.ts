/**
 * Quantizing a weight one chunk at a time, straight into the output.
 *
 *   float16Of(w)        w16[i] = float16(w[i]) (round to nearest even: float32ToFloat16Bits),
 *                       a lazy tensor computed range by range when written or encoded,
 *                       bit-identical to TensorData.float16Bits(dims, toFloat16(w.float32()));
 *                       with emulate, float32(float16(w[i])) as roundToFloat16 gives
 *   int8PerChannelOf(w, axis)  symmetric per-channel int8 (quantizeWeightPerChannel, bit for
 *                       bit): scales from one chunked pass, the int8 tensor lazy
 *   absMaxOf(w)         max |w[i]| in one chunked pass, remembered per tensor (the fp16
 *                       overflow check runs once per conversion, and conversions repeat
 *                       during the sensitivity pass)
 *
 * The float32 source may itself be lazy (a weight left in the model file, or a
 * folded weight): the chain file -> fold -> float16 -> output is then computed
 * through a few reused scratch buffers and no whole copy of the weight exists.
 */
import { DType } from '../ir/dtype.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../ir/float16.js';
import { withScratch } from '../ir/scratch.js';
import { CHUNK_BYTES, TensorData } from '../ir/tensor.js';
import { absMax, INT8_QMAX, quantizeWeightPerChannel, roundHalfEven, roundToFloat16, SCALE_FLOOR, toFloat16 } from './schemes.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float16 bits of a float32 tensor (or, emulate, the float32 values rounded through float16), computed when read. */
export function float16Of(src: TensorData, emulate: boolean): TensorData {
  if (src.dtype !== DType.FLOAT || !LITTLE_ENDIAN) {
    const f = src.float32();
    return emulate ? TensorData.float32(src.dims, roundToFloat16(f)) : TensorData.float16Bits(src.dims, toFloat16(f));
  }
  const outBytes = emulate ? 4 : 2;
  return TensorData.computed(emulate ? DType.FLOAT : DType.FLOAT16, src.dims, {
    readInto(byteOffset, out) {
      const first = byteOffset / outBytes;
      const n = out.byteLength / outBytes;
      const step = CHUNK_BYTES / 4; // elements per source chunk
      for (let done = 0; done < n; done += step) {
        const k = Math.min(step, n - done);
        withScratch(k * 4, (inBuf) => {
          src.readInto((first + done) * 4, inBuf);
          const f = new Float32Array(inBuf.buffer, inBuf.byteOffset, k);
          withScratch(k * outBytes, (outBuf) => {
            if (emulate) {
              const o = new Float32Array(outBuf.buffer, outBuf.byteOffset, k);
              for (let i = 0; i < k; i++) o[i] = float16BitsToFloat32(float32ToFloat16Bits(f[i]!));
            } else {
              const o = new Uint16Array(outBuf.buffer, outBuf.byteOffset, k);
              for (let i = 0; i < k; i++) o[i] = float32ToFloat16Bits(f[i]!);
            }
            out.set(outBuf, done * outBytes);
          });
        });
      }
    },
  });
}

const maxima = new WeakMap<TensorData, number>();

/** Largest |x| of a tensor, read chunk by chunk (0 for an empty one). */
export function absMaxOf(t: TensorData): number {
  const hit = maxima.get(t);
  if (hit !== undefined) return hit;
  let m = 0;
  if (t.dtype === DType.FLOAT && LITTLE_ENDIAN) {
    withScratch(Math.min(CHUNK_BYTES, t.byteLength), (scratch) => {
      t.chunks((c) => {
        const aligned = c.byteOffset % 4 === 0 ? c : scratch.subarray(0, c.byteLength);
        if (aligned !== c) aligned.set(c);
        const f = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
        for (let i = 0; i < f.length; i++) {
          const a = Math.abs(f[i]!);
          if (a > m) m = a;
        }
      }, CHUNK_BYTES, scratch);
    });
  } else m = absMax(t.float32());
  maxima.set(t, m);
  return m;
}

export interface LazyPerChannelInt8 {
  /** int8 [dims], computed when read. */
  readonly data: TensorData;
  readonly scales: Float32Array;
  readonly axis: number;
  readonly dims: readonly number[];
}

const scaleCache = new WeakMap<TensorData, Map<number, Float32Array>>();

/**
 * Symmetric int8 per output channel (as quantizeWeightPerChannel in schemes.ts,
 * bit for bit): one chunked pass for the per-channel max |w| (remembered per
 * tensor and axis), then q[e] = clamp(roundHalfEven(w[e] / s[c(e)]), -127, 127)
 * computed range by range when the int8 tensor is read;
 * c(e) = floor(e / inner) % channels for the [outer, channels, inner] view.
 */
export function int8PerChannelOf(src: TensorData, axis: number): LazyPerChannelInt8 {
  const dims = src.dims;
  if (!Number.isInteger(axis) || axis < 0 || axis >= dims.length) throw new RangeError(`axis ${axis} is out of range for a tensor of rank ${dims.length}`);
  if (src.dtype !== DType.FLOAT || !LITTLE_ENDIAN) {
    const q = quantizeWeightPerChannel(src, axis);
    return { data: TensorData.int8(q.dims, q.data), scales: q.scales, axis, dims: q.dims };
  }
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
  const channels = dims[axis]!;
  let byAxis = scaleCache.get(src);
  if (!byAxis) scaleCache.set(src, (byAxis = new Map()));
  let scales = byAxis.get(axis);
  if (!scales) {
    const absMax = new Float64Array(channels);
    withScratch(Math.min(CHUNK_BYTES, src.byteLength), (scratch) => {
      src.chunks((c, at) => {
        const aligned = c.byteOffset % 4 === 0 ? c : scratch.subarray(0, c.byteLength);
        if (aligned !== c) aligned.set(c);
        const f = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
        const first = at / 4;
        let ch = Math.floor(first / inner) % channels, left = inner - (first % inner);
        let m = absMax[ch]!;
        for (let i = 0; i < f.length; i++) {
          const a = Math.abs(f[i]!);
          if (a > m) m = a;
          if (--left === 0) {
            absMax[ch] = m;
            ch = (ch + 1) % channels;
            left = inner;
            m = absMax[ch]!;
          }
        }
        absMax[ch] = m;
      }, CHUNK_BYTES, scratch);
    });
    for (let c = 0; c < channels; c++) {
      if (!Number.isFinite(absMax[c]!)) throw new RangeError(`channel ${c} has a non-finite weight; cannot quantize`);
    }
    scales = new Float32Array(channels);
    for (let c = 0; c < channels; c++) scales[c] = Math.max(absMax[c]! / INT8_QMAX, SCALE_FLOOR);
    byAxis.set(axis, scales);
  }
  const s = scales;
  const data = TensorData.computed(DType.INT8, dims, {
    readInto(first, out) {
      const step = CHUNK_BYTES / 4;
      for (let done = 0; done < out.byteLength; done += step) {
        const k = Math.min(step, out.byteLength - done);
        withScratch(k * 4, (inBuf) => {
          src.readInto((first + done) * 4, inBuf);
          const f = new Float32Array(inBuf.buffer, inBuf.byteOffset, k);
          const e0 = first + done;
          let ch = Math.floor(e0 / inner) % channels, left = inner - (e0 % inner);
          let sc = s[ch]!;
          for (let i = 0; i < k; i++) {
            const q = roundHalfEven(f[i]! / sc);
            out[done + i] = (q > INT8_QMAX ? INT8_QMAX : q < -INT8_QMAX ? -INT8_QMAX : q) & 0xff;
            if (--left === 0) {
              ch = (ch + 1) % channels;
              left = inner;
              sc = s[ch]!;
            }
          }
        });
      }
    },
  });
  return { data, scales: s, axis, dims: [...dims] };
}
