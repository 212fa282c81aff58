/**
 * torch.save files -> plain data with lazy tensors, without Python or torch.
 *
 * Two serializations (torch/serialization.py):
 *  - zip (torch >= 1.6, the default): `<name>/data.pkl` is the pickled object;
 *    each storage is the stored entry `<name>/data/<key>`, named by the
 *    persistent id ('storage', storage_type, key, location, numel).
 *  - legacy (`_use_new_zipfile_serialization=False`): five pickles in a row
 *    (magic number 0x1950a86a20f9469cfc6c, protocol version 1001, sys info,
 *    the object with persistent ids ('storage', storage_type, key, location,
 *    numel, view_metadata), the list of storage keys), then each storage in
 *    that order as an int64 element count followed by its raw bytes.
 *
 * Tensors come from `torch._utils._rebuild_tensor_v2(storage, offset, size,
 * stride, requires_grad, hooks[, metadata])` (and `_rebuild_parameter`): the
 * element at index (i0, i1, ...) is storage[offset + sum(ik * stride_k)].
 * A contiguous tensor (stride_k = prod(size_{k+1..}) for every dim of size
 * > 1) of a little-endian file becomes a byte range of the file, read when
 * first used (TensorData 'file', as a large ONNX initializer); any other view
 * (transposed, sliced, expanded, big-endian) is gathered once at load.
 *
 * What the pickle may name is the allow-list of torch's `weights_only=True`
 * loader restricted to what a state_dict needs (GLOBALS below); everything
 * else is refused with exit 3 naming the global (src/pth/pickle.ts).
 */
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, UnsupportedError } from '../errors.js';
import { DType, dtypeName } from '../ir/dtype.js';
import { TensorData } from '../ir/tensor.js';
import { PickleTruncated, PyDict, PyGlobal, PyList, PyTuple, unpickle, type GlobalHandler } from './pickle.js';
import { ZIP_MAGIC, readPositioned, readZipDirectory, type ZipEntry } from './zip.js';

export interface StorageType {
  readonly name: string;
  readonly dtype: number;
  readonly bytes: number;
}

const STORAGE_TYPES: readonly StorageType[] = [
  { name: 'FloatStorage', dtype: DType.FLOAT, bytes: 4 },
  { name: 'HalfStorage', dtype: DType.FLOAT16, bytes: 2 },
  { name: 'BFloat16Storage', dtype: DType.BFLOAT16, bytes: 2 },
  { name: 'DoubleStorage', dtype: DType.DOUBLE, bytes: 8 },
  { name: 'LongStorage', dtype: DType.INT64, bytes: 8 },
  { name: 'IntStorage', dtype: DType.INT32, bytes: 4 },
  { name: 'ShortStorage', dtype: DType.INT16, bytes: 2 },
  { name: 'CharStorage', dtype: DType.INT8, bytes: 1 },
  { name: 'ByteStorage', dtype: DType.UINT8, bytes: 1 },
  { name: 'BoolStorage', dtype: DType.BOOL, bytes: 1 },
];

/** One storage: `numel` elements at `offset` in the file. */
export class PthStorage {
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
    /** File offset of element 0 (set for legacy files once the storages are located). */
    public offset: number,
  ) {}
}

