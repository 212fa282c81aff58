/**
 * ONNX file -> IR. Decodes with onnx-proto from one read of the file; tensor
 * bytes stay views into that buffer (protobufjs slices Buffers without copying)
 * or, for external data, are read when first needed.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError, Sf2Error } from '../errors.js';
import type { Attribute, AttributeWithDoc } from '../ir/attribute.js';
import { DType, byteLengthOf, dtypeInfo } from '../ir/dtype.js';
import { Graph } from '../ir/graph.js';
import { Model } from '../ir/model.js';
import { TensorData } from '../ir/tensor.js';
import type { Dim, Value } from '../ir/value.js';
import { resolveExternal } from './external-data.js';
import { checkRequiredInputs } from './arity.js';
import { onnx, toBigInt, toSafeNumber, type LongLike, type OnnxTypes } from './proto.js';
import { findUnknownFields } from './unknown-fields.js';
import { readSkeleton, type LazyRange, type Skeleton } from './lazy-file.js';

export interface LoadOptions {
  /** Called once per warning (fields that will be dropped, renamed duplicates, ...). */
  onWarning?: (message: string) => void;
}

/** Load an ONNX model from a file. Errors are InputError (exit code 3) naming the file. */
export function loadOnnx(path: string, options: LoadOptions = {}): Model {
  const abs = resolve(path);
  let skeleton: Skeleton;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new InputError('model-read', `${path} is not a file`, 'pass the path of a .onnx file');
    if (st.size === 0) throw new InputError('model-decode', `${path} is empty`, 'pass an ONNX model file');
    skeleton = readSkeleton(abs);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('model-read', `${path} does not exist`, 'check the path of the model');
    if (e instanceof RangeError) {
      throw new InputError('model-decode', `${path} is not a valid ONNX file (${e.message}); it may be truncated`, 'export the model again, or check the download');
    }
    throw new InputError('model-read', `${path} cannot be read: ${(e as Error).message}`);
  }
  const model = decodeOnnx(skeleton.bytes, { path: abs, displayPath: path, baseDir: dirname(abs), lazy: skeleton.lazy, ...options });
  model.fileBytes = skeleton.fileBytes;
  return model;
}

export interface DecodeOptions extends LoadOptions {
  /** Folder external data is relative to; without it, external data is refused. */
  baseDir?: string;
  path?: string;
  displayPath?: string;
  /** Initializers whose raw_data was left in the file at `path` (see lazy-file.ts). */
  lazy?: ReadonlyMap<number, LazyRange>;
}

export function decodeOnnx(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  const where = options.displayPath ?? options.path ?? '<bytes>';
  if (bytes.byteLength === 0) throw new InputError('model-decode', `${where} is empty`, 'pass an ONNX model file');
  let proto: OnnxTypes.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new InputError('model-decode', `${where} is not a valid ONNX file (${(e as Error).message}); it may be truncated`, 'export the model again, or check the download');
  }
  if (!proto.graph || toBigInt(proto.irVersion) <= 0n || (proto.graph.node ?? []).length === 0) {
    throw new InputError('model-decode', `${where} is not an ONNX model (no graph, IR version or nodes)`, 'pass a .onnx file exported by torch.onnx.export');
  }
  try {
    return importModel(proto, bytes, where, options);
  } catch (e) {
    // Anything but our own errors while reading a decoded model (a RangeError on a
    // 2^60 dimension, a typed array that cannot be made, a deeply nested subgraph)
    // is a malformed model, not a bug: exit 3, naming the file.
    if (e instanceof Sf2Error) throw e;
    throw new InputError('model-decode', `${where} is a malformed ONNX model (${oneLineMessage(e)})`, 'the model is damaged or was not written by torch.onnx.export; export it again', { cause: e });
  }
}

/** An error's message on one line, without ANSI escapes, at most 300 characters. */
export function oneLineMessage(e: unknown): string {
  // eslint-disable-next-line no-control-regex
  const m = String((e as Error)?.message ?? e).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\s*\n\s*/g, ' ').trim();
  return m.length > 300 ? `${m.slice(0, 297)}...` : m;
}

