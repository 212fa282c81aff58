/**
 * Lowering the optimized ONNX graph to WebGPU layers, with fusion.
 *
 * Every activation keeps the batch as its first dimension; a layer is described
 * per image (its `shape` is the value's shape without the batch). Ops become:
 *   Conv                          -> conv (implicit GEMM, any kernel/stride/pad; groups -> grouped conv)
 *   Gemm / MatMul with constant B -> fc   (y = x W^T + b)
 *   BatchNormalization            -> affine   y = x*s + t,  s = gamma/sqrt(var+eps), t = beta - mean*s
 *   Mul/Add/Sub/Div by a constant -> affine   (per channel or scalar)
 *   PRelu / LeakyRelu / Relu / Clip -> activation ops
 *   Add of two activations        -> add
 *   Flatten/Reshape/Squeeze/Unsqueeze/Identity/Dropout -> views (no data moves: row-major layout is unchanged)
 *   MaxPool / AveragePool / GlobalAveragePool -> pools
 *
 * Fusion (all exact up to float rounding):
 *   epilogue: conv/fc output -> [affine | prelu | relu | clip | add(residual)]* while each
 *     intermediate has a single consumer and is not a graph output:
 *     y = chain(acc + bias). The residual must already exist when the conv runs; it
 *     cannot depend on the conv (the chain's values have one consumer each), so the
 *     fused graph stays acyclic.
 *   prologue: affine -> conv where the affine's output is read only by convs: the conv
 *     applies x*s[c]+t[c] to in-bounds taps and keeps 0 for padding, which is what
 *     Conv(pad(affine(x))) computes (folding the affine into the weights would not be
 *     exact at the borders: the padded zeros would get the shift t too).
 *   elementwise chains: affine/activation/add nodes that cannot join a conv form one
 *     elementwise layer each run of single-consumer nodes.
 */
import { isSame, samePads } from '../../ir/conv-geometry.js';
import { bnAffine } from '../../analysis/batchnorm.js';
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import type { TensorData } from '../../ir/tensor.js';
import { UnsupportedError } from '../../errors.js';
import type { Aux, Variant } from './wgsl/common.js';
import type { KernelOut } from './wgsl/kernel.js';
import { OP_TABLE, type LowerContext } from './op-table.js';
import { constOf } from './ops/const.js';

/** One elementwise operation applied per element, with its per-channel parameters. */
export type EpiOp =
  | { readonly op: 'affine'; readonly scale: Float32Array | null; readonly shift: Float32Array | null }
  | { readonly op: 'prelu'; readonly alpha: Float32Array }
  | { readonly op: 'relu' }
  | { readonly op: 'clip'; readonly min: number; readonly max: number }
  | { readonly op: 'sigmoid' }
  | { readonly op: 'hardsigmoid'; readonly alpha: number; readonly beta: number }
  | { readonly op: 'hardswish' }
  | { readonly op: 'add'; readonly input: Act };

/** An activation: a graph value as seen per image. Views share their root's storage. */
export interface Act {
  readonly id: number;
  readonly name: string;
  /** Per-image shape (without the batch dimension). */
  readonly shape: readonly number[];
  readonly elements: number;
  /** The value whose storage this one reads (itself unless a view). */
  root: Act;
}

export interface ConvLayer {
  readonly kind: 'conv';
  readonly x: Act;
  out: Act;
  readonly cin: number; readonly h: number; readonly w: number;
  readonly cout: number; readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number;
  /** Top and left padding (bottom/right follow from the output size). */
  readonly pt: number; readonly pl: number;
  readonly group: number;
  /** Weight [cout][cin/group][kh][kw], as in ONNX. */
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  prologue: { scale: Float32Array | null; shift: Float32Array | null } | null;
  readonly epi: EpiOp[];
  readonly nodes: string[];
}

export interface FcLayer {
  readonly kind: 'fc';
  readonly x: Act;
  out: Act;
  readonly k: number;
  readonly d: number;
  /** Weight [d][k] (y = x W^T). */
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly epi: EpiOp[];
  readonly nodes: string[];
}

export interface EltwiseLayer {
  readonly kind: 'eltwise';
  readonly x: Act;
  out: Act;
  /** Channels (axis 0 of the per-image shape) and elements per channel. */
  readonly channels: number;
  readonly inner: number;
  readonly epi: EpiOp[];
  readonly nodes: string[];
}