/** A tensor as the pickle describes it (`_rebuild_tensor_v2`). */
export class PthTensor {
  constructor(
    readonly storage: PthStorage,
    /** In elements. */
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
  get dtype(): number {
    return this.storage.type.dtype;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get byteLength(): number {
    return this.numel * this.storage.type.bytes;
  }
  get contiguous(): boolean {
    let want = 1;
    for (let k = this.shape.length - 1; k >= 0; k--) {
      if (this.shape[k]! !== 1 && this.stride[k] !== want) return false;
      want *= this.shape[k]!;
    }
    return true;
  }
}

export interface Checkpoint {
  /** Absolute path. */
  readonly path: string;
  readonly displayPath: string;
  readonly format: 'zip' | 'legacy';
  readonly fileBytes: number;
  readonly littleEndian: boolean;
  /** The unpickled object: PyDict / PyList / PyTuple / primitives / PthTensor. */
  readonly root: unknown;
  /** Every tensor found, for inspection. */
  readonly tensors: readonly PthTensor[];
}

export interface CheckpointLimits {
  /** Largest pickle read (the object without its storages). */
  readonly maxPickleBytes?: number;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Does the file look like a torch.save checkpoint (zip or legacy pickle)? */
export function isCheckpointFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 4) return false;
    const head = readPositioned(fd, 0, Math.min(size, 16), path);
    if (ZIP_MAGIC.every((b, i) => head[i] === b)) return true;
    // legacy: PROTO 2, LONG1 of 10 bytes: the magic number
    return head[0] === 0x80 && head[2] === 0x8a && head[3] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

export function loadCheckpoint(path: string, limits: CheckpointLimits = {}): Checkpoint {
  const abs = resolve(path);
  let size: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new InputError('model-read', `${path} is not a file`, 'pass the path of a .pth checkpoint');
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError('model-read', `${path} does not exist`, 'check the path of the checkpoint');
    throw new InputError('model-read', `${path} cannot be read: ${(e as Error).message}`);
  }
  if (size === 0) throw new InputError('pth-truncated', `${path} is empty`, 'pass a checkpoint written by torch.save');
  const maxPickle = limits.maxPickleBytes ?? 256 * 1024 * 1024;
  const fd = openSync(abs, 'r');
  try {
    const head = readPositioned(fd, 0, Math.min(size, 4), path);
    if (ZIP_MAGIC.every((b, i) => head[i] === b)) return loadZip(fd, abs, path, size, maxPickle);
    if (head[0] === 0x80) return loadLegacy(fd, abs, path, size, maxPickle);
    throw new InputError('pth-format', `${path} is neither a zip nor a pickle (it starts with bytes ${[...head].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`, 'pass a checkpoint written by torch.save, or an .onnx file');
  } finally {
    closeSync(fd);
  }
}

// ------------------------------------------------------------------ globals

interface Ctx {
  readonly where: string;
  readonly tensors: PthTensor[];
}

function storageTypeOf(v: unknown, where: string): StorageType {
  if (v instanceof PyGlobal && v.handler.value && typeof v.handler.value === 'object' && 'dtype' in (v.handler.value as object)) {
    return v.handler.value as StorageType;
  }
  throw new InputError('pth-pickle', `${where}: a storage whose type is not a torch storage class`, 'the checkpoint is damaged or not written by torch.save');
}

function safeInt(v: unknown, what: string, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InputError('pth-pickle', `${where}: ${what} is ${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}, not a non-negative integer`, 'the checkpoint is damaged');
  }
  return v;
}

function intTuple(v: unknown, what: string, where: string): number[] {
  if (!(v instanceof PyTuple)) throw new InputError('pth-pickle', `${where}: ${what} is not a tuple`, 'the checkpoint is damaged');
  if (v.items.length > 16) throw new InputError('pth-pickle', `${where}: ${what} has ${v.items.length} dimensions`, 'the checkpoint is damaged');
  return v.items.map((x) => safeInt(x, what, where));
}

function rebuildTensor(args: readonly unknown[], ctx: Ctx): PthTensor {
  const [storage, offset, size, stride] = args;
  const where = ctx.where;
  if (!(storage instanceof PthStorage)) throw new InputError('pth-pickle', `${where}: _rebuild_tensor_v2 without a storage`, 'the checkpoint is damaged');
  const off = safeInt(offset, 'a storage offset', where);
  const shape = intTuple(size, 'a tensor size', where);
  const strides = intTuple(stride, 'a tensor stride', where);
  if (shape.length !== strides.length) throw new InputError('pth-pickle', `${where}: a tensor of ${shape.length} dims with ${strides.length} strides`, 'the checkpoint is damaged');
  const numel = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(numel)) throw new InputError('pth-pickle', `${where}: a tensor of size [${shape.join(', ')}] is too large`, 'the checkpoint is damaged');
  if (numel > 0) {
    let last = off;
    shape.forEach((s, k) => (last += (s - 1) * strides[k]!));
    if (last >= storage.numel) {
      throw new InputError('pth-pickle', `${where}: a tensor [${shape.join(', ')}] with strides [${strides.join(', ')}] at offset ${off} reads element ${last} of a storage of ${storage.numel}`, 'the checkpoint is damaged');
    }
  }
  const t = new PthTensor(storage, off, shape, strides);
  ctx.tensors.push(t);
  return t;
}

