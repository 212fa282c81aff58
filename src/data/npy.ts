/**
 * NumPy .npy and .npz, read and written without Python.
 *
 * .npy (numpy/lib/format.py, format versions 1.0, 2.0, 3.0):
 *     bytes 0..5   "\x93NUMPY"
 *     byte  6, 7   major, minor version
 *     v1: uint16 LE header length at 8;  v2/v3: uint32 LE header length at 8
 *     header       a Python dict literal, latin-1 (v1, v2) or utf-8 (v3):
 *                  {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *                  padded with spaces and a final '\n' so the data is aligned
 *     data         prod(shape) * itemsize bytes, C order
 * Only simple dtypes are read (no object arrays: those are pickles, no
 * structured dtypes); Fortran order is refused rather than transposed, since a
 * reference in the wrong order would compare the wrong numbers.
 *
 * .npz is a zip of NAME.npy entries (np.savez: stored; np.savez_compressed:
 * deflate). numpy opens entries with force_zip64, so LOCAL headers carry
 * 0xFFFFFFFF sizes and a zip64 extra field; the central directory has the real
 * sizes for archives under 4 GiB, so sizes and offsets are read from there.
 * Archives that need zip64 in the central directory are refused.
 *
 * The header is parsed by a small strict parser, never evaluated. Every
 * problem is an InputError (exit 3) with a one-line reason.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { limit, raiseHint } from '../limits.js';
import { inflateRawSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { fromFloat16Bits } from '../ir/float16.js';

/** Dtypes read and written, without byte order: the kind letter and item size. */
export const NPY_DTYPES = ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1'] as const;
export type NpyDType = (typeof NPY_DTYPES)[number];

/** Element storage per dtype: f2 as its bits (Uint16Array), b1 as 0/1 bytes, 64-bit ints as BigInt arrays. */
export interface NpyDataMap {
  f2: Uint16Array;
  f4: Float32Array;
  f8: Float64Array;
  i1: Int8Array;
  i2: Int16Array;
  i4: Int32Array;
  i8: BigInt64Array;
  u1: Uint8Array;
  u2: Uint16Array;
  u4: Uint32Array;
  u8: BigUint64Array;
  b1: Uint8Array;
}
export type NpyData = NpyDataMap[NpyDType];

export interface NpyArray<D extends NpyDType = NpyDType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  /** A fresh, aligned array in little-endian host order that owns its buffer. */
  readonly data: NpyDataMap[D];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEMSIZE: Readonly<Record<NpyDType, number>> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

function bad(where: string, what: string, hint = 'write it again with numpy.save / numpy.savez'): InputError {
  return new InputError('npy', `${where}: ${what}`, hint);
}

