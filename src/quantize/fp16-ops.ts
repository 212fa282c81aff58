/**
 * Float16 op tables, as data.
 *
 * FP16_OPS: ops that may compute in float16, with the input slots that carry
 * the data type T (and must all be float16) and the output slots of type T.
 * Other slots keep their type (shapes, indices, Resize scales, Dropout ratio).
 * An op that is not here and touches float32 values stays in float32 ("no
 * float16 rule").
 *
 * FP16_BLOCK_LIST: ops kept in float32 because float16 overflows (largest
 * finite 65504) or loses too much accuracy (11-bit significand, smallest
 * normal 6.1e-5), whatever the sensitivity pass measures.
 *
 * ORT_CPU_FP16_KERNELS: ops onnxruntime-node 1.30's cpu execution provider runs
 * natively in float16 on x86-64 (measured: test/quantize/fp16-kernels.test.ts
 * builds one float16 node per op and looks for the Casts onnxruntime inserts
 * around ops it has no float16 kernel for). Every compute op (Conv, Gemm,
 * MatMul, Add, Mul, PRelu, Relu, pools, BatchNormalization...) is missing, so
 * onnxruntime computes a float16 model's convolutions in float32 on this EP
 * and removes the Cast pairs between adjacent float32 nodes: on cpu a float16
 * bundle is float16 storage (weights, graph input) with float32 arithmetic.
 * The sensitivity pass therefore measures an emulation that rounds every
 * float16 node's output to float16 (see fp16.ts).
 */

export interface Fp16Rule {
  /** Input slots of type T ('all': every input). */
  readonly inputs: 'all' | readonly number[];
  /** Output slots of type T (default [0]; 'all': every output). */
  readonly outputs?: 'all' | readonly number[];
  /** Exact in float16 given float16 inputs (data movement, max/min): keeping it in float32 gains nothing. */
  readonly exact?: boolean;
}

const ALL: Fp16Rule = { inputs: 'all' };
const X: Fp16Rule = { inputs: [0] };
const MOVE: Fp16Rule = { inputs: [0], exact: true };

export const FP16_OPS: Readonly<Record<string, Fp16Rule>> = {
  Conv: { inputs: [0, 1, 2] },
  ConvTranspose: { inputs: [0, 1, 2] },
  Gemm: { inputs: [0, 1, 2] },
  MatMul: { inputs: [0, 1] },
  Add: ALL, Sub: ALL, Mul: ALL, Div: ALL, Sum: ALL, Mean: ALL,
  Max: { inputs: 'all', exact: true }, Min: { inputs: 'all', exact: true },
  PRelu: ALL,
  Relu: MOVE, LeakyRelu: X, Sigmoid: X, Tanh: X, HardSigmoid: X, HardSwish: X, Elu: X, Selu: X, Softplus: X,
  Abs: MOVE, Neg: MOVE, Sqrt: X, Erf: X,
  Clip: { inputs: [0, 1, 2], exact: true },
  MaxPool: { inputs: [0], outputs: [0], exact: true },
  GlobalMaxPool: MOVE,
  AveragePool: X,
  GlobalAveragePool: X,
  Flatten: MOVE, Reshape: MOVE, Transpose: MOVE, Squeeze: MOVE, Unsqueeze: MOVE, Identity: MOVE,
  Dropout: { inputs: [0], outputs: [0], exact: true },
  Expand: MOVE, Slice: MOVE, Gather: MOVE, Tile: MOVE, DepthToSpace: MOVE, SpaceToDepth: MOVE,
  Pad: { inputs: [0, 2], exact: true },
  Concat: { inputs: 'all', exact: true },
  Split: { inputs: [0], outputs: 'all', exact: true },
  Resize: X, Upsample: X,
  Where: { inputs: [1, 2], exact: true },
};

const SUMS = 'a sum over many elements overflows float16 (largest finite value 65504) and loses precision';
const NORM = 'variance + epsilon: epsilon (1e-5) is below float16\'s smallest normal (6.1e-5) and the variance loses precision';

/** Ops always kept in float32, with why. */
export const FP16_BLOCK_LIST: Readonly<Record<string, string>> = {
  ReduceL2: SUMS,
  ReduceL1: SUMS,
  ReduceSumSquare: SUMS,
  ReduceSum: SUMS,
  ReduceLogSumExp: 'exp inside overflows float16 for inputs above 11.09',
  ReduceProd: 'a product of many elements overflows or underflows float16',
  ReduceMean: 'accumulates over many elements: float16 loses precision',
  LpNormalization: SUMS,
  LpPool: SUMS,
  CumSum: SUMS,
  Pow: 'x^p overflows float16 for moderate x (e.g. 41^3 > 65504)',
  Exp: 'overflows float16 for inputs above 11.09',
  Log: 'its inputs are usually sums or norms, which overflow float16; relative precision near 1 is 1e-3',
  Reciprocal: 'overflows float16 for |x| < 1.5e-5',
  Softmax: 'exp inside overflows float16; probabilities below 6e-8 flush to zero',
  LogSoftmax: 'exp inside overflows float16',
  BatchNormalization: NORM,
  InstanceNormalization: NORM,
  LayerNormalization: NORM,
  GroupNormalization: NORM,
  MeanVarianceNormalization: NORM,
};

/** The FP16_OPS entries onnxruntime-node 1.30 cpu (x86-64) has a float16 kernel for (measured); every other op gets Casts. */
export const ORT_CPU_FP16_KERNELS: ReadonlySet<string> = new Set([
  'Clip', 'Concat', 'Expand', 'Flatten', 'Gather', 'Identity', 'Max', 'Min', 'Reshape', 'Slice', 'Split',
  'Squeeze', 'Transpose', 'Unsqueeze',
]);

/** Ops whose input types do not matter (no Cast is inserted in front of them). */
export const TYPE_AGNOSTIC_OPS: ReadonlySet<string> = new Set(['Shape', 'Size']);

export function slotsOf(spec: 'all' | readonly number[] | undefined, count: number, dflt: readonly number[]): number[] {
  if (spec === 'all') return [...Array(count).keys()];
  return [...(spec ?? dflt)].filter((i) => i < count);
}