export interface PoolLayer {
  readonly kind: 'maxpool' | 'avgpool';
  readonly x: Act;
  out: Act;
  readonly c: number; readonly h: number; readonly w: number; readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly pt: number; readonly pl: number; readonly pb: number; readonly pr: number;
  readonly countIncludePad: boolean;
  readonly nodes: string[];
}

export interface GapLayer {
  readonly kind: 'gap';
  readonly x: Act;
  out: Act;
  readonly c: number;
  readonly hw: number;
  readonly nodes: string[];
}

/**
 * A layer lowered by an op-table rule (op-table.ts, ops/*.ts): its data inputs and
 * its kernels are data, so the memory plan and the bindings need no per-op code.
 */
export interface OpLayer {
  readonly kind: 'op';
  /** The rule's kernel family (e.g. 'concat', 'gather', 'binary'), shown in model.json. */
  readonly op: string;
  /** The first data input (what `inputShape` in model.json describes). */
  readonly x: Act;
  /** Every activation the kernels read, x first. */
  readonly inputs: readonly Act[];
  out: Act;
  readonly nodes: string[];
  /** What the layer computes besides its op, for model.json's `fused` (e.g. 'mul'). */
  readonly fused: readonly string[];
  /** The layer's kernels for a variant, run in order; per-layer f32 parameters go into `aux`. */
  readonly kernels: (v: Variant, aux: Aux) => KernelOut[];
}

export type Layer = ConvLayer | FcLayer | EltwiseLayer | PoolLayer | GapLayer | OpLayer;

/** Every activation a layer reads (its input, residuals, an op layer's other inputs). */
export function layerInputs(l: Layer): Act[] {
  if (l.kind === 'op') return [...l.inputs];
  const d = [l.x];
  if (l.kind === 'conv' || l.kind === 'fc' || l.kind === 'eltwise') for (const e of l.epi) if (e.op === 'add') d.push(e.input);
  return d;
}

export interface Plan {
  readonly input: Act;
  readonly inputShape: readonly [number, number, number];
  /** The model's input layout: NHWC when the input kernel does the model's first Transpose to NCHW. */
  readonly inputLayout: 'NCHW' | 'NHWC';
  readonly output: Act;
  readonly layers: readonly Layer[];
  readonly acts: readonly Act[];
}

/** Ops that only re-read their input's storage (row-major layout unchanged): no kernel. */
export const VIEW_OPS = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);

export { constOf };

export interface Problem {
  readonly node: string;
  readonly op: string;
  readonly reason: string;
}

/**
 * Per-channel parameters of a constant broadcast against an activation of per-image
 * shape `s`: the constant must vary at most along the channel axis (axis 1 of the
 * full tensor). Returns the parameter expanded to `s[0]` channels, or a reason.
 */
export function perChannel(c: TensorData, s: readonly number[]): Float32Array | string {
  const full = s.length + 1;
  const dims = c.dims;
  if (dims.length > full) return `constant of shape [${dims.join(',')}] has more dimensions than the activation`;
  const aligned = [...Array(full - dims.length).fill(1), ...dims] as number[];
  const channels = s[0] ?? 1;
  for (let i = 0; i < full; i++) {
    if (i === 1) continue;
    if (aligned[i] !== 1) return `constant of shape [${dims.join(',')}] varies along axis ${i}; only per-channel (axis 1) or scalar constants are supported`;
  }
  const n = full > 1 ? aligned[1]! : 1;
  if (n !== 1 && n !== channels) return `constant of shape [${dims.join(',')}] does not match ${channels} channels`;
  const vals = c.float32();
  const out = new Float32Array(channels);
  for (let i = 0; i < channels; i++) out[i] = vals[n === 1 ? 0 : i]!;
  return out;
}

function numericShape(v: Value): number[] | undefined {
  const s = v.shape;
  if (!s || s.length < 1) return undefined;
  const rest = s.slice(1);
  return rest.every((d) => typeof d === 'number' && d >= 0) ? (rest as number[]) : undefined;
}

