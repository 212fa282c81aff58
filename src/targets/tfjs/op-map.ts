/**
 * The ONNX -> TensorFlow.js op table, as data (in the manner of tfjs-converter's
 * op_list and onnxruntime-web's op-resolve-rules): one row per ONNX op with the
 * TF ops its lowering may produce (declared here, once: the parametrized
 * families take their TF op from the row), the constraints it checks (as text,
 * for docs/targets.md and error messages), `check` and `lower`, named from the
 * op families in ops/ (ops/rule.ts: the row's shape). convert.ts drives the
 * table. test/targets/tfjs/op-map.test.ts holds every row to a schema: the TF
 * ops exist in tfjs-converter's op list, the ops emitted are the row's, the
 * attributes emitted are ones tfjs reads, and each row converts a small model
 * that matches onnxruntime.
 */
import { checkBatchNorm, checkBinary, lowerBatchNorm, lowerBinary, lowerPRelu } from './ops/binary.js';
import { checkConv, lowerConv } from './ops/conv.js';
import { checkGemm, checkMatMul, lowerGemm, lowerMatMul } from './ops/dense.js';
import { checkExpand, checkPadAny, checkResize, checkSlice, lowerExpand, lowerPadAny, lowerResize, lowerSlice } from './ops/gather.js';
import { checkGlobalPool, checkPool, lowerGlobalPool, lowerPool } from './ops/pool.js';
import { checkLpNorm, checkReduce, lowerLpNorm, lowerReduce } from './ops/reduce.js';
import { noProblems, type OpRule } from './ops/rule.js';
import { checkConcat, checkConstant, checkFlatten, checkReshape, checkSqueeze, checkUnsqueeze, lowerConcat, lowerConstant, lowerFlatten, lowerReshape, lowerSqueeze, lowerTranspose, lowerUnsqueeze } from './ops/shape.js';
import { checkCast, checkClip, checkDropout, checkElu, checkUnary, lowerClip, lowerHardSigmoid, lowerHardSwish, lowerIdentity, lowerLeakyRelu, lowerUnary } from './ops/unary.js';

export type { OpRule } from './ops/rule.js';

const binary = (tf: string): OpRule => ({ tf: [tf], constraints: ['two inputs', 'float32'], check: checkBinary, lower: lowerBinary(tf) });
const unary = (tf: string): OpRule => ({ tf: [tf], constraints: ['float32'], check: checkUnary, lower: lowerUnary(tf) });
const pool = (tf: 'MaxPool' | 'AvgPool', constraints: readonly string[]): OpRule => ({ tf: [tf, 'PadV2'], constraints, check: checkPool, lower: lowerPool(tf) });
const reduce = (tf: string, square = false): OpRule => ({ tf: square ? ['Square', tf] : [tf], constraints: ['axes constant', 'input rank known'], check: checkReduce, lower: lowerReduce(tf, square) });