function importModel(proto: OnnxTypes.ModelProto, bytes: Uint8Array, where: string, options: DecodeOptions): Model {
  const warn = (msg: string) => {
    model.warnings.push(msg);
    options.onWarning?.(msg);
  };
  const model = new Model();
  model.path = options.path;
  model.fileBytes = bytes.byteLength;
  for (const [field, count] of findUnknownFields(bytes)) {
    warn(`${where}: ${count} ${field} field(s) are not known to onnx-proto (ONNX 1.10, IR 8) and will be dropped from the output (docs/onnx.md)`);
  }
  model.irVersion = toSafeNumber(proto.irVersion, 'ir_version');
  model.opsetImports = (proto.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toSafeNumber(o.version, 'opset version') }));
  model.producerName = proto.producerName ?? '';
  model.producerVersion = proto.producerVersion ?? '';
  model.domain = proto.domain ?? '';
  model.modelVersion = toBigInt(proto.modelVersion);
  model.docString = proto.docString ?? '';
  model.metadataProps = (proto.metadataProps ?? []).map((p) => ({ key: p.key ?? '', value: p.value ?? '' }));
  model.functions = proto.functions ?? [];
  model.trainingInfo = proto.trainingInfo ?? [];
  const ctx: Ctx = { where, modelPath: options.displayPath ?? options.path ?? '<bytes>', baseDir: options.baseDir, warn, lazy: options.lazy, file: options.path };
  model.graph = importGraph(proto.graph!, ctx);
  try {
    model.graph.verify();
    checkRequiredInputs(model.graph);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.code, `${where}: ${e.message}`, e.hint);
    throw e;
  }
  return model;
}

interface Ctx {
  readonly where: string;
  readonly modelPath: string;
  readonly baseDir: string | undefined;
  readonly warn: (msg: string) => void;
  readonly lazy?: ReadonlyMap<number, LazyRange>;
  readonly file?: string;
}

function importGraph(gp: OnnxTypes.IGraphProto, ctx: Ctx): Graph {
  const g = new Graph();
  g.name = gp.name ?? '';
  g.docString = gp.docString ?? '';
  g.sparseInitializers = gp.sparseInitializer ?? [];
  g.quantizationAnnotation = gp.quantizationAnnotation ?? [];
  const fail = (msg: string, hint?: string): never => {
    throw new InputError('graph-invalid', `${ctx.where}: ${msg}`, hint);
  };
  const getOrAdd = (name: string): Value => g.value(name) ?? g.addValue(name, { exact: true });

  (gp.initializer ?? []).forEach((t, index) => {
    const name = t.name ?? '';
    if (!name) fail('an initializer has no name');
    if (g.value(name)) fail(`initializer ${name} is defined twice`);
    const v = g.addValue(name, { exact: true });
    const range = ctx.lazy?.get(index);
    v.const = range ? lazyTensor(t, range, ctx) : importTensor(t, ctx);
    v.dtype = v.const.dtype;
    v.shape = [...v.const.dims];
    v.docString = t.docString ?? '';
  });
  for (const vi of gp.input ?? []) {
    const v = getOrAdd(vi.name ?? '');
    applyValueInfo(v, vi);
    g.inputs.push(v);
  }
  // Nodes: outputs first pass so that producers are known even for unsorted graphs.
  const seenNodeNames = new Set<string>();
  for (const np of gp.node ?? []) {
    let name = np.name ?? '';
    if (name && seenNodeNames.has(name)) {
      const fresh = g.uniqueNodeName(name);
      ctx.warn(`${ctx.where}: node name ${name} is used twice; the second is renamed ${fresh}`);
      name = fresh;
    }
    if (name) seenNodeNames.add(name);
    const node = g._addImportedNode(np.opType ?? '', np.domain ?? '', name);
    node.docString = np.docString ?? '';
    for (const out of np.output ?? []) {
      if (out === '') {
        // An omitted optional output: keep its slot with a fresh, unused value.
        const v = g.addValue(`${name || node.op}_unused`);
        v.placeholder = true;
        node._addOutput(v);
        continue;
      }
      const v = getOrAdd(out);
      if (v.producer) fail(`value ${out} is produced by two nodes (${v.producer.name} and ${name})`, 'every value must have one producer');
      if (v.const) fail(`value ${out} is both an initializer and the output of node ${name}`);
      node._addOutput(v);
    }
  }
  const nodes = g.nodes;
  (gp.node ?? []).forEach((np, k) => {
    const node = nodes[k]!;
    for (const a of np.attribute ?? []) {
      const key = a.name ?? '';
      node.attrs.set(key, importAttribute(a, ctx));
    }
    (np.input ?? []).forEach((name, i) => {
      if (name === '') {
        node.setInput(i, null);
        return;
      }
      const v = g.value(name);
      if (!v) {
        fail(`node ${node.name || node.op} reads ${name}, which no node produces and is neither a graph input nor an initializer`, 'the model is incomplete; re-export it');
      }
      node.setInput(i, v!);
    });
    for (const free of freeNamesOfSubgraphs(node.attrs)) {
      const v = g.value(free);
      if (v) node.addImplicitInput(v);
    }
  });
  for (const vi of gp.valueInfo ?? []) {
    const v = g.value(vi.name ?? '');
    if (v) applyValueInfo(v, vi);
  }
  for (const vi of gp.output ?? []) {
    const v = g.value(vi.name ?? '');
    if (!v) fail(`graph output ${vi.name} is produced by nothing`);
    applyValueInfo(v!, vi);
    g.outputs.push(v!);
  }
  return g;
}

