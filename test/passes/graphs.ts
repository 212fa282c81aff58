/**
 * Small models built with the IR directly, for the pass tests: each BN pattern,
 * a SphereFace2-style head, shape subgraphs. Parameters are seeded, so every
 * test input is reproducible.
 */
import { attr } from '../../src/ir/attribute.js';
import { DType } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Model } from '../../src/ir/model.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { TensorData } from '../../src/ir/tensor.js';
import type { Dim, Value } from '../../src/ir/value.js';
import { rng } from '../helpers/ort.js';

export type Rand = () => number;

export function uniform(r: Rand, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export interface BnStats {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly eps: number;
}

export function randomStats(r: Rand, c: number, eps = 1e-5, varRange: [number, number] = [0.2, 2]): BnStats {
  return {
    gamma: uniform(r, c, -1.5, 1.5),
    beta: uniform(r, c, -1, 1),
    mean: uniform(r, c, -1, 1),
    variance: uniform(r, c, varRange[0], varRange[1]),
    eps,
  };
}

export function newModel(opset = 17): { m: Model; g: Graph } {
  const b = new GraphBuilder();
  b.graph.name = 'test';
  return { m: b.model(opset), g: b.graph };
}

export function input(g: Graph, name: string, shape: Dim[], dtype: number = DType.FLOAT): Value {
  return new GraphBuilder(g).input(name, shape, dtype);
}

export function constant(g: Graph, name: string, dims: number[], values: Float32Array): Value {
  return new GraphBuilder(g).floats(name, dims, values);
}

export function bn(g: Graph, x: Value, st: BnStats, name = 'bn'): Value {
  const c = st.gamma.length;
  const n = g.addNode({
    op: 'BatchNormalization',
    name,
    inputs: [x, constant(g, `${name}.gamma`, [c], st.gamma), constant(g, `${name}.beta`, [c], st.beta), constant(g, `${name}.mean`, [c], st.mean), constant(g, `${name}.var`, [c], st.variance)],
    outputs: [`${name}_out`],
    attrs: { epsilon: attr.float(st.eps) },
  });
  return n.outputs[0]!;
}

export interface ConvSpec {
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly pad: number;
  readonly stride?: number;
  readonly group?: number;
  readonly bias: boolean;
}

export function conv(g: Graph, r: Rand, x: Value, s: ConvSpec, name = 'conv'): { y: Value; weight: Float32Array } {
  const group = s.group ?? 1;
  const wDims = [s.cout, s.cin / group, s.k, s.k];
  const fan = (s.cin / group) * s.k * s.k;
  const weight = uniform(r, wDims.reduce((a, b) => a * b, 1), -1 / Math.sqrt(fan), 1 / Math.sqrt(fan));
  const ins = [x, constant(g, `${name}.weight`, wDims, weight)];
  if (s.bias) ins.push(constant(g, `${name}.bias`, [s.cout], uniform(r, s.cout, -0.5, 0.5)));
  const n = g.addNode({
    op: 'Conv',
    name,
    inputs: ins,
    outputs: [`${name}_out`],
    attrs: { kernel_shape: attr.ints([s.k, s.k]), pads: attr.ints([s.pad, s.pad, s.pad, s.pad]), strides: attr.ints([s.stride ?? 1, s.stride ?? 1]), group: attr.int(group) },
  });
  return { y: n.outputs[0]!, weight };
}

/** x[N, cin, h, w] -> Conv -> BN -> out */
export function convBnModel(seed: number, s: ConvSpec, h: number, st?: BnStats): Model {
  const r = rng(seed);
  const { m, g } = newModel();
  const x = input(g, 'x', ['N', s.cin, h, h]);
  const { y } = conv(g, r, x, s);
  g.outputs = [bn(g, y, st ?? randomStats(r, s.cout))];
  return m;
}

/** x -> BN -> Conv -> out (bn-conv; exact only when pad = 0) */
export function bnConvModel(seed: number, s: ConvSpec, h: number, st?: BnStats, consumers = 1): Model {
  const r = rng(seed);
  const { m, g } = newModel();
  const x = input(g, 'x', ['N', s.cin, h, h]);
  const b = bn(g, x, st ?? randomStats(r, s.cin));
  const outs: Value[] = [];
  for (let i = 0; i < consumers; i++) outs.push(conv(g, r, b, s, `conv${i}`).y);
  g.outputs = outs;
  return m;
}

export interface GemmSpec {
  readonly k: number;
  readonly nOut: number;
  readonly op: 'Gemm' | 'MatMul' | 'MatMulAdd';
  readonly transB?: boolean;
  readonly bias: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

/** x[N, k] -> Gemm | MatMul (+Add) -> y[N, nOut] */
export function linear(g: Graph, r: Rand, x: Value, s: GemmSpec, name = 'fc'): Value {
  const transB = s.op === 'Gemm' && !!s.transB;
  const wDims = transB ? [s.nOut, s.k] : [s.k, s.nOut];
  const w = constant(g, `${name}.weight`, wDims, uniform(r, s.k * s.nOut, -1 / Math.sqrt(s.k), 1 / Math.sqrt(s.k)));
  const bias = s.bias ? constant(g, `${name}.bias`, [s.nOut], uniform(r, s.nOut, -0.5, 0.5)) : null;
  if (s.op === 'Gemm') {
    const attrs: Record<string, ReturnType<typeof attr.int>> = { transB: attr.int(transB ? 1 : 0) };
    if (s.alpha !== undefined) attrs.alpha = attr.float(s.alpha);
    if (s.beta !== undefined) attrs.beta = attr.float(s.beta);
    return g.addNode({ op: 'Gemm', name, inputs: bias ? [x, w, bias] : [x, w], outputs: [`${name}_out`], attrs }).outputs[0]!;
  }
  const mm = g.addNode({ op: 'MatMul', name, inputs: [x, w], outputs: [`${name}_mm`] }).outputs[0]!;
  mm.dtype = DType.FLOAT;
  mm.shape = [x.shape?.[0] ?? null, s.nOut];
  if (s.op === 'MatMulAdd' && bias) return g.addNode({ op: 'Add', name: `${name}_bias`, inputs: [mm, bias], outputs: [`${name}_out`] }).outputs[0]!;
  return mm;
}

/** x[N, k] -> Gemm|MatMul(+Add) -> BN1d -> out */
export function gemmBnModel(seed: number, s: GemmSpec, st?: BnStats): Model {
  const r = rng(seed);
  const { m, g } = newModel();
  const x = input(g, 'x', ['N', s.k]);
  g.outputs = [bn(g, linear(g, r, x, s), st ?? randomStats(r, s.nOut))];
  return m;
}

/** x[N, c, h, h] -> BN -> Flatten -> Gemm|MatMul -> out ; or x[N, c] -> BN -> Gemm (h = 0) */
export function bnFlattenGemmModel(seed: number, c: number, h: number, s: Omit<GemmSpec, 'k'>, st?: BnStats, flatten: 'Flatten' | 'Reshape' = 'Flatten'): Model {
  const r = rng(seed);
  const { m, g } = newModel();
  const x = input(g, 'x', h ? ['N', c, h, h] : ['N', c]);
  const b = bn(g, x, st ?? randomStats(r, c));
  let flat = b;
  if (h) {
    flat = flatten === 'Flatten'
      ? g.addNode({ op: 'Flatten', name: 'flatten', inputs: [b], outputs: ['flat'], attrs: { axis: attr.int(1) } }).outputs[0]!
      : g.addNode({ op: 'Reshape', name: 'flatten', inputs: [b, g.addConstant('flat_shape', TensorData.int64([2], [0, -1]))], outputs: ['flat'] }).outputs[0]!;
    flat.dtype = DType.FLOAT;
    flat.shape = ['N', c * h * h];
  }
  g.outputs = [linear(g, r, flat, { ...s, k: h ? c * h * h : c })];
  return m;
}

/** x -> Conv -> a; (a + x) -> BN -> PRelu -> out: a BN after a residual Add (standalone) */
export function residualBnModel(seed: number, c: number, h: number, st?: BnStats): Model {
  const r = rng(seed);
  const { m, g } = newModel();
  const x = input(g, 'x', ['N', c, h, h]);
  const { y } = conv(g, r, x, { cin: c, cout: c, k: 3, pad: 1, bias: false });
  const sum = g.addNode({ op: 'Add', name: 'residual', inputs: [y, x], outputs: ['sum'] }).outputs[0]!;
  const b = bn(g, sum, st ?? randomStats(r, c));
  const slope = constant(g, 'slope', [c, 1, 1], uniform(r, c, 0.05, 0.3));
  g.outputs = [g.addNode({ op: 'PRelu', name: 'prelu', inputs: [b, slope], outputs: ['out'] }).outputs[0]!];
  return m;
}

export interface HeadSpec {
  readonly d: number;
  readonly classes: number;
  readonly layout: 'DxC' | 'CxD';
  /** Output the embedding too. */
  readonly withEmbedding?: boolean;
  /** A training export's label input (one-hot margin). */
  readonly label?: boolean;
}

/**
 * A tiny backbone (conv 3x3/2 + PRelu, BN, flatten, fc, BN1d) with a
 * SphereFace2 head: normalize(E) = E / max(ReduceL2(E), eps) expanded by
 * Shape(E); cos = normalize(E) @ W (DxC, MatMul) or Gemm(transB=1) with CxD;
 * logits = 40 * (2 * ((cos + 1) / 2)^3 - 1) + b; with `label`, minus
 * 0.4 * (2 * onehot(label) - 1) (onehot via Equal against a Range-like constant).
 */
export function headModel(seed: number, s: HeadSpec, h = 16): { model: Model; embedding: string; weight: string } {
  const r = rng(seed);
  const { m, g } = newModel(13);
  const x = input(g, 'input', ['batch', 3, h, h]);
  const c1 = conv(g, r, x, { cin: 3, cout: 4, k: 3, pad: 1, stride: 2, bias: true }, 'c1').y;
  const p1 = g.addNode({ op: 'PRelu', name: 'p1', inputs: [c1, constant(g, 'slope', [4, 1, 1], uniform(r, 4, 0.1, 0.3))], outputs: ['p1_out'] }).outputs[0]!;
  const b1 = bn(g, p1, randomStats(r, 4), 'bn2d');
  const fl = g.addNode({ op: 'Flatten', name: 'flatten', inputs: [b1], outputs: ['flat'], attrs: { axis: attr.int(1) } }).outputs[0]!;
  const hw = (h / 2) * (h / 2);
  const fc = linear(g, r, fl, { op: 'Gemm', transB: true, k: 4 * hw, nOut: s.d, bias: true }, 'fc');
  const e = bn(g, fc, randomStats(r, s.d), 'features');
  // head
  const l2 = g.addNode({ op: 'ReduceL2', name: 'head_l2', inputs: [e], outputs: ['head_l2_out'], attrs: { axes: attr.ints([1]), keepdims: attr.int(1) } }).outputs[0]!;
  const clip = g.addNode({ op: 'Clip', name: 'head_clip', inputs: [l2, g.addConstant('head_eps', TensorData.float32([], [1e-12]))], outputs: ['head_clip_out'] }).outputs[0]!;
  const shp = g.addNode({ op: 'Shape', name: 'head_shape', inputs: [e], outputs: ['head_shape_out'] }).outputs[0]!;
  const ex = g.addNode({ op: 'Expand', name: 'head_expand', inputs: [clip, shp], outputs: ['head_expand_out'] }).outputs[0]!;
  const xn = g.addNode({ op: 'Div', name: 'head_div', inputs: [e, ex], outputs: ['head_xn'] }).outputs[0]!;
  const wv = uniform(r, s.d * s.classes, -1, 1);
  const wName = 'head.w';
  let cos: Value;
  if (s.layout === 'DxC') {
    const w = constant(g, wName, [s.d, s.classes], wv);
    cos = g.addNode({ op: 'MatMul', name: 'head_matmul', inputs: [xn, w], outputs: ['cos'] }).outputs[0]!;
  } else {
    const w = constant(g, wName, [s.classes, s.d], wv);
    cos = g.addNode({ op: 'Gemm', name: 'head_gemm', inputs: [xn, w], outputs: ['cos'], attrs: { transB: attr.int(1) } }).outputs[0]!;
  }
  const k = (name: string, v: number) => g.addConstant(name, TensorData.float32([], [v]));
  const op = (o: string, a: Value, b: Value, name: string) => g.addNode({ op: o, name, inputs: [a, b], outputs: [`${name}_out`] }).outputs[0]!;
  let gcos = op('Sub', op('Mul', op('Pow', op('Div', op('Add', cos, k('one', 1), 'h_add1'), k('two', 2), 'h_div2'), k('t', 3), 'h_pow'), k('two2', 2), 'h_mul2'), k('one2', 1), 'h_sub1');
  const inputs = [x];
  if (s.label) {
    const label = input(g, 'label', ['batch'], DType.INT64);
    inputs.push(label);
    const lab = g.addNode({ op: 'Unsqueeze', name: 'h_lab', inputs: [label, g.addConstant('h_ax', TensorData.int64([1], [1]))], outputs: ['h_lab_out'] }).outputs[0]!;
    const eq = g.addNode({ op: 'Equal', name: 'h_eq', inputs: [lab, g.addConstant('h_classes', TensorData.int64([1, s.classes], Array.from({ length: s.classes }, (_, i) => i)))], outputs: ['h_eq_out'] }).outputs[0]!;
    const oh = g.addNode({ op: 'Cast', name: 'h_onehot', inputs: [eq], outputs: ['h_onehot_out'], attrs: { to: attr.int(DType.FLOAT) } }).outputs[0]!;
    const marg = op('Mul', op('Sub', op('Mul', oh, k('two3', 2), 'h_m2'), k('one3', 1), 'h_m1'), k('m', 0.4), 'h_margin');
    gcos = op('Sub', gcos, marg, 'h_sub_margin');
  }
  const logits = op('Add', op('Mul', gcos, k('r', 40), 'h_r'), k('b', -9.5), 'h_logits');
  g.rename(logits, 'logits');
  g.outputs = s.withEmbedding ? [e, logits] : [logits];
  if (s.withEmbedding) g.rename(e, 'embedding');
  return { model: m, embedding: e.name, weight: wName };
}
