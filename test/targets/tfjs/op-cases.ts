/**
 * Op tests as data: each case builds a small ONNX graph on an input x
 * [2, 4, 9, 9] (NCHW) with the IR builder. op-map.test.ts runs every case on
 * onnxruntime (the reference) and through the tfjs target on the cpu and wasm
 * backends, and checks that every OP_MAP entry is covered by some case.
 */
import { attr } from '../../../src/ir/attribute.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DType } from '../../../src/ir/dtype.js';
import { TensorData } from '../../../src/ir/tensor.js';
import type { Model } from '../../../src/ir/model.js';
import { inferShapes } from '../../../src/ir/shape-infer.js';
import type { Attribute } from '../../../src/ir/attribute.js';
import type { Value } from '../../../src/ir/value.js';

/** Deterministic uniform [-1, 1) numbers (mulberry32). */
export function rand(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export class CaseBuilder {
  readonly b = new GraphBuilder();
  readonly g = this.b.graph;
  readonly x: Value;
  private seed = 1;

  constructor(shape: readonly (number | string)[] = ['N', 4, 9, 9]) {
    this.x = this.b.input('x', [...shape]);
  }

  /** A float constant with random values (scaled) or given values. */
  c(dims: readonly number[], values?: ArrayLike<number> | number): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = typeof values === 'number' || values === undefined ? rand(n, this.seed++ * 7919).map((v) => v * (typeof values === 'number' ? values : 1)) : Float32Array.from(values);
    return this.b.floats(this.g.uniqueName('c'), dims, data);
  }

  i64(values: readonly number[]): Value {
    return this.b.int64s(this.g.uniqueName('i'), values);
  }

  op(op: string, inputs: readonly (Value | null)[], attrs: Record<string, Attribute> = {}): Value {
    return this.b.node(op, inputs, attrs, { outputs: [this.g.uniqueName(op.toLowerCase())] });
  }

  model(out: Value, opset = 13): Model {
    this.g.outputs = [out];
    inferShapes(this.g);
    return this.b.model(opset);
  }
}

export interface OpCase {
  readonly name: string;
  readonly build: (b: CaseBuilder) => Value;
  readonly opset?: number;
  /** Input values: default uniform [-1, 1). */
  readonly input?: (n: number) => Float32Array;
}

const ints = attr.ints, int = attr.int, float = attr.float, str = attr.string;
const conv = (b: CaseBuilder, x: Value, o: number, i: number, k: number, attrs: Record<string, Attribute> = {}, bias = true) =>
  b.op('Conv', [x, b.c([o, i, k, k], 0.3), bias ? b.c([o], 0.2) : null], { kernel_shape: ints([k, k]), ...attrs });
const flat = (b: CaseBuilder) => b.op('Flatten', [b.x], { axis: int(1) });

