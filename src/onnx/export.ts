/**
 * IR -> ONNX bytes or file. Tensor bytes are handed to protobufjs as the views
 * the IR holds, so encoding copies each weight once, into the output.
 *
 * External data: with `externalData: true`, or automatically when the
 * initializers exceed what one protobuf message may hold (2 GiB), every tensor
 * of at least `externalThreshold` bytes goes into `<model file>.data` beside the
 * model, each at an offset aligned to 64 bytes; `location` is the data file's
 * base name, so the pair can be moved together.
 *
 * saveOnnx hashes what it writes as it writes it and hands the sha256 of each
 * file to src/file-digests.ts, so a manifest built right after does not read
 * the files back.
 */
import { closeSync, openSync, readSync, writeSync, renameSync, rmSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { basename } from 'node:path';
import { rememberDigest } from '../file-digests.js';
import type { AttributeWithDoc } from '../ir/attribute.js';
import { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Model } from '../ir/model.js';
import { CHUNK_BYTES, type TensorData } from '../ir/tensor.js';
import { withScratch } from '../ir/scratch.js';
import type { Value } from '../ir/value.js';
import { onnx, toLong, type OnnxTypes } from './proto.js';
import { varintBytes } from './lazy-file.js';

export interface SaveOptions {
  /** true: always; false: never; 'auto' (default): when the weights exceed the protobuf limit. */
  externalData?: boolean | 'auto';
  /** Tensors smaller than this stay inside the model (default 1024 bytes). */
  externalThreshold?: number;
}

/** Largest protobuf message we write in one piece (2 GiB less room for the graph). */
const PROTOBUF_LIMIT = 2 ** 31 - 64 * 2 ** 20;
const ALIGN = 64;

export function encodeOnnx(model: Model): Uint8Array {
  const big = initializerBytes(model.graph);
  if (big > PROTOBUF_LIMIT) {
    throw new RangeError(`the model's weights (${big} bytes) exceed the 2 GiB protobuf limit; save it to a file with external data`);
  }
  return onnx.ModelProto.encode(modelToProto(model, null)).finish();
}

/** Save to `path` (through a temporary file and rename). Returns the files written. */
export function saveOnnx(model: Model, path: string, options: SaveOptions = {}): string[] {
  const mode = options.externalData ?? 'auto';
  const external = mode === true || (mode === 'auto' && initializerBytes(model.graph) > PROTOBUF_LIMIT);
  const written: string[] = [];
  let ext: ExternalWriter | null = null;
  const dataPath = `${path}.data`;
  const tmpModel = `${path}.tmp-${process.pid}`;
  const tmpData = `${dataPath}.tmp-${process.pid}`;
  try {
    if (external) ext = new ExternalWriter(tmpData, basename(dataPath), options.externalThreshold ?? 1024);
    const deferred = new Map<OnnxTypes.ITensorProto, TensorData>();
    const proto = modelToProto(model, ext, ext ? undefined : deferred);
    ext?.close();
    const fd = openSync(tmpModel, 'w');
    const hash = createHash('sha256');
    try {
      writeStreaming(fd, proto, deferred, hash);
    } finally {
      closeSync(fd);
    }
    if (ext) {
      renameSync(tmpData, dataPath);
      rememberDigest(dataPath, ext.digest());
      written.push(dataPath);
    }
    renameSync(tmpModel, path);
    rememberDigest(path, hash.digest('hex'));
    written.unshift(path);
    return written;
  } catch (e) {
    ext?.close();
    rmSync(tmpModel, { force: true });
    rmSync(tmpData, { force: true });
    throw e;
  }
}

function initializerBytes(g: Graph): number {
  let n = 0;
  for (const v of g.initializers()) n += v.const!.byteLength;
  return n;
}

class ExternalWriter {
  private fd: number | null;
  private offset = 0;
  private readonly hash = createHash('sha256');
  constructor(path: string, readonly location: string, readonly threshold: number) {
    this.fd = openSync(path, 'w');
  }
  /** Writes the tensor's bytes and returns its external_data entries. */
  put(t: TensorData): OnnxTypes.IStringStringEntryProto[] {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) {
      this.write(new Uint8Array(pad));
      this.offset += pad;
    }
    const at = this.offset;
    // Chunk by chunk: a lazy tensor (file range, folded weight) is never held whole.
    withScratch(Math.min(CHUNK_BYTES, t.byteLength), (buf) => t.chunks((c) => this.write(c), CHUNK_BYTES, buf));
    this.offset += t.byteLength;
    return [
      { key: 'location', value: this.location },
      { key: 'offset', value: String(at) },
      { key: 'length', value: String(t.byteLength) },
    ];
  }
  private write(b: Uint8Array): void {
    this.hash.update(b);
    writeAll(this.fd!, b);
  }
  /** sha256 of the data file as written. */
  digest(): string {
    return this.hash.digest('hex');
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Optional proto2 fields are written only when set, so a round trip adds nothing. */
function opt<K extends string, V>(key: K, value: V, isSet: boolean): Partial<Record<K, V>> {
  return isSet ? ({ [key]: value } as Record<K, V>) : {};
}
const optStr = <K extends string>(key: K, v: string) => opt(key, v, v !== '');

/**
 * Writes the model without ever holding all of it in memory: the ModelProto
 * is encoded piece by piece (fields can be written in any order and protobuf
 * concatenates them), and the raw_data of large tensors is copied straight
 * from where it lives (the source model file, an external data file, or a
 * pass's buffer) through one reused buffer; a computed tensor (a folded or
 * quantized weight) is computed into that buffer range by range.
 *
 *   ModelProto  = [fields except graph] + tag(7) len(G) G
 *   G           = [GraphProto fields except initializer] + for each initializer:
 *                 tag(5) len(T) T,  T = [TensorProto fields] + tag(9) len(raw) raw
 */
function writeStreaming(fd: number, proto: OnnxTypes.IModelProto, deferred: Map<OnnxTypes.ITensorProto, TensorData>, hash: Hash): void {
  const out = new FdWriter(fd, hash);
  const graph = proto.graph!;
  const inits = graph.initializer ?? [];
  out.bytes(onnx.ModelProto.encode({ ...proto, graph: null }).finish());
  const g0 = onnx.GraphProto.encode({ ...graph, initializer: [] }).finish();
  const pieces = inits.map((t) => {
    const head = onnx.TensorProto.encode(t).finish();
    const data = deferred.get(t);
    const rawLen = data ? data.byteLength : 0;
    const rawHeader = data ? Uint8Array.from([(9 << 3) | 2, ...varintBytes(rawLen)]) : new Uint8Array();
    const len = head.byteLength + rawHeader.byteLength + rawLen;
    return { head, rawHeader, data, fieldHeader: Uint8Array.from([(5 << 3) | 2, ...varintBytes(len)]), len };
  });
  const graphLen = g0.byteLength + pieces.reduce((a, p) => a + p.fieldHeader.byteLength + p.len, 0);
  out.bytes(Uint8Array.from([(7 << 3) | 2, ...varintBytes(graphLen)]));
  out.bytes(g0);
  for (const p of pieces) {
    out.bytes(p.fieldHeader);
    out.bytes(p.head);
    if (!p.data) continue;
    out.bytes(p.rawHeader);
    const src = p.data.source;
    if (src.kind === 'file' || src.kind === 'external') out.copyFrom(src.ext.file, src.ext.offset, src.ext.length);
    else if (src.kind === 'computed') out.tensor(p.data);
    else out.bytes(p.data.rawBytes());
  }
  out.flush();
}

/**
 * Buffered sequential writes to a file descriptor (hashed on the way), and
 * range copies from another file. The 4 MiB buffer is allocated once per
 * process: fresh memory is slow to fault in on some VMs.
 */
let writerBuffer: Buffer | undefined;
class FdWriter {
  private readonly buf = (writerBuffer ??= Buffer.allocUnsafe(1 << 22));
  private used = 0;
  constructor(private readonly fd: number, private readonly hash: Hash) {}
  private write(b: Uint8Array): void {
    this.hash.update(b);
    writeAll(this.fd, b);
  }
  bytes(b: Uint8Array): void {
    if (b.byteLength > this.buf.length - this.used) {
      this.flush();
      if (b.byteLength >= this.buf.length) {
        this.write(b);
        return;
      }
    }
    this.buf.set(b, this.used);
    this.used += b.byteLength;
  }
  copyFrom(file: string, offset: number, length: number): void {
    this.flush();
    const src = openSync(file, 'r');
    try {
      for (let done = 0; done < length; ) {
        const n = readSync(src, this.buf, 0, Math.min(this.buf.length, length - done), offset + done);
        if (n <= 0) throw new RangeError(`${file} ends before byte ${offset + length}`);
        this.write(this.buf.subarray(0, n));
        done += n;
      }
    } finally {
      closeSync(src);
    }
  }
  /** A tensor's bytes, read or computed chunk by chunk into the buffer. */
  tensor(t: TensorData): void {
    this.flush();
    t.chunks((c) => this.write(c), this.buf.length, this.buf);
  }
  flush(): void {
    if (this.used) this.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.byteLength; ) off += writeSync(fd, b, off, Math.min(b.byteLength - off, 1 << 30));
}

/** Tensors at least this large are streamed by saveOnnx rather than encoded in memory. */
const STREAM_THRESHOLD = 64 * 1024;

export function modelToProto(model: Model, ext: ExternalWriter | null = null, deferred?: Map<OnnxTypes.ITensorProto, TensorData>): OnnxTypes.IModelProto {
  return {
    irVersion: toLong(BigInt(model.irVersion)),
    opsetImport: model.opsetImports.map((o) => ({ ...optStr('domain', o.domain), version: toLong(BigInt(o.version)) })),
    ...optStr('producerName', model.producerName),
    ...optStr('producerVersion', model.producerVersion),
    ...optStr('domain', model.domain),
    ...opt('modelVersion', toLong(model.modelVersion), model.modelVersion !== 0n),
    ...optStr('docString', model.docString),
    metadataProps: model.metadataProps.map((p) => ({ key: p.key, value: p.value })),
    graph: graphToProto(model.graph, ext, deferred),
    functions: model.functions,
    trainingInfo: model.trainingInfo,
  };
}

function graphToProto(g: Graph, ext: ExternalWriter | null, deferred?: Map<OnnxTypes.ITensorProto, TensorData>): OnnxTypes.IGraphProto {
  const listed = new Set<Value>([...g.inputs, ...g.outputs]);
  const valueInfo: OnnxTypes.IValueInfoProto[] = [];
  for (const n of g.nodes) {
    for (const v of n.outputs) {
      if (!listed.has(v) && v.dtype !== undefined && v.uses.length > 0) valueInfo.push(valueInfoToProto(v));
    }
  }
  return {
    ...optStr('name', g.name),
    ...optStr('docString', g.docString),
    node: g.nodes.map((n) => ({
      ...optStr('name', n.name),
      opType: n.op,
      ...optStr('domain', n.domain),
      ...optStr('docString', n.docString),
      input: n.inputs.map((v) => (v ? v.name : '')),
      output: n.outputs.map((v) => (v.placeholder && v.uses.length === 0 && !v.isGraphOutput ? '' : v.name)),
      attribute: [...n.attrs.entries()].map(([name, a]) => attributeToProto(name, a)),
    })),
    initializer: g.initializers().map((v) => tensorToProto(v.name, v.const!, ext, v.docString, deferred)),
    sparseInitializer: g.sparseInitializers,
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo,
    quantizationAnnotation: g.quantizationAnnotation,
  };
}

function valueInfoToProto(v: Value): OnnxTypes.IValueInfoProto {
  const out: OnnxTypes.IValueInfoProto = { name: v.name };
  if (v.docString) out.docString = v.docString;
  if (v.dtype !== undefined) {
    out.type = {
      tensorType: {
        elemType: v.dtype,
        ...(v.shape
          ? { shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: toLong(BigInt(d)) } : typeof d === 'string' ? { dimParam: d } : {})) } }
          : {}),
      },
    };
  }
  return out;
}

