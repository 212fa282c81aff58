/**
 * The ONNX -> TensorFlow.js op mapping, as data (in the manner of
 * tfjs-converter's op_list): each entry names the TF ops its emitter may
 * produce, the constraints it checks (as text, for docs/targets.md and error
 * messages), the check and the emitter. test/targets/tfjs/op-map.test.ts holds
 * every entry to a schema: the TF ops exist in tfjs-converter's op list, the
 * attributes emitted are ones tfjs reads, and each entry converts a small model
 * that matches onnxruntime.
 */
import * as E from './emitters.js';

export interface OpRule {
  /** TF ops the emitter may produce (besides Const), in the order it tends to. */
  readonly tf: readonly string[];
  /** What must hold for the node to convert; shown in docs and mirrored by `check`. */
  readonly constraints: readonly string[];
  /** Every reason this node cannot be converted (empty when it can). */
  readonly check?: E.Check;
  readonly emit: E.Emit;
}

const binary = (tf: string): OpRule => ({ tf: [tf], constraints: ['two inputs', 'float32'], check: E.checkBinary, emit: E.emitBinaryOp });
const unary = (tf: string): OpRule => ({ tf: [tf], constraints: ['float32'], check: E.checkUnary, emit: E.emitUnary });
const reduce = (tf: readonly string[]): OpRule => ({ tf, constraints: ['axes constant', 'input rank known'], check: E.checkReduce, emit: E.emitReduce });

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
    check: E.checkConv,
    emit: E.emitConv,
  },
  Gemm: {
    tf: ['_FusedMatMul', 'MatMul', 'AddV2', 'Mul'],
    constraints: ['2-D A and B', 'constant C', 'constant B gets the NHWC flatten order when A is a flattened NCHW map', 'absorbs a following Relu, LeakyRelu or PRelu'],
    check: E.checkGemm,
    emit: E.emitGemm,
  },
  MatMul: {
    tf: ['_FusedMatMul', 'MatMul', 'BatchMatMulV2'],
    constraints: ['operands of rank >= 2', 'a constant [K, N] B absorbs a following Add of a constant bias and an activation'],
    check: E.checkMatMul,
    emit: E.emitMatMul,
  },
  BatchNormalization: {
    tf: ['Mul', 'AddV2'],
    constraints: ['inference mode, constant scale / bias / mean / var', 'becomes x * s + t with per-channel s, t'],
    check: E.checkBatchNorm,
    emit: E.emitBatchNorm,
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
    check: E.checkBinary,
    emit: E.emitPRelu,
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
  Elu: { tf: ['Elu'], constraints: ['alpha = 1'], check: E.checkUnary, emit: E.emitUnary },
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  LeakyRelu: { tf: ['LeakyRelu'], constraints: [], emit: E.emitLeakyRelu },
  Clip: { tf: ['ClipByValue'], constraints: ['constant min / max'], check: E.checkClip, emit: E.emitClip },
  Identity: { tf: [], constraints: ['no TF node: the output is the input'], check: E.checkIdentity, emit: E.emitIdentity },
  Dropout: { tf: [], constraints: ['inference: the mask output unused'], check: E.checkIdentity, emit: E.emitIdentity },
  Cast: { tf: [], constraints: ['float32 to float32 only'], check: E.checkCast, emit: E.emitIdentity },
  Flatten: { tf: ['Reshape'], constraints: ['flattened dimensions known'], check: E.checkReshape, emit: E.emitReshape },
  Reshape: { tf: ['Reshape'], constraints: ['constant target shape with at most one unknown dimension'], check: E.checkReshape, emit: E.emitReshape },
  Transpose: { tf: ['Transpose'], constraints: [], check: E.checkTranspose, emit: E.emitTranspose },
  Squeeze: { tf: ['Squeeze'], constraints: ['constant axes'], check: E.checkSqueezeLike, emit: E.emitSqueeze },
  Unsqueeze: { tf: ['ExpandDims'], constraints: ['constant axes'], check: E.checkSqueezeLike, emit: E.emitUnsqueeze },
  Concat: { tf: ['ConcatV2'], constraints: ['float32 inputs'], check: E.checkConcat, emit: E.emitConcat },
  Constant: { tf: [], constraints: ['float or integer tensor value'], check: E.checkConstant, emit: E.emitConstant },
  Pad: { tf: ['PadV2', 'GatherV2'], constraints: ['mode constant: PadV2 with constant pads and value, no axes input', 'modes edge, reflect, wrap: one GatherV2 per padded axis (index tables), axes input allowed', 'the batch axis not padded'], check: E.checkPadAny, emit: E.emitPadAny },
  Slice: { tf: ['GatherV2', 'Identity'], constraints: ['constant starts / ends / axes / steps, any step but 0', 'the batch axis kept whole', 'one GatherV2 per sliced axis (index tables)'], check: E.checkSlice, emit: E.emitSlice },
  Resize: { tf: ['GatherV2', 'Identity'], constraints: ['mode nearest, every coordinate_transformation_mode but tf_crop_and_resize, every nearest_mode', 'constant scales or sizes; the batch axis not resized', 'one GatherV2 per resized axis (index tables)'], check: E.checkResize, emit: E.emitResize },
  Upsample: { tf: ['GatherV2', 'Identity'], constraints: ['mode nearest', 'one GatherV2 per resized axis (index tables)'], check: E.checkResize, emit: E.emitResize },
  Expand: { tf: ['GatherV2', 'Identity'], constraints: ['constant target shape of the same rank, the batch kept', 'one GatherV2 with zero indices per broadcast axis'], check: E.checkExpand, emit: E.emitExpand },
  HardSigmoid: { tf: ['Mul', 'AddV2', 'ClipByValue'], constraints: ['any alpha, beta: clip(alpha x + beta, 0, 1)'], emit: E.emitHardSigmoid },
  HardSwish: { tf: ['Mul', 'AddV2', 'ClipByValue'], constraints: ['x * clip(x / 6 + 1/2, 0, 1)'], emit: E.emitHardSwish },
  MaxPool: {
    tf: ['MaxPool', 'PadV2'],
    constraints: ['2-D, no dilations, indices output unused', 'ceil_mode only where it does not change the size', 'padding: SAME where it matches, else an explicit PadV2'],
    check: E.checkPool,
    emit: E.emitPool,
  },
  AveragePool: {
    tf: ['AvgPool', 'PadV2'],
    constraints: ['2-D, no dilations', 'ceil_mode only where it does not change the size', 'count_include_pad=0 padding only where it equals TF SAME'],
    check: E.checkPool,
    emit: E.emitPool,
  },
  GlobalAveragePool: { tf: ['Mean'], constraints: ['4-D input'], check: E.checkPool, emit: E.emitPool },
  GlobalMaxPool: { tf: ['Max'], constraints: ['4-D input'], check: E.checkPool, emit: E.emitPool },
  ReduceSum: reduce(['Sum']),
  ReduceMean: reduce(['Mean']),
  ReduceMax: reduce(['Max']),
  ReduceMin: reduce(['Min']),
  ReduceL2: reduce(['EuclideanNorm']),
  ReduceSumSquare: reduce(['Square', 'Sum']),
  LpNormalization: { tf: ['EuclideanNorm', 'RealDiv'], constraints: ['p = 2'], check: E.checkLpNorm, emit: E.emitLpNorm },
};

/** The ONNX ops the tfjs target converts, sorted. */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OP_MAP).sort();