/** Lower a graph. Throws UnsupportedError listing every problem found. */
export function planGraph(g: Graph, outputName?: string): Plan {
  const problems: Problem[] = [];
  const acts = new Map<Value, Act>();
  const actList: Act[] = [];
  const getAct = (v: Value, shape?: readonly number[]): Act => {
    let a = acts.get(v);
    if (!a) {
      const s = shape ?? numericShape(v);
      if (!s) throw new Error(`internal: no per-image shape for ${v.name}`);
      const obj: Act = { id: actList.length, name: v.name, shape: [...s], elements: s.reduce((x, y) => x * y, 1), root: null as unknown as Act };
      obj.root = obj;
      a = obj;
      acts.set(v, a);
      actList.push(a);
    }
    return a;
  };

  const inputs = g.realInputs();
  if (inputs.length !== 1) {
    throw new UnsupportedError('webgpu-input', `the webgpu target needs exactly one model input, the model has ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`, 'strip training-only inputs (label) with the export pipeline');
  }
  const inV = inputs[0]!;
  let inShape = numericShape(inV);
  // An NHWC input [N, H, W, 3] (Keras / tf2onnx exports) read only by Transposes to NCHW:
  // the input kernel does that transpose (wgsl/io.ts), and the network starts at their outputs.
  let inputLayout: 'NCHW' | 'NHWC' = 'NCHW';
  let netInputs: Value[] = [inV];
  const toNchw = new Set<Node>();
  if (inShape && inShape.length === 3 && inShape[2] === 3 && inShape[0] !== 3) {
    const readers = inV.uses.map((u) => u.node);
    if (readers.length && readers.every((n) => n.op === 'Transpose' && n.attrInts('perm', []).join(',') === '0,3,1,2')) {
      inputLayout = 'NHWC';
      inShape = [3, inShape[0]!, inShape[1]!];
      netInputs = readers.map((n) => n.output(0));
      for (const n of readers) toNchw.add(n);
    }
  }
  if (!inShape || inShape.length !== 3 || inShape[0] !== 3) {
    throw new UnsupportedError('webgpu-input', `the webgpu target needs an input [N, 3, H, W], or [N, H, W, 3] read only by a Transpose to NCHW, with H and W known, got ${inV.name} [${(inV.shape ?? []).join(', ')}]`);
  }
  const outV = outputName ? g.outputs.find((v) => v.name === outputName) : g.outputs[0];
  if (!outV) throw new UnsupportedError('webgpu-output', `the model has no output named ${outputName}`);

  // Everything the output needs, in topological order.
  g.toposort();
  const needed = new Set<Node>();
  const stack: Value[] = [outV];
  const seen = new Set<Value>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = v.producer;
    if (!p) continue;
    needed.add(p);
    for (const i of p.inputs) if (i) stack.push(i);
  }
  const nodes = g.nodes.filter((n) => needed.has(n) && !toNchw.has(n));

  // Pass 1: check every node, collecting problems.
  for (const n of nodes) {
    const reason = checkNode(n);
    if (reason) problems.push({ node: n.name, op: n.op, reason });
  }
  if (problems.length) throw unsupported(problems);

  // Pass 2: one raw layer per node (views resolve to their source).
  const input = getAct(netInputs[0]!, inShape);
  for (const v of netInputs.slice(1)) acts.set(v, input);
  interface Raw { layer: Layer | null; node: Node; }
  const raws: Raw[] = [];
  const producerOf = new Map<Act, Raw>();
  for (const n of nodes) {
    if (n.op === 'Constant') continue;
    const out = n.output(0);
    const os = numericShape(out);
    if (!os) {
      problems.push({ node: n.name, op: n.op, reason: `output ${out.name} has no known per-image shape [${(out.shape ?? []).join(', ')}]` });
      continue;
    }
    const xv = dataInputs(n)[0]!;
    const x = acts.get(xv);
    if (!x) {
      problems.push({ node: n.name, op: n.op, reason: `input ${xv.name} is not computed from the model input` });
      continue;
    }
    if (VIEW_OPS.has(n.op)) {
      const o = getAct(out, os);
      if (o.elements !== x.elements) problems.push({ node: n.name, op: n.op, reason: `reshapes ${x.elements} elements per image into ${o.elements}: the batch dimension must stay first` });
      o.root = x.root;
      continue;
    }
    const inputActs = dataInputs(n).map((v) => acts.get(v) ?? null);
    const missing = dataInputs(n).find((v) => !acts.get(v));
    if (missing) {
      problems.push({ node: n.name, op: n.op, reason: `input ${missing.name} is not computed from the model input` });
      continue;
    }
    const fail = (reason: string): null => {
      problems.push({ node: n.name, op: n.op, reason });
      return null;
    };
    const ctx: LowerContext = { x, out: getAct(out, os), inputs: inputActs as Act[], acts, problems, fail };
    const layer = OP_TABLE[n.op]!.lower(n, ctx);
    if (layer) {
      const r = { layer, node: n };
      raws.push(r);
      producerOf.set(layer.out, r);
    }
  }
  if (problems.length) throw unsupported(problems);

  // Uses of every activation root by layers (views count for their root), and graph-output roots.
  const outputRoot = getAct(outV).root;
  const usesOf = (a: Act): Layer[] => {
    const out: Layer[] = [];
    for (const r of raws) {
      const l = r.layer;
      if (!l) continue;
      if (layerInputs(l).some((i) => i.root === a)) out.push(l);
    }
    return out;
  };
  const isOutput = (a: Act) => a === outputRoot;

  // Pass 3a: prologue fusion (affine -> convs).
  for (const r of raws) {
    const l = r.layer;
    if (!l || l.kind !== 'eltwise' || l.epi.length !== 1 || l.epi[0]!.op !== 'affine') continue;
    if (isOutput(l.out) || l.out.root !== l.out) continue;
    // An affine right after a conv/fc joins that layer's epilogue instead (pass 3b): cheaper
    // once per output than once per tap.
    const src = producerOf.get(l.x);
    if (src?.layer && src.layer.kind !== 'maxpool' && src.layer.kind !== 'avgpool' && src.layer.kind !== 'gap' && src.layer.kind !== 'op' && l.x.root === l.x && usesOf(l.x).length === 1 && !isOutput(l.x)) continue;
    // Only consumers reading the value itself (not through a view) and only as conv input.
    const direct = raws.filter((q) => q.layer && q.layer.x === l.out);
    const all = usesOf(l.out);
    if (all.length === 0 || direct.length !== all.length) continue;
    if (!direct.every((q) => q.layer!.kind === 'conv' && (q.layer as ConvLayer).group === 1 && !(q.layer as ConvLayer).prologue)) continue;
    if (actList.some((a) => a !== l.out && a.root === l.out)) continue; // a view of it exists
    const aff = l.epi[0] as Extract<EpiOp, { op: 'affine' }>;
    for (const q of direct) {
      const c = q.layer as ConvLayer;
      const fused: ConvLayer = { ...c, x: l.x, prologue: { scale: aff.scale, shift: aff.shift }, nodes: [...l.nodes, ...c.nodes] };
      q.layer = fused;
      producerOf.set(fused.out, q);
    }
    r.layer = null;
  }

  // Pass 3b: epilogue fusion (chains after conv / fc / eltwise).
  for (const r of raws) {
    const l = r.layer;
    if (!l || (l.kind !== 'conv' && l.kind !== 'fc' && l.kind !== 'eltwise')) continue;
    for (;;) {
      const cur = l.out;
      if (isOutput(cur) || cur.root !== cur) break;
      if (actList.some((a) => a !== cur && a.root === cur)) break;
      const users = usesOf(cur);
      if (users.length !== 1) break;
      const u = users[0]!;
      if (u.kind !== 'eltwise') break;
      const addIn = u.epi[0]?.op === 'add' ? (u.epi[0] as { input: Act }).input : null;
      if (u.x === cur && addIn === cur) break; // x + x
      if (u.x !== cur && addIn !== cur) break;
      const q = producerOf.get(u.out)!;
      // The user's chain joins ours. If the user read `cur` as its add operand, its x is the residual.
      let extra: EpiOp[] = u.epi;
      if (u.x !== cur) extra = [{ op: 'add', input: u.x }, ...u.epi.slice(1)];
      if (extra.filter((e) => e.op === 'add').length + l.epi.filter((e) => e.op === 'add').length > 1) break;
      l.epi.push(...extra);
      l.nodes.push(...u.nodes);
      l.out = u.out;
      producerOf.set(l.out, r);
      q.layer = null;
    }
  }

  const layers = orderLayers(raws.map((r) => r.layer).filter((l): l is Layer => l !== null), input);
  return { input, inputShape: [3, inShape[1]!, inShape[2]!], inputLayout, output: getAct(outV), layers, acts: actList };
}

