/**
 * Constant tensor data with lazy, copy-free access.
 *
 * A tensor's bytes live in one of these places:
 *  - `bytes`: a view into the loaded model file (raw_data) or a buffer a pass made;
 *  - `external`: a byte range of an external data file, read only when asked for;
 *  - `file`: the raw_data of a large tensor, left in the .onnx file and read
 *    only when asked for (so loading a 1.5 GB model allocates almost nothing);
 *  - `computed`: bytes a pass defines as a function of other tensors (a folded
 *    weight: w'[i] = w[i] * s(i)), computed range by range when read, so a
 *    writer streams them from the source file to the output through a small
 *    buffer and the whole result never exists in memory;
 *  - `typed`: ONNX's typed repeated fields (float_data, int64_data, ...);
 *  - `strings`: string_data.
 * Nothing is copied on load: a 1 GB class-weight head costs nothing until read,
 * and is never read when the head is stripped. Accessors return fresh arrays
 * (safe to modify) except `rawBytes`, whose result must be treated as read-only
 * because it may alias the model file. `readInto(offset, out)` reads any byte
 * range without materializing the rest (a file range, or that range computed),
 * and `chunks` walks the bytes in order through one reused buffer.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { DType, byteLengthOf, dtypeInfo, dtypeName } from './dtype.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from './float16.js';
import { InputError, UnsupportedError } from '../errors.js';
import { withScratch } from './scratch.js';

export interface ExternalLocation {
  /** Absolute, already validated path of the data file. */
  readonly file: string;
  /** As written in the model (relative to the model's folder). */
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

export type TensorSource =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'external'; readonly ext: ExternalLocation }
  /** raw_data left in the .onnx file itself, read when first needed (large models). */
  | { readonly kind: 'file'; readonly ext: ExternalLocation }
  /** Bytes computed on demand from other tensors (see ComputedBytes). */
  | { readonly kind: 'computed'; readonly computed: ComputedBytes }
  | { readonly kind: 'typed'; readonly values: ArrayLike<number> | readonly bigint[] }
  | { readonly kind: 'strings'; readonly strings: readonly Uint8Array[] };

/**
 * A tensor whose bytes are a function of other tensors, computed for any byte
 * range on request. Ranges asked for start and end on element boundaries.
 */
export interface ComputedBytes {
  /** Fill `out` with the bytes [byteOffset, byteOffset + out.byteLength) of the tensor. */
  readInto(byteOffset: number, out: Uint8Array): void;
}

/** Bytes per chunk for streamed reads and writes (a multiple of every element size). */
export const CHUNK_BYTES = 1 << 20;

export class TensorData {
  readonly dtype: number;
  readonly dims: readonly number[];
  readonly source: TensorSource;
  private cache: WeakRef<Uint8Array> | undefined;

  constructor(dtype: number, dims: readonly number[], source: TensorSource) {
    this.dtype = dtype;
    this.dims = Object.freeze([...dims]);
    this.source = source;
  }

  get size(): number {
    return this.dims.reduce((a, b) => a * b, 1);
  }

  /** Bytes this tensor takes as raw data (0 for strings). */
  get byteLength(): number {
    if (this.dtype === DType.STRING) return 0;
    return byteLengthOf(this.dtype, this.size);
  }

  get isExternal(): boolean {
    return this.source.kind === 'external';
  }

  // ---- constructors -------------------------------------------------------

  static fromBytes(dtype: number, dims: readonly number[], bytes: Uint8Array): TensorData {
    const want = byteLengthOf(dtype, dims.reduce((a, b) => a * b, 1));
    if (bytes.byteLength !== want) {
      throw new InputError('tensor-size', `tensor of ${dtypeName(dtype)}[${dims.join(',')}] needs ${want} bytes, got ${bytes.byteLength}`);
    }
    return new TensorData(dtype, dims, { kind: 'bytes', bytes });
  }

