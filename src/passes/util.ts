/**
 * Small helpers the passes share: float64 reads of constant tensors, casting a
 * float64 result back to a weight's dtype, and a report builder.
 */
import { endianness } from 'node:os';
import { DType, dtypeName } from '../ir/dtype.js';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../ir/float16.js';
import type { Node } from '../ir/node.js';
import { TensorData } from '../ir/tensor.js';
import { UnsupportedError } from '../errors.js';
import type { DetailsOf, PassReport, Skip } from './pass.js';

/** Element types a fold can read and write back. */
export const FOLDABLE_FLOATS: ReadonlySet<number> = new Set([DType.FLOAT, DType.FLOAT16, DType.DOUBLE, DType.BFLOAT16]);

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Values as float64, exactly (float64 tensors are not routed through float32).
 * float32 data is widened by the typed-array constructor (native, about 20x
 * faster than an element loop: a 100 MB weight matters here).
 */
export function readF64(t: TensorData): Float64Array {
  if (LITTLE_ENDIAN && (t.dtype === DType.FLOAT || t.dtype === DType.DOUBLE)) {
    const b = t.rawBytes();
    const width = t.dtype === DType.FLOAT ? 4 : 8;
    // A view needs an aligned offset; otherwise copy the bytes once (rawBytes may alias the file: never written).
    const aligned = b.byteOffset % width === 0 ? b : new Uint8Array(b); // a copy (Buffer.slice would be a view)
    if (t.dtype === DType.FLOAT) return new Float64Array(new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4));
    return new Float64Array(new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8));
  }
  return t.dtype === DType.DOUBLE ? Float64Array.from(t.numbers()) : t.float64();
}

/** Round float64 values to `dtype` (round to nearest even, as Float32Array and the fp16 converter do). */
export function fromF64(dtype: number, dims: readonly number[], values: Float64Array): TensorData {
  switch (dtype) {
    case DType.FLOAT:
      // new Float32Array(float64Array) rounds each value to nearest even, natively.
      return TensorData.float32(dims, new Float32Array(values));
    case DType.DOUBLE: {
      const copy = Float64Array.from(values);
      return TensorData.fromBytes(DType.DOUBLE, dims, new Uint8Array(copy.buffer));
    }
    case DType.FLOAT16: {
      // float64 -> float32 -> float16 rounds twice; the float32 step is exact for
      // every value float16 can represent, and the double rounding can only matter
      // at exact float16 ties (documented in docs/passes.md).
      const bits = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) bits[i] = float32ToFloat16Bits(Math.fround(values[i]!));
      return TensorData.float16Bits(dims, bits);
    }
    case DType.BFLOAT16: {
      const bits = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) bits[i] = float32ToBfloat16Bits(Math.fround(values[i]!));
      return TensorData.fromBytes(DType.BFLOAT16, dims, new Uint8Array(bits.buffer));
    }
    default:
      throw new UnsupportedError('dtype', `cannot write folded values as ${dtypeName(dtype)}`);
  }
}

export function isOnnxDomain(n: Node): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Collects counts and skips; `build` makes the immutable report. */
export class ReportBuilder<N extends string = string> {
  readonly counts: Record<string, number> = {};
  readonly skipped: Skip[] = [];
  constructor(readonly pass: N, keys: readonly string[] = []) {
    for (const k of keys) this.counts[k] = 0;
  }
  add(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
  skip(node: string, reason: string): void {
    this.skipped.push({ node, reason });
  }
  build(changed: boolean, details?: DetailsOf<N>): PassReport<N> {
    return { pass: this.pass, changed, counts: { ...this.counts }, skipped: [...this.skipped], ...(details ? { details } : {}) };
  }
}