/** Topological order of the fused layers (inputs and residuals first), stable otherwise. */
function orderLayers(layers: Layer[], input: Act): Layer[] {
  const ready = new Set<Act>([input.root]);
  const out: Layer[] = [];
  const pending = [...layers];
  const deps = (l: Layer): Act[] => layerInputs(l).map((a) => a.root);
  while (pending.length) {
    const i = pending.findIndex((l) => deps(l).every((a) => ready.has(a)));
    if (i < 0) throw new Error('internal: fused layers form a cycle');
    const [l] = pending.splice(i, 1);
    out.push(l!);
    ready.add(l!.out.root);
  }
  return out;
}

function unsupported(problems: readonly Problem[]): UnsupportedError {
  const ops = [...new Set(problems.map((p) => p.op))].sort();
  const list = problems.map((p) => `${p.op} (${p.node}): ${p.reason}`).join('; ');
  return new UnsupportedError(
    'webgpu-unsupported',
    `the webgpu target cannot convert ${problems.length} node(s) [${ops.join(', ')}]: ${list}`,
    `supported ops: ${Object.keys(OP_TABLE).join(', ')}; use --target onnx or tfjs for this model`,
  );
}

/** Non-constant inputs of a node. */
export function dataInputs(n: Node): Value[] {
  return n.inputs.filter((v): v is Value => !!v && !constOf(v));
}