function asBytes(src: string | Uint8Array, where: string): Uint8Array {
  if (typeof src !== 'string') return src;
  let st;
  try {
    st = statSync(src);
  } catch (e) {
    throw new InputError('npy', `${where}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
  if (st.isDirectory()) throw new InputError('npy', `${where} is a folder, not a .npy/.npz file`, 'pass REF.npz (or --images DIR for a folder of aligned faces)');
  if (!st.isFile()) throw new InputError('npy', `${where} is not a regular file (a device or pipe?)`, 'pass a .npy/.npz file written by numpy');
  const max = limit('referenceBytes');
  if (st.size > max) throw new InputError('npy', `${where} is ${st.size} bytes, over the ${max}-byte reference limit`, raiseHint('referenceBytes'));
  try {
    return readFileSync(src);
  } catch (e) {
    throw new InputError('npy', `${where}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
}

// ---------------------------------------------------------------- header parsing

type PyValue = string | number | boolean | PyValue[] | { [k: string]: PyValue };

/** A strict parser for the header's Python literal: dict, tuple, str, int, True/False. */
function parsePyLiteral(text: string, where: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw bad(where, `bad header (${what} at character ${i}): ${JSON.stringify(text.slice(0, 80))}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [k: string]: PyValue } = {};
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return out; }
        const k = value();
        if (typeof k !== 'string') fail('non-string key');
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[k as string] = value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return out; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) { i++; return out; }
        out.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === close) { i++; return out; }
        fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) fail('escapes in string');
      i = end + 1;
      return s;
    }
    const m = /^(True|False|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    return Number(m[0].replace('L', ''));
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

interface Header {
  dtype: NpyDType;
  bigEndian: boolean;
  shape: number[];
  dataOffset: number;
}

function parseHeader(bytes: Uint8Array, where: string): Header {
  if (bytes.length < 10) throw bad(where, `truncated: ${bytes.length} bytes, not even a .npy header`);
  for (let k = 0; k < MAGIC.length; k++) {
    if (bytes[k] !== MAGIC[k]) throw bad(where, 'bad magic: not a .npy file (expected \\x93NUMPY)');
  }
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad(where, 'truncated header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw bad(where, `unsupported .npy format version ${major}.${bytes[7]}`, 'write it with numpy >= 1.0 (format 1.0, 2.0 or 3.0)');
  }
  if (start + headerLen > bytes.length) throw bad(where, `truncated: header says ${headerLen} bytes, file has ${bytes.length - start} after the preamble`);
  const raw = bytes.subarray(start, start + headerLen);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(raw).trim();
  const h = parsePyLiteral(text, where);
  if (typeof h !== 'object' || Array.isArray(h)) throw bad(where, 'bad header: not a dict');
  const descr = h['descr'], fortran = h['fortran_order'], shape = h['shape'];
  if (typeof descr !== 'string') throw bad(where, `unsupported dtype ${JSON.stringify(descr)} (structured arrays are not read)`, 'save a plain numeric array');
  if (typeof fortran !== 'boolean') throw bad(where, 'bad header: fortran_order missing');
  if (fortran) throw bad(where, 'fortran_order is True; only C-order arrays are read', 'save np.ascontiguousarray(x) instead');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw bad(where, `bad shape ${JSON.stringify(shape)}`);
  }
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const dt = m ? `${m[2]}${m[3]}` : '';
  if (!m || !(NPY_DTYPES as readonly string[]).includes(dt)) {
    throw bad(where, `unsupported dtype '${descr}' (read: ${NPY_DTYPES.join(' ')}; object arrays never)`, 'cast it to float32 before saving');
  }
  const size = ITEMSIZE[dt as NpyDType];
  return { dtype: dt as NpyDType, bigEndian: m[1] === '>' && size > 1, shape: shape as number[], dataOffset: start + headerLen };
}

/** The typed array that holds each dtype's elements (NpyDataMap): one row per dtype. */
const ARRAY_OF: { readonly [D in NpyDType]: new (buf: ArrayBuffer) => NpyDataMap[D] } = {
  f2: Uint16Array, f4: Float32Array, f8: Float64Array,
  i1: Int8Array, i2: Int16Array, i4: Int32Array, i8: BigInt64Array,
  u1: Uint8Array, u2: Uint16Array, u4: Uint32Array, u8: BigUint64Array,
  b1: Uint8Array,
};

function makeArray(dtype: NpyDType, buf: ArrayBuffer): NpyData {
  return new ARRAY_OF[dtype](buf);
}

/** Parse .npy bytes (or read a .npy file). `name` is used in error messages. */
export function readNpy(src: string | Uint8Array, name?: string): NpyArray {
  const where = name ?? (typeof src === 'string' ? src : '.npy');
  const bytes = asBytes(src, where);
  const h = parseHeader(bytes, where);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const size = ITEMSIZE[h.dtype];
  const need = count * size;
  if (!Number.isSafeInteger(need)) throw bad(where, `shape [${h.shape.join(',')}] is too large`);
  const have = bytes.length - h.dataOffset;
  if (have < need) throw bad(where, `truncated: shape [${h.shape.join(',')}] ${h.dtype} needs ${need} data bytes, file has ${have}`);
  if (have > need) throw bad(where, `shape/data size mismatch: shape [${h.shape.join(',')}] ${h.dtype} needs ${need} data bytes, file has ${have}`);
  // Copy into a fresh buffer: aligned, owned, never aliasing a file or zip buffer.
  const buf = new ArrayBuffer(need);
  const dst = new Uint8Array(buf);
  dst.set(bytes.subarray(h.dataOffset, h.dataOffset + need));
  if (h.bigEndian) {
    for (let o = 0; o < need; o += size) dst.subarray(o, o + size).reverse();
  }
  const data = makeArray(h.dtype, buf);
  if (h.dtype === 'b1') {
    for (let k = 0; k < need; k++) if (dst[k]! > 1) throw bad(where, `bool array holds byte ${dst[k]} at element ${k}`);
  }
  return { dtype: h.dtype, shape: h.shape, data };
}

// ---------------------------------------------------------------- writing

const DTYPE_OF: ReadonlyArray<[new (...a: never[]) => NpyData, NpyDType]> = [
  [Float32Array, 'f4'], [Float64Array, 'f8'], [Int8Array, 'i1'], [Int16Array, 'i2'], [Int32Array, 'i4'],
  [BigInt64Array, 'i8'], [Uint16Array, 'u2'], [Uint32Array, 'u4'], [BigUint64Array, 'u8'], [Uint8Array, 'u1'],
];

/** Encode an array as .npy format 1.0 (2.0 when the header needs it). Deterministic. */
export function encodeNpy(arr: { dtype?: NpyDType; shape: readonly number[]; data: NpyData }): Uint8Array {
  const dtype = arr.dtype ?? DTYPE_OF.find(([C]) => arr.data instanceof C)?.[1];
  if (!dtype) throw new TypeError('encodeNpy: cannot tell the dtype of the data');
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length) throw new TypeError(`encodeNpy: shape [${arr.shape.join(',')}] holds ${count} elements, data has ${arr.data.length}`);
  const descr = `${ITEMSIZE[dtype] === 1 ? '|' : '<'}${dtype}`;
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // numpy pads so that preamble + header is a multiple of 64 bytes, ending in '\n'.
  const v1 = header.length + 11 <= 65535;
  const pre = v1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - pre - header.length - 1) + '\n';
  const data = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (v1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  for (let k = 0; k < header.length; k++) out[pre + k] = header.charCodeAt(k);
  out.set(data, total);
  return out;
}

export function writeNpy(path: string, arr: { dtype?: NpyDType; shape: readonly number[]; data: NpyData }): void {
  writeFileSync(path, encodeNpy(arr));
}

// ---------------------------------------------------------------- .npz (zip)

let CRC_TABLE: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip uses. */
export function crc32(bytes: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let k = 0; k < bytes.length; k++) c = CRC_TABLE[(c ^ bytes[k]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Parse .npz bytes (or read a .npz file): a map from array name (without ".npy") to array, in archive order. */
export function readNpz(src: string | Uint8Array, name?: string): Map<string, NpyArray> {
  const where = name ?? (typeof src === 'string' ? src : '.npz');
  const bytes = asBytes(src, where);
  const zbad = (what: string) => bad(where, what, 'write it again with numpy.savez or numpy.savez_compressed');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 22) throw zbad(`truncated: ${bytes.length} bytes, not a zip archive`);
  if (dv.getUint32(0, true) !== 0x04034b50) {
    if (bytes[0] === 0x93 && bytes[1] === 0x4e) throw zbad('this is a .npy file, not a .npz archive');
    throw zbad('bad magic: not a zip archive');
  }
  // End of central directory: 22 bytes + comment (<= 65535), searched from the end.
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 65535); o--) {
    if (dv.getUint32(o, true) === 0x06054b50) { eocd = o; break; }
  }
  if (eocd < 0) throw zbad('truncated: no zip end-of-central-directory record');
  const entries = dv.getUint16(eocd + 10, true);
  const cdSize = dv.getUint32(eocd + 12, true);
  const cdOffset = dv.getUint32(eocd + 16, true);
  if (entries === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    throw zbad('zip64 archive (over 4 GiB or 65535 entries) is not read', );
  }
  if (cdOffset + cdSize > eocd) throw zbad('truncated or damaged: central directory beyond its end record');
  // Bombs are refused from the central directory, before anything is inflated.
  if (entries > limit('zipEntries')) throw bad(where, `${entries} entries, over the limit of ${limit('zipEntries')} arrays`, raiseHint('zipEntries'));
  const maxBytes = limit('referenceBytes');
  const maxRatio = limit('inflateRatio');
  let total = 0;
  for (let e = 0, q = cdOffset; e < entries; e++) {
    if (q + 46 > eocd || dv.getUint32(q, true) !== 0x02014b50) throw zbad(`damaged central directory at entry ${e}`);
    const csize = dv.getUint32(q + 20, true), usize = dv.getUint32(q + 24, true);
    const fname = new TextDecoder().decode(bytes.subarray(q + 46, q + 46 + dv.getUint16(q + 28, true)));
    total += usize;
    if (total > maxBytes) throw bad(where, `inflates to over ${total} bytes, over the ${maxBytes}-byte reference limit (a decompression bomb?)`, raiseHint('referenceBytes'));
    if (usize > 64 * 2 ** 20 && usize > maxRatio * Math.max(csize, 1)) throw bad(where, `entry ${fname} inflates ${csize} bytes to ${usize} (over ${maxRatio}:1, a decompression bomb?)`, raiseHint('inflateRatio'));
    if (fname.split(/[\\/]/).includes('..') || fname.startsWith('/')) throw zbad(`entry ${JSON.stringify(fname)} has a path that climbs out of the archive (refused, not ignored)`);
    q += 46 + dv.getUint16(q + 28, true) + dv.getUint16(q + 30, true) + dv.getUint16(q + 32, true);
  }
  const out = new Map<string, NpyArray>();
  let p = cdOffset;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > eocd || dv.getUint32(p, true) !== 0x02014b50) throw zbad(`damaged central directory at entry ${e}`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    const csize = dv.getUint32(p + 20, true);
    const usize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const fname = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (csize === 0xffffffff || usize === 0xffffffff || local === 0xffffffff) throw zbad(`entry ${fname} is zip64 (over 4 GiB), which is not read`);
    if (flags & 1) throw zbad(`entry ${fname} is encrypted`);
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) throw zbad(`truncated or damaged: entry ${fname} has no local header`);
    const dataStart = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (dataStart + csize > bytes.length) throw zbad(`truncated: entry ${fname} needs ${csize} bytes at ${dataStart}, archive has ${bytes.length}`);
    const comp = bytes.subarray(dataStart, dataStart + csize);
    let raw: Uint8Array;
    if (method === 0) {
      raw = comp;
    } else if (method === 8) {
      try {
        raw = inflateRawSync(comp, { maxOutputLength: Math.max(usize, 1) });
      } catch (err) {
        throw zbad(`entry ${fname}: deflate data is damaged (${(err as Error).message})`);
      }
    } else {
      throw zbad(`entry ${fname} uses compression method ${method}; only stored (0) and deflate (8) are read`);
    }
    if (raw.length !== usize) throw zbad(`entry ${fname}: ${raw.length} bytes after inflating, directory says ${usize}`);
    if (crc32(raw) !== crc) throw zbad(`entry ${fname}: CRC-32 mismatch (damaged archive)`);
    const key = fname.endsWith('.npy') ? fname.slice(0, -4) : fname;
    if (out.has(key)) throw zbad(`entry ${fname} appears twice`);
    out.set(key, readNpy(raw, `${where}:${fname}`));
  }
  return out;
}

/** Encode arrays as an uncompressed .npz (like np.savez), entries in the given order. Deterministic (fixed 1980-01-01 timestamps). */
export function encodeNpz(arrays: ReadonlyArray<readonly [string, { dtype?: NpyDType; shape: readonly number[]; data: NpyData }]>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const [name, arr] of arrays) {
    const body = encodeNpy(arr);
    const fname = new TextEncoder().encode(`${name}.npy`);
    const crc = crc32(body);
    const lh = new Uint8Array(30 + fname.length);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true); l.setUint16(4, 20, true); l.setUint16(6, 0, true); l.setUint16(8, 0, true);
    l.setUint16(10, 0, true); l.setUint16(12, DOS_DATE, true); l.setUint32(14, crc, true);
    l.setUint32(18, body.length, true); l.setUint32(22, body.length, true); l.setUint16(26, fname.length, true); l.setUint16(28, 0, true);
    lh.set(fname, 30);
    const ch = new Uint8Array(46 + fname.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true); c.setUint16(4, 20, true); c.setUint16(6, 20, true); c.setUint16(8, 0, true);
    c.setUint16(10, 0, true); c.setUint16(12, 0, true); c.setUint16(14, DOS_DATE, true); c.setUint32(16, crc, true);
    c.setUint32(20, body.length, true); c.setUint32(24, body.length, true); c.setUint16(28, fname.length, true);
    c.setUint32(42, offset, true);
    ch.set(fname, 46);
    parts.push(lh, body);
    central.push(ch);
    offset += lh.length + body.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const end = new Uint8Array(22);
  const d = new DataView(end.buffer);
  d.setUint32(0, 0x06054b50, true); d.setUint16(8, arrays.length, true); d.setUint16(10, arrays.length, true);
  d.setUint32(12, cdSize, true); d.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of all) { out.set(b, o); o += b.length; }
  return out;
}

export function writeNpz(path: string, arrays: ReadonlyArray<readonly [string, { dtype?: NpyDType; shape: readonly number[]; data: NpyData }]>): void {
  writeFileSync(path, encodeNpz(arrays));
}

// ---------------------------------------------------------------- conversions

/** Any numeric array as float64 (f2 decoded from its bits; int64 through Number, exact below 2^53). */
export function toFloat64(a: NpyArray): Float64Array {
  if (a.dtype === 'f2') return Float64Array.from(fromFloat16Bits(a.data as Uint16Array));
  const out = new Float64Array(a.data.length);
  for (let k = 0; k < a.data.length; k++) out[k] = Number(a.data[k]!);
  return out;
}

/** Any numeric array as float32 (rounded to nearest). */
export function toFloat32(a: NpyArray): Float32Array {
  if (a.dtype === 'f4') return (a.data as Float32Array).slice();
  if (a.dtype === 'f2') return fromFloat16Bits(a.data as Uint16Array);
  return Float32Array.from(toFloat64(a));
}