function makeGlobals(ctx: Ctx): Map<string, GlobalHandler> {
  const g = new Map<string, GlobalHandler>();
  for (const st of STORAGE_TYPES) g.set(`torch.${st.name}`, { value: st });
  g.set('torch.UntypedStorage', { value: { name: 'UntypedStorage', dtype: DType.UINT8, bytes: 1 } satisfies StorageType });
  g.set('collections.OrderedDict', {
    call: (args, where) => {
      const d = new PyDict('collections.OrderedDict');
      const init = args[0];
      if (init instanceof PyList || init instanceof PyTuple) {
        const items = init instanceof PyList ? init.items : init.items;
        for (const kv of items) {
          if (!(kv instanceof PyTuple) || kv.items.length !== 2) throw new InputError('pth-pickle', `${where}: OrderedDict items are not pairs`, 'the checkpoint is damaged');
          const k = kv.items[0];
          if (typeof k !== 'string' && typeof k !== 'number') throw new InputError('pth-pickle', `${where}: an OrderedDict key that is not a string`, 'the checkpoint is damaged');
          d.map.set(k, kv.items[1]);
        }
      }
      return d;
    },
    construct: () => new PyDict('collections.OrderedDict'),
  });
  g.set('torch._utils._rebuild_tensor_v2', { call: (args) => rebuildTensor(args, ctx) });
  g.set('torch._utils._rebuild_tensor', { call: (args) => rebuildTensor(args, ctx) });
  const param = (args: readonly unknown[], where: string): unknown => {
    if (!(args[0] instanceof PthTensor)) throw new InputError('pth-pickle', `${where}: a Parameter without a tensor`, 'the checkpoint is damaged');
    return args[0];
  };
  g.set('torch._utils._rebuild_parameter', { call: param });
  g.set('torch._utils._rebuild_parameter_with_state', { call: param });
  g.set('torch.Tensor', { value: 'torch.Tensor' });
  g.set('torch.nn.parameter.Parameter', { value: 'torch.nn.parameter.Parameter' });
  // torch >= 2: _rebuild_from_type_v2(func, new_type, args, state) for Tensor / Parameter only.
  g.set('torch._tensor._rebuild_from_type_v2', {
    call: (args, where) => {
      const [fn, type, inner] = args;
      if (!(fn instanceof PyGlobal) || !fn.handler.call || !(type instanceof PyGlobal) || typeof type.handler.value !== 'string' || !(inner instanceof PyTuple)) {
        throw new InputError('pth-pickle', `${where}: _rebuild_from_type_v2 of something that is not a tensor`, 'only tensors and Parameters are read');
      }
      return fn.handler.call(inner.items, where);
    },
  });
  return g;
}

// ------------------------------------------------------------------ zip

function loadZip(fd: number, abs: string, display: string, size: number, maxPickle: number): Checkpoint {
  const entries = readZipDirectory(abs, display);
  const pkls = [...entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pkls.length !== 1) {
    throw new InputError('pth-zip', `${display} is a zip without ${pkls.length ? 'exactly one' : 'a'} <name>/data.pkl (entries: ${[...entries.keys()].slice(0, 5).join(', ')}${entries.size > 5 ? ', ...' : ''})`, 'pass a checkpoint written by torch.save');
  }
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  const pkl = entries.get(pkls[0]!)!;
  if (pkl.size > maxPickle) throw new InputError('pth-pickle', `${display}: data.pkl is ${pkl.size} bytes, more than the ${maxPickle} read`, 'a state_dict pickle is small; this file holds something else');
  const order = entries.get(`${prefix}byteorder`);
  let littleEndian = true;
  if (order) {
    const s = readPositioned(fd, order.offset, Math.min(order.size, 16), display).toString('latin1').trim();
    if (s !== 'little' && s !== 'big') throw new InputError('pth-zip', `${display}: byteorder is ${JSON.stringify(s)}`, 'the checkpoint is damaged');
    littleEndian = s === 'little';
  }
  const where = `${display} (${pkls[0]})`;
  const ctx: Ctx = { where, tensors: [] };
  const storages = new Map<string, PthStorage>();
  const persistentLoad = (pid: unknown): unknown => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 5) {
      throw new InputError('pth-pickle', `${where}: a persistent id that is not a storage`, 'the checkpoint is damaged or not written by torch.save');
    }
    const [, type, key, , numel] = pid.items;
    const st = storageTypeOf(type, where);
    if (typeof key !== 'string') throw new InputError('pth-pickle', `${where}: a storage key that is not a string`, 'the checkpoint is damaged');
    const n = safeInt(numel, `storage ${key}'s size`, where);
    const hit = storages.get(key);
    if (hit) return hit;
    const entry: ZipEntry | undefined = entries.get(`${prefix}data/${key}`);
    if (!entry) throw new InputError('pth-truncated', `${display}: storage ${key} (entry ${prefix}data/${key}) is missing`, 'the checkpoint is truncated or damaged; save or download it again');
    if (n * st.bytes > entry.size) {
      throw new InputError('pth-truncated', `${display}: storage ${key} needs ${n * st.bytes} bytes, its entry has ${entry.size}`, 'the checkpoint is truncated or damaged');
    }
    const s = new PthStorage(key, st, n, entry.offset);
    storages.set(key, s);
    return s;
  };
  const bytes = readPositioned(fd, pkl.offset, pkl.size, display);
  const { value } = unpickle(bytes, 0, { globals: makeGlobals(ctx), persistentLoad, where });
  return { path: abs, displayPath: display, format: 'zip', fileBytes: size, littleEndian, root: value, tensors: ctx.tensors };
}