/** Why a node cannot be lowered (or undefined when it can): the op table's check. Shapes are checked later. */
function checkNode(n: Node): string | undefined {
  if (n.domain !== '' && n.domain !== 'ai.onnx') return `custom domain ${n.domain}`;
  const rule = Object.prototype.hasOwnProperty.call(OP_TABLE, n.op) ? OP_TABLE[n.op] : undefined;
  if (!rule) return 'no WebGPU kernel for this op';
  if (n.op === 'Constant') return undefined;
  if (dataInputs(n).length === 0) return 'all inputs are constant (constant folding should have removed it)';
  return rule.check(n);
}

/** The checks of the ops lowered in this file (the op table's first rows). */
export function checkBuiltin(n: Node): string | undefined {
  const data = dataInputs(n);
  switch (n.op) {
    case 'Conv': {
      if (!constOf(n.inputs[1])) return 'the weight is not constant';
      if (n.inputs[2] && !constOf(n.inputs[2])) return 'the bias is not constant';
      const w = constOf(n.inputs[1])!;
      if (w.dims.length !== 4) return `only 2-D convolutions are supported (weight rank ${w.dims.length})`;
      if (n.attrInts('dilations', [1, 1]).some((d) => d !== 1)) return 'dilation other than 1';
      return undefined;
    }
    case 'Gemm': {
      if (!constOf(n.inputs[1])) return 'B is not constant';
      if (n.attrInt('transA', 0) !== 0) return 'transA=1';
      if (n.inputs[2] && !constOf(n.inputs[2])) return 'C is not constant';
      return undefined;
    }
    case 'MatMul': {
      const b = constOf(n.inputs[1]);
      if (!b) return 'B is not constant (only x @ W with a constant W is supported)';
      if (b.dims.length !== 2) return `B has rank ${b.dims.length}, 2 needed`;
      return undefined;
    }
    case 'BatchNormalization': {
      if (n.outputs.filter((o) => !o.placeholder && o.uses.length > 0).length > 1 || n.attrInt('training_mode', 0) === 1) return 'training-mode batch norm';
      for (let i = 1; i < 5; i++) if (!constOf(n.inputs[i])) return 'statistics or parameters are not constant';
      return undefined;
    }
    case 'Add': case 'Mul': case 'Sub': case 'Div': {
      if (data.length === 2) return n.op === 'Add' ? undefined : `${n.op} of two activations`;
      return undefined;
    }
    case 'PRelu':
      return constOf(n.inputs[1]) ? undefined : 'the slope is not constant';
    case 'Clip': {
      for (const i of [1, 2]) if (n.inputs[i] && !constOf(n.inputs[i])) return 'min/max are not constant';
      return undefined;
    }
    case 'MaxPool': case 'AveragePool': {
      if ((n.attrInts('kernel_shape') ?? []).length !== 2) return 'only 2-D pooling is supported';
      if (n.attrInts('dilations', [1, 1]).some((d) => d !== 1)) return 'dilation other than 1';
      if (n.outputs.length > 1 && n.outputs[1]!.uses.length) return 'MaxPool indices output';
      return undefined;
    }
    case 'Reshape':
      return constOf(n.inputs[1]) ? undefined : 'the target shape is not constant';
    case 'Squeeze': case 'Unsqueeze':
      return n.inputs[1] && !constOf(n.inputs[1]) ? 'axes are not constant' : undefined;
    case 'Dropout':
      return n.outputs.length > 1 && n.outputs[1]!.uses.length ? 'the dropout mask is used' : undefined;
    default:
      return undefined;
  }
}

