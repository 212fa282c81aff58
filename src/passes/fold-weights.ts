/**
 * The weight arithmetic of fold-batchnorm, chunk by chunk.
 *
 * Every fold rescales a weight element-wise by a per-channel factor:
 *     w'[e] = w[e] * s[floor(e / inner) % period]
 * (conv-bn and gemm-bn with transB: one factor per row of `inner` elements,
 * inner = elements per output channel; gemm-bn without transB and MatMul: one
 * per column, inner = 1, period = columns; bn-flatten-gemm and bn-conv: the
 * factor of the input channel the element reads). Each element is widened
 * exactly to float64, multiplied once in float64 and rounded once to the
 * weight's dtype (round to nearest even), which is exactly what the
 * whole-tensor version (readF64, multiply, fromF64) computes: the result is
 * bit-identical whatever the chunking.
 *
 * `scaledWeight` returns a lazy (computed) tensor: nothing is read or computed
 * until a writer or a target asks for a byte range, and then only that range
 * of the source is read, through a reused scratch buffer; a weight folded
 * twice (BN before and after a Gemm) chains two such maps. A fold that also
 * needs a sum over the weight (the bias shift of bn-flatten-gemm and bn-conv)
 * walks the source once with `visitWeight`: chunk by chunk in memory order,
 * `visit(first, values)` with each chunk's values widened to float64 (the sums
 * are taken in the same order as the whole-tensor loops, so they are identical
 * too); the scaled weight stays lazy. That reads such a weight twice from the
 * page cache (once for the sum, once when written), which is far cheaper than
 * holding its scaled copy: measured on the iresnet-100 fc weight (51 MB,
 * 25088x512), the eager one-pass version spent ~0.7 s faulting in the fresh
 * 51 MB buffer, the second chunked read ~0.05 s.
 */
import { DType, dtypeInfo, dtypeName } from '../ir/dtype.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits } from '../ir/float16.js';
import { withScratch } from '../ir/scratch.js';
import { CHUNK_BYTES, TensorData } from '../ir/tensor.js';
import { UnsupportedError } from '../errors.js';

/** Which factor scales element e: s[floor(e / inner) % period]. */
export interface ElementScale {
  readonly s: Float64Array;
  readonly inner: number;
  readonly period: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** w' = w * s(e), computed when read (see the module comment). */
export function scaledWeight(src: TensorData, scale: ElementScale): TensorData {
  const es = elementBytes(src.dtype);
  return TensorData.computed(src.dtype, src.dims, {
    readInto(byteOffset, out) {
      for (let done = 0; done < out.byteLength; done += CHUNK_BYTES) {
        const len = Math.min(CHUNK_BYTES, out.byteLength - done);
        withScratch(len, (buf) => {
          src.readInto(byteOffset + done, buf);
          scaleInPlace(src.dtype, buf, (byteOffset + done) / es, scale);
          out.set(buf, done);
        });
      }
    },
  });
}

/**
 * Walk w once in memory order, calling visit(first, values) for each chunk:
 * values[i] is element first + i widened to float64 (a reused array: read it
 * during the call only).
 */
export function visitWeight(src: TensorData, visit: (first: number, values: Float64Array) => void): void {
  const es = elementBytes(src.dtype);
  const chunk = CHUNK_BYTES;
  withScratch(Math.min(chunk, src.byteLength), (scratch) => {
    withScratch((Math.min(chunk, src.byteLength) / es) * 8, (wideBytes) => {
      const wide = new Float64Array(wideBytes.buffer, wideBytes.byteOffset, wideBytes.byteLength / 8);
      src.chunks((c, at) => {
        const n = c.byteLength / es;
        const vals = wide.subarray(0, n);
        if (src.dtype === DType.FLOAT && LITTLE_ENDIAN && c.byteOffset % 4 === 0) vals.set(new Float32Array(c.buffer, c.byteOffset, n));
        else {
          const r = reader(src.dtype, c);
          for (let i = 0; i < n; i++) vals[i] = r.get(i);
        }
        visit(at / es, vals);
      }, chunk, scratch);
    });
  });
}

function elementBytes(dtype: number): number {
  const b = dtypeInfo(dtype).bytes;
  if (dtype !== DType.FLOAT && dtype !== DType.DOUBLE && dtype !== DType.FLOAT16 && dtype !== DType.BFLOAT16) {
    throw new UnsupportedError('dtype', `cannot fold into a ${dtypeName(dtype)} weight`);
  }
  return b;
}

/** Scale the elements in `buf` (element `first` of the tensor at buf[0]) in place. */
function scaleInPlace(dtype: number, buf: Uint8Array, first: number, { s, inner, period }: ElementScale): void {
  let idx = Math.floor(first / inner);
  let left = inner - (first % inner);
  let sc = s[idx % period]!;
  if (dtype === DType.FLOAT && LITTLE_ENDIAN && buf.byteOffset % 4 === 0) {
    // float32 * float64 in float64, rounded to nearest even by the store: as new Float32Array(f64).
    const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    for (let i = 0; i < f.length; i++) {
      f[i] = f[i]! * sc;
      if (--left === 0) {
        idx++;
        left = inner;
        sc = s[idx % period]!;
      }
    }
    return;
  }
  const r = reader(dtype, buf);
  const w = writer(dtype, buf);
  for (let i = 0; i < r.count; i++) {
    w(i, r.get(i) * sc);
    if (--left === 0) {
      idx++;
      left = inner;
      sc = s[idx % period]!;
    }
  }
}

interface Reader {
  readonly count: number;
  get(i: number): number;
}

function reader(dtype: number, buf: Uint8Array): Reader {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (dtype) {
    case DType.FLOAT: return { count: buf.byteLength / 4, get: (i) => dv.getFloat32(i * 4, true) };
    case DType.DOUBLE: return { count: buf.byteLength / 8, get: (i) => dv.getFloat64(i * 8, true) };
    case DType.FLOAT16: return { count: buf.byteLength / 2, get: (i) => float16BitsToFloat32(dv.getUint16(i * 2, true)) };
    case DType.BFLOAT16: return { count: buf.byteLength / 2, get: (i) => bfloat16BitsToFloat32(dv.getUint16(i * 2, true)) };
    default: throw new UnsupportedError('dtype', `cannot fold into a ${dtypeName(dtype)} weight`);
  }
}

/** Round a float64 to `dtype` and store it (as fromF64 in util.ts rounds). */
function writer(dtype: number, buf: Uint8Array): (i: number, v: number) => void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (dtype) {
    case DType.FLOAT: return (i, v) => dv.setFloat32(i * 4, v, true);
    case DType.DOUBLE: return (i, v) => dv.setFloat64(i * 8, v, true);
    case DType.FLOAT16: return (i, v) => dv.setUint16(i * 2, float32ToFloat16Bits(Math.fround(v)), true);
    case DType.BFLOAT16: return (i, v) => dv.setUint16(i * 2, float32ToBfloat16Bits(Math.fround(v)), true);
    default: throw new UnsupportedError('dtype', `cannot fold into a ${dtypeName(dtype)} weight`);
  }
}
