/**
 * Lowering the optimized ONNX graph to WebGPU layers, with fusion.
 *
 * Every activation keeps the batch as its first dimension; a layer is described
 * per image (its `shape` is the value's shape without the batch). Each node is
 * checked and lowered by its row of the op table (op-table.ts, one file per op in
 * ops/): Conv -> conv, Gemm / MatMul -> fc, BatchNormalization and Mul/Add/Sub/Div
 * by a constant -> affine, activations -> eltwise, pools, views (no kernel: the
 * row-major layout is unchanged), and op layers that carry their own kernels.
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
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { UnsupportedError } from '../../errors.js';
import type { Aux, Variant } from './wgsl/common.js';
import type { KernelOut } from './wgsl/kernel.js';
import { OP_TABLE, type LowerContext } from './op-table.js';
import { constOf } from './ops/const.js';
import { perChannel } from './ops/per-channel.js';

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

export { constOf, perChannel };

export interface Problem {
  readonly node: string;
  readonly op: string;
  readonly reason: string;
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
    if (OP_TABLE[n.op]!.view) {
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