export const OP_MAP: Readonly<Record<string, OpRule>> = {
  Conv: {
    tf: ['_FusedConv2D', 'Conv2D', 'FusedDepthwiseConv2dNative', 'DepthwiseConv2dNative', 'Split', 'ConcatV2'],
    constraints: [
      '2-D, constant weight (and bias)',
      'group 1; depthwise (group = input channels, any multiplier); other groups as Split, one _FusedConv2D per group, ConcatV2',
      'not strides > 1 together with dilations > 1',
      'pads, or auto_pad SAME_UPPER / SAME_LOWER / VALID',
      'absorbs a following Relu, LeakyRelu or per-channel PRelu and the bias',
    ],
    check: checkConv,
    lower: lowerConv,
  },
  Gemm: {
    tf: ['_FusedMatMul', 'MatMul', 'AddV2', 'Mul'],
    constraints: ['2-D A and B', 'constant C', 'constant B gets the NHWC flatten order when A is a flattened NCHW map', 'absorbs a following Relu, LeakyRelu or PRelu'],
    check: checkGemm,
    lower: lowerGemm,
  },
  MatMul: {
    tf: ['_FusedMatMul', 'MatMul', 'BatchMatMulV2'],
    constraints: ['operands of rank >= 2', 'a constant [K, N] B absorbs a following Add of a constant bias and an activation'],
    check: checkMatMul,
    lower: lowerMatMul,
  },
  BatchNormalization: {
    tf: ['Mul', 'AddV2'],
    constraints: ['inference mode, constant scale / bias / mean / var', 'becomes x * s + t with per-channel s, t'],
    check: checkBatchNorm,
    lower: lowerBatchNorm,
  },
  Add: binary('AddV2'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  Div: binary('RealDiv'),
  Pow: binary('Pow'),
  Max: binary('Maximum'),
  Min: binary('Minimum'),
  PRelu: {
    tf: ['Prelu', 'LeakyRelu', 'Relu', 'Minimum', 'Mul', 'AddV2'],
    constraints: ['slope broadcastable to the input', 'Prelu with the slope on the last (channel) axis, LeakyRelu for one slope, else Relu(x) + slope * min(x, 0)'],
    check: checkBinary,
    lower: lowerPRelu,
  },
  Relu: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Sqrt: unary('Sqrt'),
  Reciprocal: unary('Reciprocal'),
  Erf: unary('Erf'),
  Softplus: unary('Softplus'),
  Elu: { tf: ['Elu'], constraints: ['alpha = 1'], check: checkElu, lower: lowerUnary('Elu') },
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  LeakyRelu: { tf: ['LeakyRelu'], constraints: [], check: noProblems, lower: lowerLeakyRelu },
  Clip: { tf: ['ClipByValue'], constraints: ['constant min / max'], check: checkClip, lower: lowerClip },
  Identity: { tf: [], constraints: ['no TF node: the output is the input'], check: noProblems, lower: lowerIdentity },
  Dropout: { tf: [], constraints: ['inference: the mask output unused'], check: checkDropout, lower: lowerIdentity },
  Cast: { tf: [], constraints: ['float32 to float32 only'], check: checkCast, lower: lowerIdentity },
  Flatten: { tf: ['Reshape'], constraints: ['flattened dimensions known'], check: checkFlatten, lower: lowerFlatten },
  Reshape: { tf: ['Reshape'], constraints: ['constant target shape with at most one unknown dimension'], check: checkReshape, lower: lowerReshape },
  Transpose: { tf: ['Transpose'], constraints: [], check: noProblems, lower: lowerTranspose },
  Squeeze: { tf: ['Squeeze'], constraints: ['constant axes'], check: checkSqueeze, lower: lowerSqueeze },
  Unsqueeze: { tf: ['ExpandDims'], constraints: ['constant axes'], check: checkUnsqueeze, lower: lowerUnsqueeze },
  Concat: { tf: ['ConcatV2'], constraints: ['float32 inputs'], check: checkConcat, lower: lowerConcat },
  Constant: { tf: [], constraints: ['float or integer tensor value'], check: checkConstant, lower: lowerConstant },
  Pad: { tf: ['PadV2', 'GatherV2'], constraints: ['mode constant: PadV2 with constant pads and value, no axes input', 'modes edge, reflect, wrap: one GatherV2 per padded axis (index tables), axes input allowed', 'the batch axis not padded'], check: checkPadAny, lower: lowerPadAny },
  Slice: { tf: ['GatherV2', 'Identity'], constraints: ['constant starts / ends / axes / steps, any step but 0', 'the batch axis kept whole', 'one GatherV2 per sliced axis (index tables)'], check: checkSlice, lower: lowerSlice },
  Resize: { tf: ['GatherV2', 'Identity'], constraints: ['mode nearest, every coordinate_transformation_mode but tf_crop_and_resize, every nearest_mode', 'constant scales or sizes; the batch axis not resized', 'one GatherV2 per resized axis (index tables)'], check: checkResize, lower: lowerResize },
  Upsample: { tf: ['GatherV2', 'Identity'], constraints: ['mode nearest', 'one GatherV2 per resized axis (index tables)'], check: checkResize, lower: lowerResize },
  Expand: { tf: ['GatherV2', 'Identity'], constraints: ['constant target shape of the same rank, the batch kept', 'one GatherV2 with zero indices per broadcast axis'], check: checkExpand, lower: lowerExpand },
  HardSigmoid: { tf: ['Mul', 'AddV2', 'ClipByValue'], constraints: ['any alpha, beta: clip(alpha x + beta, 0, 1)'], check: noProblems, lower: lowerHardSigmoid },
  HardSwish: { tf: ['Mul', 'AddV2', 'ClipByValue'], constraints: ['x * clip(x / 6 + 1/2, 0, 1)'], check: noProblems, lower: lowerHardSwish },
  MaxPool: pool('MaxPool', ['2-D, no dilations, indices output unused', 'ceil_mode only where it does not change the size', 'padding: SAME where it matches, else an explicit PadV2']),
  AveragePool: pool('AvgPool', ['2-D, no dilations', 'ceil_mode only where it does not change the size', 'count_include_pad=0 padding only where it equals TF SAME']),
  GlobalAveragePool: { tf: ['Mean'], constraints: ['4-D input'], check: checkGlobalPool, lower: lowerGlobalPool('Mean') },
  GlobalMaxPool: { tf: ['Max'], constraints: ['4-D input'], check: checkGlobalPool, lower: lowerGlobalPool('Max') },
  ReduceSum: reduce('Sum'),
  ReduceMean: reduce('Mean'),
  ReduceMax: reduce('Max'),
  ReduceMin: reduce('Min'),
  ReduceL2: reduce('EuclideanNorm'),
  ReduceSumSquare: reduce('Sum', true),
  LpNormalization: { tf: ['EuclideanNorm', 'RealDiv'], constraints: ['p = 2'], check: checkLpNorm, lower: lowerLpNorm },
};

/** The ONNX ops the tfjs target converts, sorted. */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OP_MAP).sort();