function applyValueInfo(v: Value, vi: OnnxTypes.IValueInfoProto): void {
  const tt = vi.type?.tensorType;
  if (vi.docString) v.docString = vi.docString;
  if (!tt) return;
  if (tt.elemType) v.dtype = tt.elemType;
  if (tt.shape) {
    v.shape = (tt.shape.dim ?? []).map((d): Dim => {
      if (d.dimParam) return d.dimParam;
      if (d.dimValue !== null && d.dimValue !== undefined) {
        const n = toSafeNumber(d.dimValue, 'dim');
        if (n < 0) throw new RangeError(`value ${v.name} has a negative dimension ${n}`); // made an InputError naming the file by decodeOnnx
        return n;
      }
      return null;
    });
  }
}

/** An initializer whose raw_data stayed in the model file. */
function lazyTensor(t: OnnxTypes.ITensorProto, range: LazyRange, ctx: Ctx): TensorData {
  const name = t.name ?? '';
  const where = `${ctx.where}: tensor ${name}`;
  const dtype = t.dataType ?? 0;
  let dims: number[];
  try {
    dims = (t.dims ?? []).map((d) => toSafeNumber(d, 'dim'));
    dtypeInfo(dtype);
  } catch {
    throw new InputError('tensor', `${where} has a bad dimension or element type`);
  }
  const want = byteLengthOf(dtype, dims.reduce((a, b) => a * b, 1));
  if (range.length !== want) {
    throw new InputError('tensor', `${where}: raw_data has ${range.length} bytes, ${dtypeInfo(dtype).name}[${dims.join(',')}] needs ${want}`, 'the model is damaged; re-export it');
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) throw new InputError('tensor', `${where} has both raw_data and external data`);
  return new TensorData(dtype, dims, { kind: 'file', ext: { file: ctx.file!, location: ctx.modelPath, offset: range.offset, length: range.length } });
}