// ------------------------------------------------------------------ legacy

function loadLegacy(fd: number, abs: string, display: string, size: number, maxPickle: number): Checkpoint {
  // The pickles come first and are small next to the storages; read a prefix
  // and grow it while a pickle runs past its end.
  let chunk = Math.min(size, 1 << 20);
  for (;;) {
    const bytes = readPositioned(fd, 0, chunk, display);
    try {
      return parseLegacy(fd, bytes, abs, display, size);
    } catch (e) {
      if (!(e instanceof PickleTruncated) || chunk >= size) throw e;
      if (chunk >= maxPickle) throw new InputError('pth-pickle', `${display}: the pickled object is larger than ${maxPickle} bytes`, 'a state_dict pickle is small; this file holds something else');
      chunk = Math.min(size, chunk * 4, maxPickle);
    }
  }
}

function parseLegacy(fd: number, bytes: Buffer, abs: string, display: string, size: number): Checkpoint {
  const where = display;
  const none = new Map<string, GlobalHandler>();
  const magic = unpickle(bytes, 0, { globals: none, where });
  if (magic.value !== LEGACY_MAGIC) {
    throw new InputError('pth-format', `${display} is a pickle but not a torch.save file (no magic number)`, 'pass a checkpoint written by torch.save');
  }
  const proto = unpickle(bytes, magic.end, { globals: none, where });
  if (proto.value !== LEGACY_PROTOCOL) throw new UnsupportedError('pth-format', `${display}: legacy torch.save protocol ${String(proto.value)} (1001 is read)`, 'load and save it again with a recent torch');
  const sys = unpickle(bytes, proto.end, { globals: none, where });
  let littleEndian = true;
  if (sys.value instanceof PyDict) {
    const le = sys.value.map.get('little_endian');
    if (le === false) littleEndian = false;
  }
  const ctx: Ctx = { where, tensors: [] };
  const storages = new Map<string, PthStorage>();
  const persistentLoad = (pid: unknown): unknown => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 6) {
      throw new InputError('pth-pickle', `${where}: a persistent id that is not a storage`, 'the checkpoint is damaged or not written by torch.save');
    }
    const [, type, key, , numel, view] = pid.items;
    const st = storageTypeOf(type, where);
    if (typeof key !== 'string') throw new InputError('pth-pickle', `${where}: a storage key that is not a string`, 'the checkpoint is damaged');
    const n = safeInt(numel, `storage ${key}'s size`, where);
    if (n * st.bytes > size) throw new InputError('pth-truncated', `${display}: storage ${key} needs ${n * st.bytes} bytes, more than the whole file (${size} bytes)`, 'the checkpoint is truncated or damaged; copy or download it again');
    if (view !== null && view !== undefined) throw new UnsupportedError('pth-format', `${display}: storage views of torch < 0.4 are not read`, 'load and save it again with a recent torch');
    let s = storages.get(key);
    if (!s) {
      s = new PthStorage(key, st, n, -1);
      storages.set(key, s);
    }
    return s;
  };
  const obj = unpickle(bytes, sys.end, { globals: makeGlobals(ctx), persistentLoad, where });
  const keys = unpickle(bytes, obj.end, { globals: none, where });
  if (!(keys.value instanceof PyList) || !keys.value.items.every((k) => typeof k === 'string')) {
    throw new InputError('pth-pickle', `${display}: the storage key list is not a list of strings`, 'the checkpoint is damaged');
  }
  // The storages, in key order: int64 element count, then the bytes.
  let pos = keys.end;
  for (const k of keys.value.items as string[]) {
    const s = storages.get(k);
    if (!s) throw new InputError('pth-pickle', `${display}: storage key ${k} is listed but no tensor uses it`, 'the checkpoint is damaged');
    if (pos + 8 > size) throw new InputError('pth-truncated', `${display} ends at byte ${size} before storage ${k}`, 'the checkpoint is truncated; copy or download it again');
    const count = readPositioned(fd, pos, 8, display).readBigInt64LE(0);
    if (count !== BigInt(s.numel)) throw new InputError('pth-pickle', `${display}: storage ${k} says ${count} elements, the pickle ${s.numel}`, 'the checkpoint is damaged');
    s.offset = pos + 8;
    pos += 8 + s.numel * s.type.bytes;
    if (pos > size) throw new InputError('pth-truncated', `${display} ends at byte ${size}, storage ${k} needs up to byte ${pos}`, 'the checkpoint is truncated; copy or download it again');
  }
  for (const s of storages.values()) {
    if (s.offset < 0) throw new InputError('pth-pickle', `${display}: storage ${s.key} is not in the storage list`, 'the checkpoint is damaged');
  }
  return { path: abs, displayPath: display, format: 'legacy', fileBytes: size, littleEndian, root: obj.value, tensors: ctx.tensors };
}