export function tensorToProto(name: string, t: TensorData, ext: ExternalWriter | null, docString = '', deferred?: Map<OnnxTypes.ITensorProto, TensorData>): OnnxTypes.ITensorProto {
  const out: OnnxTypes.ITensorProto = { ...optStr('name', name), dataType: t.dtype, dims: t.dims.map((d) => toLong(BigInt(d))) };
  if (docString) out.docString = docString;
  if (t.dtype === DType.STRING) {
    out.stringData = [...t.strings()];
    return out;
  }
  if (ext && t.byteLength >= ext.threshold) {
    out.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    out.externalData = ext.put(t);
    return out;
  }
  if (deferred && t.byteLength >= STREAM_THRESHOLD) {
    deferred.set(out, t); // raw_data is streamed by writeStreaming
    return out;
  }
  out.rawData = t.rawBytes();
  return out;
}

function attributeToProto(name: string, a: AttributeWithDoc): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  const base: OnnxTypes.IAttributeProto = { name };
  if (a.docString) base.docString = a.docString;
  switch (a.type) {
    case 'REF': return { ...base, refAttrName: a.refAttrName, type: a.refType };
    case 'FLOAT': return { ...base, type: T.FLOAT, f: a.value };
    case 'INT': return { ...base, type: T.INT, i: toLong(a.value) };
    case 'STRING': return { ...base, type: T.STRING, s: a.value };
    case 'TENSOR': return { ...base, type: T.TENSOR, t: tensorToProto('', a.value, null) };
    case 'GRAPH': return { ...base, type: T.GRAPH, g: a.value };
    case 'SPARSE_TENSOR': return { ...base, type: T.SPARSE_TENSOR, sparseTensor: a.value };
    case 'TYPE_PROTO': return { ...base, type: T.TYPE_PROTO, tp: a.value };
    case 'FLOATS': return { ...base, type: T.FLOATS, floats: [...a.value] };
    case 'INTS': return { ...base, type: T.INTS, ints: a.value.map((x) => toLong(x)) };
    case 'STRINGS': return { ...base, type: T.STRINGS, strings: [...a.value] };
    case 'TENSORS': return { ...base, type: T.TENSORS, tensors: a.value.map((t) => tensorToProto('', t, null)) };
    case 'GRAPHS': return { ...base, type: T.GRAPHS, graphs: [...a.value] };
    case 'SPARSE_TENSORS': return { ...base, type: T.SPARSE_TENSORS, sparseTensors: [...a.value] };
    case 'TYPE_PROTOS': return { ...base, type: T.TYPE_PROTOS, typeProtos: [...a.value] };
    default: {
      const never: never = a;
      throw new Error(`unknown attribute kind ${(never as { type: string }).type}`);
    }
  }
}