export function importTensor(t: OnnxTypes.ITensorProto, ctx: Ctx): TensorData {
  const name = t.name ?? '';
  const dtype = t.dataType ?? 0;
  const where = `${ctx.where}: tensor ${name}`;
  if (t.segment) throw new InputError('tensor', `${where} is segmented, which sf2-export does not read`, 're-export without segments');
  let dims: number[];
  try {
    dims = (t.dims ?? []).map((d) => toSafeNumber(d, 'dim'));
  } catch {
    throw new InputError('tensor', `${where} has a dimension out of range`);
  }
  if (dims.some((d) => d < 0)) throw new InputError('tensor', `${where} has a negative dimension`);
  let info;
  try {
    info = dtypeInfo(dtype);
  } catch {
    throw new InputError('tensor', `${where} has unknown element type ${dtype}`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    if (!ctx.baseDir) throw new InputError('external-data', `${where} uses external data, which needs the model loaded from a file`);
    const ext = resolveExternal(ctx.modelPath, ctx.baseDir, name, t.externalData ?? [], byteLengthOf(dtype, count));
    return new TensorData(dtype, dims, { kind: 'external', ext });
  }
  if (dtype === DType.STRING) return new TensorData(dtype, dims, { kind: 'strings', strings: t.stringData ?? [] });
  const raw = t.rawData;
  if (raw && raw.byteLength > 0) {
    const want = byteLengthOf(dtype, count);
    if (raw.byteLength !== want) {
      throw new InputError('tensor', `${where}: raw_data has ${raw.byteLength} bytes, ${info.name}[${dims.join(',')}] needs ${want}`, 'the model is damaged; re-export it');
    }
    return new TensorData(dtype, dims, { kind: 'bytes', bytes: raw });
  }
  const field = t[info.field] as unknown[] | null | undefined;
  const values = field ?? [];
  const converted =
    info.field === 'int64Data' ? (values as LongLike[]).map((x) => toBigInt(x))
      : info.field === 'uint64Data' ? (values as LongLike[]).map((x) => toBigInt(x, true))
        : (values as number[]);
  if (count > 0 && converted.length === 0) {
    throw new InputError('tensor', `${where} has no data (${count} elements expected)`, 'the model is damaged; re-export it');
  }
  const perElement = dtype === 14 || dtype === 15 ? 2 : 1; // complex: (re, im) pairs
  if (!Number.isSafeInteger(count) || converted.length !== count * perElement) {
    throw new InputError('tensor', `${where} has ${converted.length} value${converted.length === 1 ? '' : 's'}, ${info.name}[${dims.join(',')}] needs ${count}`, 'the model is damaged; re-export it');
  }
  const td = new TensorData(dtype, dims, { kind: 'typed', values: converted as number[] });
  td.rawBytes(); // validates the element count now, so a bad file fails at load
  return td;
}

function importAttribute(a: OnnxTypes.IAttributeProto, ctx: Ctx): AttributeWithDoc {
  const T = onnx.AttributeProto.AttributeType;
  const doc = a.docString ? { docString: a.docString } : {};
  if (a.refAttrName) return { type: 'REF', refAttrName: a.refAttrName, refType: a.type ?? 0, ...doc };
  let type = a.type ?? 0;
  if (type === T.UNDEFINED) type = inferAttrType(a);
  const tctx = { ...ctx, where: `${ctx.where}: attribute ${a.name}` };
  let out: Attribute;
  switch (type) {
    case T.FLOAT: out = { type: 'FLOAT', value: a.f ?? 0 }; break;
    case T.INT: out = { type: 'INT', value: toBigInt(a.i) }; break;
    case T.STRING: out = { type: 'STRING', value: a.s ?? new Uint8Array() }; break;
    case T.TENSOR: out = { type: 'TENSOR', value: importTensor(a.t ?? {}, tctx) }; break;
    case T.GRAPH: out = { type: 'GRAPH', value: a.g ?? {} }; break;
    case T.SPARSE_TENSOR: out = { type: 'SPARSE_TENSOR', value: a.sparseTensor ?? {} }; break;
    case T.TYPE_PROTO: out = { type: 'TYPE_PROTO', value: a.tp ?? {} }; break;
    case T.FLOATS: out = { type: 'FLOATS', value: [...(a.floats ?? [])] }; break;
    case T.INTS: out = { type: 'INTS', value: (a.ints ?? []).map((x) => toBigInt(x)) }; break;
    case T.STRINGS: out = { type: 'STRINGS', value: [...(a.strings ?? [])] }; break;
    case T.TENSORS: out = { type: 'TENSORS', value: (a.tensors ?? []).map((t) => importTensor(t, tctx)) }; break;
    case T.GRAPHS: out = { type: 'GRAPHS', value: [...(a.graphs ?? [])] }; break;
    case T.SPARSE_TENSORS: out = { type: 'SPARSE_TENSORS', value: [...(a.sparseTensors ?? [])] }; break;
    case T.TYPE_PROTOS: out = { type: 'TYPE_PROTOS', value: [...(a.typeProtos ?? [])] }; break;
    default:
      throw new InputError('attribute', `${ctx.where}: attribute ${a.name} has unknown type ${type}`);
  }
  return { ...out, ...doc };
}

/** IR < 3 models may leave `type` unset; infer it from the field that is filled. */
function inferAttrType(a: OnnxTypes.IAttributeProto): number {
  const T = onnx.AttributeProto.AttributeType;
  if (a.floats?.length) return T.FLOATS;
  if (a.ints?.length) return T.INTS;
  if (a.strings?.length) return T.STRINGS;
  if (a.tensors?.length) return T.TENSORS;
  if (a.graphs?.length) return T.GRAPHS;
  if (a.t) return T.TENSOR;
  if (a.g) return T.GRAPH;
  if (a.s?.length) return T.STRING;
  if (a.i !== null && a.i !== undefined && toBigInt(a.i) !== 0n) return T.INT;
  return T.FLOAT;
}

/** Names read inside subgraph attributes that the subgraphs do not define themselves. */
function freeNamesOfSubgraphs(attrs: Map<string, AttributeWithDoc>): Set<string> {
  const free = new Set<string>();
  // Iterative (a hostile model can nest subgraphs arbitrarily deep).
  const stack: Array<[OnnxTypes.IGraphProto, Set<string>]> = [];
  for (const a of attrs.values()) {
    if (a.type === 'GRAPH') stack.push([a.value, new Set()]);
    if (a.type === 'GRAPHS') for (const sg of a.value) stack.push([sg, new Set()]);
  }
  while (stack.length) {
    const [gp, outer] = stack.pop()!;
    const defined = new Set(outer);
    for (const t of gp.initializer ?? []) defined.add(t.name ?? '');
    for (const i of gp.input ?? []) defined.add(i.name ?? '');
    for (const n of gp.node ?? []) for (const o of n.output ?? []) defined.add(o);
    for (const n of gp.node ?? []) {
      for (const i of n.input ?? []) if (i && !defined.has(i)) free.add(i);
      for (const a of n.attribute ?? []) {
        if (a.g) stack.push([a.g, defined]);
        for (const sg of a.graphs ?? []) stack.push([sg, defined]);
      }
    }
    for (const o of gp.output ?? []) if (o.name && !defined.has(o.name)) free.add(o.name);
  }
  return free;
}