// ------------------------------------------------------------------ tensor data

/**
 * The TensorData of a checkpoint tensor as float32 (`as` DType.INT64 for integer tensors).
 * float32 contiguous little-endian tensors stay byte ranges of the file;
 * anything else is gathered (and converted) now.
 */
export function tensorDataOf(ck: Checkpoint, t: PthTensor, dims: readonly number[] = t.shape, as: number = DType.FLOAT): TensorData {
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== t.numel) throw new Error(`tensorDataOf: [${dims.join(',')}] does not hold ${t.numel} elements`);
  const eb = t.storage.type.bytes;
  if (t.contiguous && ck.littleEndian && as === t.dtype) {
    return new TensorData(t.dtype, dims, {
      kind: 'file',
      ext: { file: ck.path, location: ck.displayPath, offset: t.storage.offset + t.storageOffset * eb, length: t.byteLength },
    });
  }
  // Gather: read the storage span the view touches, walk the strides.
  let last = t.storageOffset;
  t.shape.forEach((s, k) => (last += Math.max(0, s - 1) * t.stride[k]!));
  const fd = openSync(ck.path, 'r');
  let span: Buffer;
  try {
    span = t.numel ? readPositioned(fd, t.storage.offset + t.storageOffset * eb, (last - t.storageOffset + 1) * eb, ck.displayPath) : Buffer.alloc(0);
  } finally {
    closeSync(fd);
  }
  const dv = new DataView(span.buffer, span.byteOffset, span.byteLength);
  const le = ck.littleEndian;
  const read = readerOf(t.dtype, dv, le);
  const n = t.numel;
  const values = new Float64Array(n);
  const bigs = t.dtype === DType.INT64 ? new BigInt64Array(n) : undefined;
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let k = 0; k < idx.length; k++) e += idx[k]! * t.stride[k]!;
    if (bigs) bigs[i] = dv.getBigInt64(e * 8, le);
    else values[i] = read(e);
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k]! < t.shape[k]!) break;
      idx[k] = 0;
    }
  }
  return encode(as, dims, values, bigs);
}

function readerOf(dtype: number, dv: DataView, le: boolean): (e: number) => number {
  switch (dtype) {
    case DType.FLOAT: return (e) => dv.getFloat32(e * 4, le);
    case DType.DOUBLE: return (e) => dv.getFloat64(e * 8, le);
    case DType.FLOAT16: return (e) => halfToFloat(dv.getUint16(e * 2, le));
    case DType.BFLOAT16: {
      const f = new Float32Array(1), u = new Uint32Array(f.buffer);
      return (e) => {
        u[0] = dv.getUint16(e * 2, le) << 16;
        return f[0]!;
      };
    }
    case DType.INT32: return (e) => dv.getInt32(e * 4, le);
    case DType.INT16: return (e) => dv.getInt16(e * 2, le);
    case DType.INT8: return (e) => dv.getInt8(e);
    case DType.UINT8: case DType.BOOL: return (e) => dv.getUint8(e);
    case DType.INT64: return (e) => Number(dv.getBigInt64(e * 8, le));
    default: throw new UnsupportedError('dtype', `checkpoint tensors of ${dtypeName(dtype)} are not read`);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function encode(as: number, dims: readonly number[], values: Float64Array, bigs?: BigInt64Array): TensorData {
  switch (as) {
    case DType.FLOAT: return TensorData.float32(dims, Float32Array.from(bigs ? Array.from(bigs, Number) : values));
    case DType.INT64: return TensorData.int64(dims, bigs ?? Array.from(values));
    default: {
      const a = Float32Array.from(bigs ? Array.from(bigs, Number) : values);
      return TensorData.float32(dims, a);
    }
  }
}
