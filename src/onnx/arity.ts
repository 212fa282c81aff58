/**
 * Required inputs of the standard ONNX ops a model may use: a node that leaves
 * one empty ('' or missing) is a malformed model, refused at load (exit 3,
 * naming the node) instead of crashing an analysis or onnxruntime later.
 * Numbers are the count of leading inputs that are required (onnx/defs,
 * the lowest opset that still has each op; optional inputs come after).
 * Ops not listed are not checked here.
 */
import { InputError } from '../errors.js';
import type { Graph } from '../ir/graph.js';

const REQUIRED: Readonly<Record<string, number>> = {
  // one input
  Abs: 1, Acos: 1, Asin: 1, Atan: 1, AveragePool: 1, Cast: 1, Ceil: 1, Celu: 1, Clip: 1, Compress: 2, Concat: 1, Cos: 1, Cosh: 1,
  DepthToSpace: 1, Dropout: 1, Elu: 1, Erf: 1, Exp: 1, Flatten: 1, Floor: 1, Gelu: 1, GlobalAveragePool: 1, GlobalLpPool: 1,
  GlobalMaxPool: 1, HardSigmoid: 1, HardSwish: 1, Identity: 1, IsInf: 1, IsNaN: 1, LRN: 1, LeakyRelu: 1, Log: 1, LogSoftmax: 1,
  LpNormalization: 1, LpPool: 1, MaxPool: 1, Max: 1, Mean: 1, Min: 1, Mish: 1, Neg: 1, NonZero: 1, Not: 1, Pad: 1, ReduceL1: 1,
  ReduceL2: 1, ReduceLogSum: 1, ReduceLogSumExp: 1, ReduceMax: 1, ReduceMean: 1, ReduceMin: 1, ReduceProd: 1, ReduceSum: 1,
  ReduceSumSquare: 1, Reciprocal: 1, Relu: 1, Resize: 1, Round: 1, Selu: 1, Shape: 1, Shrink: 1, Sigmoid: 1, Sign: 1, Sin: 1,
  Sinh: 1, Size: 1, Slice: 1, Softmax: 1, Softplus: 1, Softsign: 1, SpaceToDepth: 1, Split: 1, Sqrt: 1, Squeeze: 1, Sum: 1,
  Tan: 1, Tanh: 1, ThresholdedRelu: 1, Transpose: 1, Unsqueeze: 1, ConstantOfShape: 1, ArgMax: 1, ArgMin: 1, CumSum: 2,
  // two or more
  Add: 2, And: 2, BitShift: 2, Conv: 2, ConvInteger: 2, ConvTranspose: 2, DequantizeLinear: 2, Div: 2, Equal: 2, Expand: 2,
  Gather: 2, GatherElements: 2, GatherND: 2, Gemm: 2, Greater: 2, GreaterOrEqual: 2, Less: 2, LessOrEqual: 2, MatMul: 2,
  MatMulInteger: 2, Mod: 2, Mul: 2, Or: 2, PRelu: 2, Pow: 2, QuantizeLinear: 2, Reshape: 1 /* opset 1: shape attribute */, Sub: 2, Tile: 2, Xor: 2,
  LayerNormalization: 2, InstanceNormalization: 3, ScatterElements: 3, ScatterND: 3, Where: 3, Range: 3, OneHot: 3,
  BatchNormalization: 5, QLinearConv: 8, QLinearMatMul: 8,
};

/** Throw InputError for the first node that leaves a required input empty. */
export function checkRequiredInputs(g: Graph): void {
  for (const n of g.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    const need = REQUIRED[n.op];
    if (!need) continue;
    for (let i = 0; i < need; i++) {
      if (!n.inputs[i]) {
        const name = n.name || '(unnamed)';
        throw new InputError(
          'graph-invalid',
          `node ${name} (${n.op}) has ${n.inputs.filter(Boolean).length} of its ${need} required inputs (input ${i} is ${i < n.inputs.length ? "named ''" : 'missing'})`,
          'the model is malformed; export it again',
        );
      }
    }
  }
}
