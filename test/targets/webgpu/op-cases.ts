/**
 * WebGPU op cases as data: each builds a small ONNX graph on an input x
 * [N, 3, 9, 9] with the tfjs tests' CaseBuilder and ends in a Flatten (the
 * bundle's output is [N, D]). op-table.test.ts runs every case on onnxruntime
 * (the reference) and as a WebGPU bundle on Dawn, and checks that every row of
 * the op table is covered by some case.
 */
import { attr } from '../../../src/ir/attribute.js';
import { TensorData } from '../../../src/ir/tensor.js';
import type { Value } from '../../../src/ir/value.js';
import { CaseBuilder } from '../tfjs/op-cases.js';

export interface GpuCase {
  readonly name: string;
  readonly build: (b: CaseBuilder) => Value;
  readonly opset?: number;
}

const ints = attr.ints, int = attr.int, float = attr.float, str = attr.string, floats = attr.floats;
const conv = (b: CaseBuilder, x: Value, o: number, i: number, k: number, pad = 0, group = 1) =>
  b.op('Conv', [x, b.c([o, i / group, k, k], 0.5), b.c([o], 0.2)], { kernel_shape: ints([k, k]), pads: ints([pad, pad, pad, pad]), group: int(group) });
const f32 = (b: CaseBuilder, v: number[]) => b.c([v.length], v);