  static float32(dims: readonly number[], values: ArrayLike<number>): TensorData {
    const arr = values instanceof Float32Array ? values : Float32Array.from(values);
    return TensorData.fromBytes(DType.FLOAT, dims, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  }

  static int64(dims: readonly number[], values: ArrayLike<number | bigint>): TensorData {
    const arr = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) arr[i] = BigInt(values[i]!);
    return TensorData.fromBytes(DType.INT64, dims, new Uint8Array(arr.buffer));
  }

  static int32(dims: readonly number[], values: ArrayLike<number>): TensorData {
    const arr = Int32Array.from(values);
    return TensorData.fromBytes(DType.INT32, dims, new Uint8Array(arr.buffer));
  }

  static float16Bits(dims: readonly number[], bits: Uint16Array): TensorData {
    return TensorData.fromBytes(DType.FLOAT16, dims, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  }

  static int8(dims: readonly number[], values: Int8Array): TensorData {
    return TensorData.fromBytes(DType.INT8, dims, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  /** A tensor computed range by range when read (a pass's lazy result). */
  static computed(dtype: number, dims: readonly number[], computed: ComputedBytes): TensorData {
    if (dtype === DType.STRING) throw new UnsupportedError('dtype', 'string tensors cannot be computed');
    return new TensorData(dtype, dims, { kind: 'computed', computed });
  }

  // ---- access -------------------------------------------------------------

  /**
   * Little-endian raw bytes. May alias the model file or a pass's buffer:
   * never write into the result.
   */
  rawBytes(): Uint8Array {
    const s = this.source;
    switch (s.kind) {
      case 'bytes':
        return s.bytes;
      case 'external':
      case 'file': {
        // Passes often read a tensor several times (digest, fold, write): keep
        // the bytes while anyone still holds them, without pinning them.
        const hit = this.cache?.deref();
        if (hit) return hit;
        const bytes = readExternal(s.ext);
        this.cache = new WeakRef(bytes);
        return bytes;
      }
      case 'computed': {
        const hit = this.cache?.deref();
        if (hit) return hit;
        const bytes = new Uint8Array(this.byteLength);
        for (let at = 0; at < bytes.byteLength; at += CHUNK_BYTES) s.computed.readInto(at, bytes.subarray(at, Math.min(at + CHUNK_BYTES, bytes.byteLength)));
        this.cache = new WeakRef(bytes);
        return bytes;
      }
      case 'typed':
        return typedToBytes(this.dtype, this.size, s.values);
      case 'strings':
        throw new UnsupportedError('dtype', 'string tensors have no raw bytes');
    }
  }

  /**
   * Copy the bytes [byteOffset, byteOffset + out.byteLength) into `out`, reading
   * (or computing) only that range. A range ending past the tensor is refused.
   */
  readInto(byteOffset: number, out: Uint8Array): void {
    const s = this.source;
    if (byteOffset < 0 || byteOffset + out.byteLength > this.byteLength) {
      throw new RangeError(`bytes ${byteOffset}..${byteOffset + out.byteLength} are outside the tensor's ${this.byteLength}`);
    }
    const hit = this.cache?.deref();
    if (hit) {
      out.set(hit.subarray(byteOffset, byteOffset + out.byteLength));
      return;
    }
    switch (s.kind) {
      case 'external':
      case 'file':
        readRange(s.ext, byteOffset, out);
        return;
      case 'computed':
        s.computed.readInto(byteOffset, out);
        return;
      default:
        out.set(this.rawBytes().subarray(byteOffset, byteOffset + out.byteLength));
    }
  }

  /**
   * Walk the bytes in order, `chunkBytes` at a time (the last chunk shorter),
   * through one buffer: `each` must use or copy a chunk before returning.
   * In-memory bytes are handed over as views, without a copy.
   */
  chunks(each: (chunk: Uint8Array, byteOffset: number) => void, chunkBytes = CHUNK_BYTES, scratch?: Uint8Array): void {
    const n = this.byteLength;
    const s = this.source;
    const hit = this.cache?.deref();
    const mem = hit ?? (s.kind === 'bytes' || s.kind === 'typed' ? this.rawBytes() : undefined);
    if (mem) {
      for (let at = 0; at < n; at += chunkBytes) each(mem.subarray(at, Math.min(at + chunkBytes, n)), at);
      return;
    }
    const buf = scratch && scratch.byteLength >= Math.min(chunkBytes, n) ? scratch : new Uint8Array(Math.min(chunkBytes, n));
    for (let at = 0; at < n; at += chunkBytes) {
      const part = buf.subarray(0, Math.min(chunkBytes, n - at));
      this.readInto(at, part);
      each(part, at);
    }
  }

  strings(): readonly Uint8Array[] {
    if (this.source.kind !== 'strings') throw new UnsupportedError('dtype', `tensor is ${dtypeName(this.dtype)}, not string`);
    return this.source.strings;
  }

  /** A fresh Float32Array of the values (float16, bfloat16 and float64 are converted). */
  float32(): Float32Array {
    const b = this.rawBytes();
    const n = this.size;
    if (this.dtype === DType.FLOAT && LITTLE_ENDIAN) {
      // One memcpy into a fresh buffer, then a typed view (raw_data is little-endian).
      const copy = new Uint8Array(n * 4);
      copy.set(b.subarray(0, n * 4));
      return new Float32Array(copy.buffer);
    }
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out = new Float32Array(n);
    switch (this.dtype) {
      case DType.FLOAT:
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
        return out;
      case DType.FLOAT16:
        for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(dv.getUint16(i * 2, true));
        return out;
      case DType.BFLOAT16:
        for (let i = 0; i < n; i++) out[i] = bfloat16BitsToFloat32(dv.getUint16(i * 2, true));
        return out;
      case DType.DOUBLE:
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
        return out;
      default:
        return Float32Array.from(this.numbers());
    }
  }

  /** A fresh Float64Array (used where folding arithmetic must be done in float64). */
  float64(): Float64Array {
    return Float64Array.from(this.float32());
  }

  /** A fresh BigInt64Array of integer values. */
  bigints(): BigInt64Array {
    const b = this.rawBytes();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const n = this.size;
    const out = new BigInt64Array(n);
    switch (this.dtype) {
      case DType.INT64:
        for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(i * 8, true);
        return out;
      case DType.UINT64:
        for (let i = 0; i < n; i++) out[i] = BigInt.asIntN(64, dv.getBigUint64(i * 8, true));
        return out;
      default: {
        const nums = this.numbers();
        for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(nums[i]!));
        return out;
      }
    }
  }

  /**
   * Values as JavaScript numbers. For int64 this checks each value is a safe
   * integer, so shape constants can be used as numbers without silent loss.
   */
  numbers(): number[] {
    const b = this.rawBytes();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const n = this.size;
    const out: number[] = new Array(n);
    const info = dtypeInfo(this.dtype);
    for (let i = 0; i < n; i++) {
      switch (this.dtype) {
        case DType.FLOAT: out[i] = dv.getFloat32(i * 4, true); break;
        case DType.DOUBLE: out[i] = dv.getFloat64(i * 8, true); break;
        case DType.FLOAT16: out[i] = float16BitsToFloat32(dv.getUint16(i * 2, true)); break;
        case DType.BFLOAT16: out[i] = bfloat16BitsToFloat32(dv.getUint16(i * 2, true)); break;
        case DType.INT8: out[i] = dv.getInt8(i); break;
        case DType.UINT8: case DType.BOOL: out[i] = dv.getUint8(i); break;
        case DType.INT16: out[i] = dv.getInt16(i * 2, true); break;
        case DType.UINT16: out[i] = dv.getUint16(i * 2, true); break;
        case DType.INT32: out[i] = dv.getInt32(i * 4, true); break;
        case DType.UINT32: out[i] = dv.getUint32(i * 4, true); break;
        case DType.INT64: case DType.UINT64: {
          const v = this.dtype === DType.INT64 ? dv.getBigInt64(i * 8, true) : dv.getBigUint64(i * 8, true);
          if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
            // int64 sentinels (INT64_MAX in Slice ends) are clamped, never silently wrapped.
            out[i] = v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
          } else out[i] = Number(v);
          break;
        }
        default:
          throw new UnsupportedError('dtype', `cannot read ${info.name} values as numbers`);
      }
    }
    return out;
  }

  /** sha256 of dtype, dims and bytes: equal digests mean equal tensors. */
  digest(): string {
    const h = createHash('sha256');
    h.update(`${this.dtype}:${this.dims.join(',')}:`);
    if (this.source.kind === 'strings') for (const s of this.source.strings) h.update(s.byteLength + ':').update(s);
    else withScratch(Math.min(CHUNK_BYTES, this.byteLength), (buf) => this.chunks((c) => h.update(c), CHUNK_BYTES, buf));
    return h.digest('hex');
  }
}

/** ONNX raw_data is little-endian; typed-array views are used directly only on little-endian hosts. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readExternal(ext: ExternalLocation): Uint8Array {
  const out = Buffer.allocUnsafe(ext.length);
  readRange(ext, 0, out);
  return out;
}

/** Read bytes [at, at + out.byteLength) of an external or in-file tensor into `out`. */
function readRange(ext: ExternalLocation, at: number, out: Uint8Array): void {
  const want = out.byteLength;
  let fd: number;
  try {
    fd = openSync(ext.file, 'r');
  } catch (e) {
    throw new InputError('external-data', `external data file ${ext.location} cannot be opened: ${(e as Error).message}`, 'keep the data file beside the model');
  }
  try {
    let done = 0;
    while (done < want) {
      const n = readSync(fd, out, done, Math.min(want - done, 1 << 30), ext.offset + at + done);
      if (n === 0) {
        throw new InputError('external-data', `external data file ${ext.location} ends at byte ${ext.offset + at + done}, the model needs ${ext.offset + ext.length}`, 'the data file is truncated; copy it again');
      }
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

function typedToBytes(dtype: number, count: number, values: ArrayLike<number> | readonly bigint[]): Uint8Array {
  const out = new Uint8Array(byteLengthOf(dtype, count));
  const dv = new DataView(out.buffer);
  const complex = dtype === DType.COMPLEX64 || dtype === DType.COMPLEX128;
  const packed = dtypeInfo(dtype).bytes === 0.5;
  const expected = complex ? count * 2 : packed ? Math.ceil(count / 2) : count;
  if (values.length !== expected) {
    throw new InputError('tensor-size', `tensor of ${dtypeName(dtype)} needs ${count} values in its typed field, has ${values.length}`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    switch (dtype) {
      case DType.FLOAT: case DType.COMPLEX64: dv.setFloat32(i * 4, Number(v), true); break;
      case DType.DOUBLE: case DType.COMPLEX128: dv.setFloat64(i * 8, Number(v), true); break;
      case DType.INT64: dv.setBigInt64(i * 8, BigInt(v), true); break;
      case DType.UINT64: dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true); break;
      case DType.UINT32: dv.setUint32(i * 4, Number(v), true); break;
      case DType.INT32: dv.setInt32(i * 4, Number(v), true); break;
      case DType.INT16: dv.setInt16(i * 2, Number(v), true); break;
      case DType.UINT16: case DType.FLOAT16: case DType.BFLOAT16: dv.setUint16(i * 2, Number(v), true); break;
      case DType.INT8: dv.setInt8(i, Number(v)); break;
      default: dv.setUint8(i, Number(v)); break; // uint8, bool, float8, packed 4-bit
    }
  }
  return out;
}