function pads2(n: Node, h: number, w: number, kh: number, kw: number, sh: number, sw: number, oh: number, ow: number): [number, number, number, number] {
  const autoPad = n.attrString('auto_pad', 'NOTSET');
  if (isSame(autoPad)) {
    // Dilation 1: the lowering refuses any other.
    const [t, b] = samePads(h, kh, sh, 1, autoPad), [l, r] = samePads(w, kw, sw, 1, autoPad);
    return [t, l, b, r];
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  const p = n.attrInts('pads', [0, 0, 0, 0]);
  return [p[0]!, p[1]!, p[2]!, p[3]!];
}

/** Lowering of the ops in this file (the op table's first rows). */
export function lowerBuiltin(n: Node, x: Act, out: Act, acts: Map<Value, Act>, problems: Problem[]): Layer | null {
  const fail = (reason: string) => {
    problems.push({ node: n.name, op: n.op, reason });
    return null;
  };
  const nodes = [n.name];
  switch (n.op) {
    case 'Conv': {
      if (x.shape.length !== 3 || out.shape.length !== 3) return fail('input and output must be [N, C, H, W]');
      const wt = constOf(n.inputs[1])!;
      const [cout, cinG, kh, kw] = wt.dims as [number, number, number, number];
      const group = n.attrInt('group', 1);
      const [cin, h, w] = x.shape as [number, number, number];
      const [oc, oh, ow] = out.shape as [number, number, number];
      if (cinG * group !== cin || cout % group !== 0 || oc !== cout) return fail(`weight [${wt.dims.join(',')}] with group ${group} does not fit input channels ${cin}`);
      const [sh, sw] = n.attrInts('strides', [1, 1]) as [number, number];
      const [pt, pl] = pads2(n, h, w, kh, kw, sh, sw, oh, ow);
      const bias = n.inputs[2] ? constOf(n.inputs[2])!.float32() : null;
      return { kind: 'conv', x, out, cin, h, w, cout, oh, ow, kh, kw, sh, sw, pt, pl, group, weight: wt.float32(), bias, prologue: null, epi: [], nodes };
    }
    case 'Gemm': case 'MatMul': {
      if (x.shape.length !== 1) return fail(`input must be [N, K], per image [${x.shape.join(',')}]`);
      const b = constOf(n.inputs[1])!;
      if (b.dims.length !== 2) return fail('B must be 2-D');
      const transB = n.op === 'Gemm' && n.attrInt('transB', 0) === 1;
      const [r, c] = b.dims as [number, number];
      const k = transB ? c : r, d = transB ? r : c;
      if (k !== x.shape[0]) return fail(`B [${b.dims.join(',')}] does not fit K=${x.shape[0]}`);
      const alpha = n.op === 'Gemm' ? n.attrFloat('alpha', 1) : 1;
      const beta = n.op === 'Gemm' ? n.attrFloat('beta', 1) : 1;
      const src = b.float32();
      const weight = new Float32Array(d * k);
      for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) weight[i * k + j] = alpha * (transB ? src[i * k + j]! : src[j * d + i]!);
      let bias: Float32Array | null = null;
      const cv = n.op === 'Gemm' ? n.inputs[2] : null;
      if (cv) {
        const ct = constOf(cv)!;
        const pc = perChannel(ct, [d]);
        if (typeof pc === 'string') return fail(`C: ${pc}`);
        bias = pc.map((v) => v * beta);
      }
      return { kind: 'fc', x, out, k, d, weight, bias, epi: [], nodes };
    }
    case 'MaxPool': case 'AveragePool': case 'GlobalAveragePool': {
      if (x.shape.length !== 3 || out.shape.length !== 3) return fail('input and output must be [N, C, H, W]');
      const [c, h, w] = x.shape as [number, number, number];
      const [, oh, ow] = out.shape as [number, number, number];
      if (n.op === 'GlobalAveragePool') return { kind: 'gap', x, out, c, hw: h * w, nodes };
      const [kh, kw] = n.attrInts('kernel_shape') as [number, number];
      const [sh, sw] = n.attrInts('strides', [1, 1]) as [number, number];
      const [pt, pl, pb, pr] = pads2(n, h, w, kh, kw, sh, sw, oh, ow);
      return { kind: n.op === 'MaxPool' ? 'maxpool' : 'avgpool', x, out, c, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, countIncludePad: n.attrInt('count_include_pad', 0) === 1, nodes };
    }
    default: {
      const epi = elementwiseOp(n, x, acts, fail);
      if (!epi) return null;
      const op = epi;
      return { kind: 'eltwise', x: op.x, out, channels: x.shape[0] ?? 1, inner: x.shape.slice(1).reduce((a, b) => a * b, 1), epi: [op.op], nodes };
    }
  }
}