export const OP_CASES: readonly OpCase[] = [
  { name: 'Conv + bias + Relu (fused)', build: (b) => b.op('Relu', [conv(b, b.x, 6, 4, 3, { pads: ints([1, 1, 1, 1]) })]) },
  { name: 'Conv + per-channel PRelu (fused)', build: (b) => b.op('PRelu', [conv(b, b.x, 6, 4, 3, { pads: ints([1, 1, 1, 1]) }), b.c([6, 1, 1], 0.3)]) },
  { name: 'Conv stride 2, asymmetric pads + LeakyRelu', build: (b) => b.op('LeakyRelu', [conv(b, b.x, 5, 4, 3, { strides: ints([2, 2]), pads: ints([1, 0, 1, 1]) })], { alpha: float(0.1) }) },
  { name: 'Conv 1x1 without bias', build: (b) => conv(b, b.x, 3, 4, 1, {}, false) },
  { name: 'Conv auto_pad SAME_LOWER stride 2', build: (b) => conv(b, b.x, 3, 4, 3, { auto_pad: str('SAME_LOWER'), strides: ints([2, 2]) }) },
  { name: 'Conv auto_pad SAME_UPPER, VALID', build: (b) => conv(b, conv(b, b.x, 3, 4, 2, { auto_pad: str('SAME_UPPER') }), 2, 3, 3, { auto_pad: str('VALID') }) },
  { name: 'Conv dilation 2', build: (b) => conv(b, b.x, 3, 4, 3, { dilations: ints([2, 2]), pads: ints([2, 2, 2, 2]) }) },
  { name: 'depthwise Conv + bias + Relu', build: (b) => b.op('Relu', [b.op('Conv', [b.x, b.c([8, 1, 3, 3], 0.3), b.c([8], 0.1)], { group: int(4), kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) })]) },
  { name: 'depthwise Conv without bias', build: (b) => b.op('Conv', [b.x, b.c([4, 1, 3, 3], 0.3)], { group: int(4), kernel_shape: ints([3, 3]), strides: ints([2, 2]) }) },
  { name: 'BatchNormalization 4-D', build: (b) => b.op('BatchNormalization', [b.x, b.c([4], 0.5), b.c([4]), b.c([4]), b.c([4], [0.5, 1, 1.5, 2])], { epsilon: float(1e-3) }) },
  { name: 'Flatten + BatchNormalization 1-D (flat layout)', build: (b) => b.op('BatchNormalization', [flat(b), b.c([324], 0.5), b.c([324]), b.c([324]), b.c([324], Array.from({ length: 324 }, (_, i) => 0.5 + (i % 7) / 7))]) },
  { name: 'Flatten + Gemm(transB) + Relu (flat weight permutation)', build: (b) => b.op('Relu', [b.op('Gemm', [flat(b), b.c([10, 324], 0.1), b.c([10], 0.1)], { transB: int(1) })]) },
  { name: 'Gemm alpha/beta, B [K, M], C [1, M]', build: (b) => b.op('Gemm', [flat(b), b.c([324, 7], 0.1), b.c([1, 7])], { alpha: float(0.5), beta: float(2) }) },
  { name: 'Gemm with a full [N, M] C', input: (n) => rand(n, 5), build: (b) => b.op('Gemm', [b.op('Reshape', [b.x, b.i64([2, 324])]), b.c([324, 3], 0.1), b.c([2, 3])]) },
  { name: 'Gemm of two activations (transB)', build: (b) => { const f = flat(b); return b.op('Gemm', [f, f], { transB: int(1), alpha: float(0.25) }); } },
  { name: 'Flatten + MatMul + Add(bias) + PRelu (fused)', build: (b) => b.op('PRelu', [b.op('Add', [b.op('MatMul', [flat(b), b.c([324, 6], 0.1)]), b.c([6])]), b.c([6], 0.3)]) },
  { name: 'MatMul rank 3 x rank 3', build: (b) => { const r = b.op('Reshape', [b.x, b.i64([0, 4, 81])]); return b.op('MatMul', [r, b.op('Transpose', [r], { perm: ints([0, 2, 1]) })]); } },
  { name: 'residual Add (both NHWC) + Relu', build: (b) => b.op('Relu', [b.op('Add', [conv(b, b.x, 4, 4, 3, { pads: ints([1, 1, 1, 1]) }), b.x])]) },
  { name: 'Mul / Sub / Div with broadcast constants', build: (b) => b.op('Div', [b.op('Sub', [b.c([1, 9], 0.5), b.op('Mul', [b.x, b.c([4, 1, 1])])]), b.c([], [1.5])]) },
  { name: 'Pow, Max, Min with constants', build: (b) => b.op('Min', [b.op('Max', [b.op('Pow', [b.op('Add', [b.op('Abs', [b.x]), b.c([], [1])]), b.c([], [1.5])]), b.c([1, 1, 9], 0.5)]), b.c([4, 9, 1], 1.2)]) },
  { name: 'PRelu standalone with a [4,1,1] slope', build: (b) => b.op('PRelu', [b.x, b.c([4, 1, 1], 0.3)]) },
  { name: 'PRelu with one slope (LeakyRelu) after a Conv', build: (b) => b.op('PRelu', [b.op('Add', [conv(b, b.x, 4, 4, 1), b.x]), b.c([1], [0.2])]) },
  { name: 'PRelu with a slope over W (general form), NHWC input', build: (b) => b.op('PRelu', [b.op('Add', [conv(b, b.x, 4, 4, 1), b.x]), b.c([9], 0.5)]) },
  { name: 'PRelu on flat features and on [N, D]', build: (b) => b.op('PRelu', [b.op('PRelu', [flat(b), b.c([324], 0.5)]), b.c([1, 324], 0.5)]) },
  { name: 'Sigmoid, Tanh, Neg, Exp', build: (b) => b.op('Exp', [b.op('Neg', [b.op('Tanh', [b.op('Sigmoid', [b.x])])])]) },
  { name: 'Log, Sqrt, Reciprocal, Abs', build: (b) => b.op('Reciprocal', [b.op('Sqrt', [b.op('Log', [b.op('Add', [b.op('Abs', [b.x]), b.c([], [1.5])])])])]) },
  { name: 'Erf, Softplus, Elu', build: (b) => b.op('Elu', [b.op('Softplus', [b.op('Erf', [b.x])])]) },
  { name: 'Floor, Ceil', build: (b) => b.op('Add', [b.op('Floor', [b.op('Mul', [b.x, b.c([], [3.3])])]), b.op('Ceil', [b.op('Mul', [b.x, b.c([], [2.7])])])]) },
  { name: 'Clip (opset 13 inputs) and Relu', build: (b) => b.op('Relu', [b.op('Clip', [b.x, b.c([], [-0.5]), b.c([], [0.5])])]) },
  { name: 'Identity, Dropout, Cast to float', build: (b) => b.op('Cast', [b.op('Dropout', [b.op('Identity', [b.x])])], { to: int(DType.FLOAT) }) },
  { name: 'Reshape to [0, -1] (flat) and to [2, 4, 81]', input: (n) => rand(n, 9), build: (b) => b.op('Add', [b.op('Reshape', [b.op('Reshape', [b.x, b.i64([2, 4, 81])]), b.i64([0, -1])]), b.op('Reshape', [b.x, b.i64([0, -1])])]) },
  { name: 'Transpose of an NHWC value', build: (b) => b.op('Transpose', [b.op('Relu', [b.x])], { perm: ints([0, 2, 3, 1]) }) },
  { name: 'ReduceMean keepdims + Squeeze + Unsqueeze', build: (b) => b.op('Unsqueeze', [b.op('Squeeze', [b.op('ReduceMean', [b.x], { axes: ints([2, 3]), keepdims: int(1) }), b.i64([3])]), b.i64([0])]) },
  { name: 'Concat of NHWC values on channels', build: (b) => b.op('Concat', [b.x, b.op('Relu', [b.x])], { axis: int(1) }) },
  { name: 'Constant node', build: (b) => b.op('Add', [b.x, b.op('Constant', [], { value: attr.tensor(TensorData.float32([4, 1, 1], [1, 2, 3, 4])) })]) },
  { name: 'Pad constant (opset 13)', build: (b) => b.op('Pad', [b.x, b.i64([0, 0, 1, 2, 0, 0, 2, 1]), b.c([], [0.5])], { mode: str('constant') }) },
  { name: 'grouped Conv (group 2, 2 input channels per group) + bias + PRelu', build: (b) => b.op('PRelu', [b.op('Conv', [b.x, b.c([6, 2, 3, 3], 0.3), b.c([6], 0.1)], { group: int(2), kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }), b.c([6, 1, 1], 0.3)]) },
  { name: 'grouped Conv (group 2) without bias, stride 2', build: (b) => b.op('Conv', [b.x, b.c([4, 2, 3, 3], 0.3)], { group: int(2), kernel_shape: ints([3, 3]), strides: ints([2, 2]) }) },
  { name: 'depthwise Conv with multiplier 2 (group = channels)', build: (b) => b.op('Conv', [b.x, b.c([8, 1, 3, 3], 0.3), b.c([8], 0.1)], { group: int(4), kernel_shape: ints([3, 3]) }) },
  { name: 'HardSigmoid (alpha, beta), HardSwish', opset: 14, build: (b) => b.op('HardSwish', [b.op('Add', [b.op('HardSigmoid', [b.x], { alpha: float(0.3), beta: float(0.4) }), b.op('Mul', [b.x, b.c([], [4])])])]) },
  { name: 'Pad reflect and edge (NHWC), negative pads crop', build: (b) => b.op('Pad', [b.op('Pad', [b.op('Relu', [b.x]), b.i64([0, 0, 2, 1, 0, 0, 1, 3])], { mode: str('reflect') }), b.i64([0, 1, -1, 2, 0, 0, 1, -2])], { mode: str('edge') }) },
  { name: 'Slice with steps and negative indices (NHWC), on flat features', build: (b) => b.op('Add', [b.op('Reshape', [b.op('Slice', [b.op('Relu', [b.x]), b.i64([0, 1, -1]), b.i64([3, 9007199254740991, -10]), b.i64([1, 2, 3]), b.i64([1, 2, -2])]), b.i64([0, -1])]), b.op('Slice', [flat(b), b.i64([3]), b.i64([243]), b.i64([1]), b.i64([4])])]) },
  { name: 'Resize nearest x2 (asymmetric, floor) and to sizes (half_pixel)', build: (b) => b.op('Concat', [b.op('Resize', [b.x, b.c([0], []), b.c([4], [1, 1, 2, 2])], { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }), b.op('Resize', [b.x, null, null, b.i64([2, 4, 18, 18])], { mode: str('nearest') })], { axis: int(1) }) },
  { name: 'Upsample opset 9 nearest x2', opset: 9, build: (b) => b.op('Upsample', [b.x, b.c([4], [1, 1, 2, 2])], { mode: str('nearest') }) },
  { name: 'Expand of a norm [N, 1] to [N, 324] (F.normalize)', build: (b) => { const f = flat(b); return b.op('Div', [f, b.op('Expand', [b.op('ReduceL2', [f], { axes: ints([1]) }), b.i64([2, 324])])]); } },
  { name: 'MaxPool k3 s2 pads 1 (TF SAME)', build: (b) => b.op('MaxPool', [b.x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }) },
  { name: 'MaxPool k3 s1 pads [0,0,2,2] (explicit)', build: (b) => b.op('MaxPool', [b.x], { kernel_shape: ints([3, 3]), pads: ints([0, 0, 2, 2]) }) },
  { name: 'MaxPool k2 s2 no pads', build: (b) => b.op('MaxPool', [b.x], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }) },
  { name: 'AveragePool count_include_pad=1 (explicit)', build: (b) => b.op('AveragePool', [b.x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), count_include_pad: int(1) }) },
  { name: 'AveragePool count_include_pad=0 (TF SAME)', build: (b) => b.op('AveragePool', [b.x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }) },
  { name: 'GlobalAveragePool, GlobalMaxPool', build: (b) => b.op('Add', [b.op('GlobalAveragePool', [b.x]), b.op('GlobalMaxPool', [b.x])]) },
  { name: 'ReduceSum (axes input), ReduceMax, ReduceMin', build: (b) => b.op('Add', [b.op('ReduceSum', [b.x, b.i64([1])], { keepdims: int(1) }), b.op('Sub', [b.op('ReduceMax', [b.x], { axes: ints([1]) }), b.op('ReduceMin', [b.x], { axes: ints([1]) })])]) },
  { name: 'ReduceMean keepdims=0 (plain)', build: (b) => b.op('ReduceMean', [b.x], { axes: ints([1, 3]), keepdims: int(0) }) },
  { name: 'x / ReduceL2(x) on flat features', build: (b) => { const f = flat(b); return b.op('Div', [f, b.op('ReduceL2', [f], { axes: ints([1]) })]); } },
  { name: 'ReduceSumSquare', build: (b) => b.op('ReduceSumSquare', [b.x], { axes: ints([2, 3]), keepdims: int(1) }) },
  { name: 'LpNormalization on flat and on channels', build: (b) => b.op('Add', [b.op('Reshape', [b.op('LpNormalization', [b.x], { axis: int(1) }), b.i64([0, -1])]), b.op('LpNormalization', [flat(b)], { axis: int(1) })]) },
];