export const GPU_CASES: readonly GpuCase[] = [
  {
    name: 'squeeze-excite: GlobalAveragePool -> Conv -> Relu -> Conv -> Sigmoid -> Mul of two activations',
    build: (b) => {
      const s = b.op('Sigmoid', [conv(b, b.op('Relu', [conv(b, b.op('GlobalAveragePool', [b.x]), 2, 3, 1)]), 3, 2, 1)]);
      return b.op('Mul', [b.x, s]);
    },
  },
  { name: 'Sigmoid standalone and Mul of two same-shape activations', build: (b) => b.op('Mul', [b.op('Sigmoid', [b.x]), b.x]) },
  { name: 'Conv + HardSwish (fused)', build: (b) => b.op('HardSwish', [conv(b, b.x, 4, 3, 3, 1)]), opset: 14 },
  { name: 'HardSigmoid (alpha, beta) then x * HardSigmoid(x)', build: (b) => b.op('Mul', [b.x, b.op('HardSigmoid', [b.op('Mul', [b.x, b.c([], [4])])], { alpha: float(0.3), beta: float(0.4) })]) },
  { name: 'Conv + Clip 0..6 (ReLU6, opset 13 inputs) + LeakyRelu', build: (b) => b.op('LeakyRelu', [b.op('Clip', [conv(b, b.op('Mul', [b.x, b.c([], [5])]), 6, 3, 3, 1), b.c([], [0]), b.c([], [6])])], { alpha: float(0.1) }) },
  { name: 'PRelu and BatchNormalization', build: (b) => b.op('PRelu', [b.op('BatchNormalization', [b.x, b.c([3], 0.5), b.c([3]), b.c([3]), f32(b, [0.5, 1, 1.5])]), b.c([3, 1, 1], 0.3)]) },
  { name: 'MaxPool k3 s2 p1 and ceil_mode', build: (b) => b.op('Concat', [b.op('MaxPool', [b.x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }), b.op('MaxPool', [b.x], { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) })], { axis: int(1) }) },
  { name: 'AveragePool count_include_pad 0 and 1', build: (b) => b.op('Add', [b.op('AveragePool', [b.x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }), b.op('AveragePool', [b.x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), count_include_pad: int(1) })]) },
  {
    name: 'Concat of Inception branches on channels (1x1, 3x3, pool) and on H',
    build: (b) => {
      const cat = b.op('Concat', [conv(b, b.x, 2, 3, 1), conv(b, b.x, 3, 3, 3, 1), b.op('MaxPool', [b.x], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) })], { axis: int(1) });
      return b.op('Concat', [cat, b.op('Relu', [cat])], { axis: int(-2) });
    },
  },
  { name: 'Pad constant with a value (opset 13)', build: (b) => b.op('Pad', [b.x, b.i64([0, 0, 1, 2, 0, 0, 2, 1]), b.c([], [0.5])], { mode: str('constant') }) },
  { name: 'Pad reflect and edge, negative pads crop', build: (b) => b.op('Pad', [b.op('Pad', [b.x, b.i64([0, 0, 2, 1, 0, 0, 1, 3])], { mode: str('reflect') }), b.i64([0, 1, -1, 2, 0, 0, 1, -2])], { mode: str('edge') }) },
  { name: 'Pad opset 2 (attributes)', opset: 9, build: (b) => b.op('Pad', [b.x], { pads: ints([0, 0, 1, 1, 0, 0, 0, 2]), value: float(-1) }) },
  { name: 'Slice with steps, negative indices and INT_MAX ends (opset 13)', build: (b) => b.op('Slice', [b.x, b.i64([0, 1, -1]), b.i64([2, 9007199254740991, -10]), b.i64([1, 2, 3]), b.i64([1, 2, -2])]) },
  { name: 'Slice of the whole batch and a channel range', build: (b) => b.op('Slice', [b.x, b.i64([0, 1]), b.i64([9007199254740991, 3]), b.i64([0, 1])]) },
  { name: 'Slice opset 9 (attributes)', opset: 9, build: (b) => b.op('Slice', [b.x], { starts: ints([1, 2]), ends: ints([8, 7]), axes: ints([2, 3]) }) },
  { name: 'Resize nearest x2 (asymmetric, floor: PyTorch Upsample)', build: (b) => b.op('Resize', [b.x, b.c([0], []), f32(b, [1, 1, 2, 2])], { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }) },
  { name: 'Resize nearest to sizes 5x13 (half_pixel, round_prefer_floor)', build: (b) => b.op('Resize', [b.x, null, null, b.i64([2, 3, 5, 13])], { mode: str('nearest') }) },
  { name: 'Resize nearest align_corners / round_prefer_ceil, scale 1.5', build: (b) => b.op('Resize', [b.x, b.c([0], []), f32(b, [1, 1, 1.5, 1.5])], { mode: str('nearest'), coordinate_transformation_mode: str('align_corners'), nearest_mode: str('round_prefer_ceil') }) },
  { name: 'Resize nearest tf_half_pixel_for_nn / ceil, downscale 0.5', build: (b) => b.op('Resize', [b.x, b.c([0], []), f32(b, [1, 1, 0.5, 0.5])], { mode: str('nearest'), coordinate_transformation_mode: str('tf_half_pixel_for_nn'), nearest_mode: str('ceil') }) },
  { name: 'Resize opset 10 nearest x2', opset: 10, build: (b) => b.op('Resize', [b.x, f32(b, [1, 1, 2, 2])], { mode: str('nearest') }) },
  { name: 'Upsample opset 9 nearest x2', opset: 9, build: (b) => b.op('Upsample', [b.x, f32(b, [1, 1, 2, 2])], { mode: str('nearest') }) },
  { name: 'Sub and Div of activations broadcast against their GlobalAveragePool', build: (b) => { const m = b.op('GlobalAveragePool', [b.x]); return b.op('Div', [b.op('Sub', [b.x, m]), b.op('Add', [b.op('Mul', [m, m]), b.c([], [1])])]); } },
  { name: 'Add of a [C,H,1] and a [C,1,W] activation (both broadcast)', build: (b) => b.op('Add', [b.op('Slice', [b.x, b.i64([0]), b.i64([1]), b.i64([3])]), b.op('Slice', [b.x, b.i64([2]), b.i64([3]), b.i64([2])])]) },
  {
    name: 'F.normalize: x / Expand(Clip(ReduceL2(x), eps), shape) on flat features',
    build: (b) => {
      const f = b.op('Flatten', [b.x], { axis: int(1) });
      const n = b.op('Clip', [b.op('ReduceL2', [f], { axes: ints([1]), keepdims: int(1) }), b.c([], [1e-12]), null]);
      return b.op('Div', [f, b.op('Expand', [n, b.i64([2, 243])])]);
    },
  },
  {
    name: 'ReduceSum / Mean / Max / Min / L1 / SumSquare over channels and space, keepdims 0 and 1',
    build: (b) => {
      const s = b.op('ReduceSum', [b.x, b.i64([1])], { keepdims: int(1) });
      const m = b.op('ReduceMean', [b.x], { axes: ints([2, 3]), keepdims: int(1) });
      const mx = b.op('ReduceMax', [b.x], { axes: ints([-1]), keepdims: int(1) });
      const mn = b.op('ReduceMin', [b.x], { axes: ints([2]), keepdims: int(1) });
      const l1 = b.op('ReduceL1', [b.x], { axes: ints([1, 3]), keepdims: int(1) });
      const sq = b.op('ReduceSumSquare', [b.x], { axes: ints([1, 2, 3]), keepdims: int(0) });
      const t = b.op('Add', [b.op('Add', [b.op('Mul', [s, m]), b.op('Sub', [mx, mn])]), l1]);
      return b.op('Concat', [b.op('Flatten', [t], { axis: int(1) }), b.op('Unsqueeze', [sq, b.i64([1])])], { axis: int(1) });
    },
  },
  { name: 'residual Add (fused) with a grouped Conv (group 3)', build: (b) => b.op('Add', [conv(b, conv(b, b.x, 6, 3, 3, 1, 3), 3, 6, 1), b.x]) },
  {
    name: 'Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout, Gemm, MatMul, Constant',
    build: (b) => {
      const g = b.op('Gemm', [b.op('Flatten', [b.op('Identity', [b.x])], { axis: int(1) }), b.c([5, 243], 0.1), b.c([5])], { transB: int(1) });
      const u = b.op('Squeeze', [b.op('Unsqueeze', [b.op('Dropout', [g]), b.i64([2])]), b.i64([2])]);
      const k = b.op('Constant', [], { value: attr.tensor(TensorData.float32([5, 4], Array.from({ length: 20 }, (_, i) => (i % 7) / 7 - 0.4))) });
      return b.op('MatMul', [b.op('Reshape', [u, b.i64([0, 5])]), k]);
    },
  },
];
void floats;