/** An elementwise node as an EpiOp applied to its activation input `x`. */
function elementwiseOp(n: Node, x: Act, acts: Map<Value, Act>, fail: (r: string) => null): { x: Act; op: EpiOp } | null {
  const s = x.shape;
  const pc = (v: Value | null | undefined, what: string): Float32Array | null => {
    const c = constOf(v);
    if (!c) return null;
    const r = perChannel(c, s);
    if (typeof r === 'string') {
      fail(`${what}: ${r}`);
      return null;
    }
    return r;
  };
  switch (n.op) {
    case 'BatchNormalization': {
      const eps = n.attrFloat('epsilon', 1e-5);
      const [g, b, m, v] = [1, 2, 3, 4].map((i) => constOf(n.inputs[i])!.float64());
      const c = s[0]!;
      if (g!.length !== c) return fail(`has ${g!.length} channels, the input ${c}`);
      const affine = bnAffine(g!, b!, m!, v!, eps); // float64, then float32
      const scale = Float32Array.from(affine.s), shift = Float32Array.from(affine.t);
      return { x, op: { op: 'affine', scale, shift } };
    }
    case 'Add': case 'Mul': case 'Sub': case 'Div': {
      const [a, b] = [n.inputs[0]!, n.inputs[1]!];
      const ca = constOf(a), cb = constOf(b);
      if (!ca && !cb) {
        // Both are activations: only Add, same shape.
        const xa = acts.get(a)!, xb = acts.get(b);
        if (!xb) return fail(`input ${b.name} is not computed from the model input`);
        if (xa.elements !== xb.elements || xa.shape.join(',') !== xb.shape.join(',')) return fail(`adds [${xa.shape.join(',')}] and [${xb.shape.join(',')}]: only same-shape residual adds are supported`);
        return { x: xa, op: { op: 'add', input: xb } };
      }
      const constFirst = !!ca;
      const p = pc(constFirst ? a : b, 'constant operand');
      if (!p) return null;
      switch (n.op) {
        case 'Add': return { x, op: { op: 'affine', scale: null, shift: p } };
        case 'Mul': return { x, op: { op: 'affine', scale: p, shift: null } };
        case 'Sub': return constFirst ? { x, op: { op: 'affine', scale: p.map(() => -1), shift: p } } : { x, op: { op: 'affine', scale: null, shift: p.map((v) => -v) } };
        case 'Div': return constFirst ? fail('constant divided by an activation') : { x, op: { op: 'affine', scale: p.map((v) => 1 / v), shift: null } };
      }
      return null;
    }
    case 'PRelu': {
      const p = pc(n.inputs[1], 'slope');
      return p ? { x, op: { op: 'prelu', alpha: p } } : null;
    }
    case 'LeakyRelu': {
      const a = n.attrFloat('alpha', 0.01);
      return { x, op: { op: 'prelu', alpha: new Float32Array(s[0] ?? 1).fill(a) } };
    }
    case 'Relu':
      return { x, op: { op: 'relu' } };
    case 'Clip': {
      let min = n.attrFloat('min', -3.4028234663852886e38), max = n.attrFloat('max', 3.4028234663852886e38);
      const cmin = constOf(n.inputs[1]), cmax = constOf(n.inputs[2]);
      if (cmin) min = cmin.float32()[0]!;
      if (cmax) max = cmax.float32()[0]!;
      return { x, op: { op: 'clip', min, max } };
    }
    default:
      return fail('no WebGPU kernel for this op');
  }
}
