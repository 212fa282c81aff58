/**
 * The WebGPU target's op table, as data (the shape of tfjs's op-map.ts and of
 * onnxruntime-web's op-resolve-rules): one row per ONNX op with the
 * constraints it holds (text, for docs/targets.md and error messages), `check`
 * (every reason the node cannot be converted, before any shape is known) and
 * `lower` (the node as a layer of the plan, or a problem reported through
 * `fail`). plan.ts drives the table; the rows of the ops that came first are
 * lowered by plan.ts itself (checkBuiltin / lowerBuiltin), the newer ops each
 * have a file in ops/ with their kernel. test/targets/webgpu/op-table.test.ts
 * runs every row on Dawn against onnxruntime.
 */
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { checkBuiltin, lowerBuiltin, type Act, type Layer, type Problem } from './plan.js';
import * as binary from './ops/binary.js';
import * as concat from './ops/concat.js';
import * as expand from './ops/expand.js';
import * as reduce from './ops/reduce.js';
import * as pad from './ops/pad.js';
import * as resize from './ops/resize.js';
import * as slice from './ops/slice.js';
import { hardSigmoid, hardSwish, sigmoid } from './ops/activation.js';

export interface LowerContext {
  /** The node's first data input and its output, as activations (per-image shapes). */
  readonly x: Act;
  readonly out: Act;
  /** Every data input, in order. */
  readonly inputs: readonly Act[];
  readonly acts: Map<Value, Act>;
  readonly problems: Problem[];
  /** Report why the node cannot be lowered; returns null for `return c.fail(...)`. */
  fail(reason: string): null;
}

export interface WebGpuOpRule {
  readonly constraints: readonly string[];
  readonly check: (n: Node) => string | undefined;
  readonly lower: (n: Node, c: LowerContext) => Layer | null;
}

const builtin = (constraints: readonly string[]): WebGpuOpRule => ({
  constraints,
  check: (n) => checkBuiltin(n),
  lower: (n, c) => lowerBuiltin(n, c.x, c.out, c.acts, c.problems),
});

/** A view: no kernel, the output re-reads its input's storage (plan.ts resolves it before lowering). */
const view = (constraints: readonly string[]): WebGpuOpRule => ({
  constraints: ['a view (no kernel): the batch stays first', ...constraints],
  check: (n) => checkBuiltin(n),
  lower: (_n, c) => c.fail('internal: a view has no layer'),
});

/** Add / Sub / Mul / Div: by a constant (affine, fuses), residual Add (fuses), else two activations broadcast. */
const arith = (op: string): WebGpuOpRule => ({
  constraints: [
    'by a per-channel or scalar constant: an affine step that fuses into the layer before',
    ...(op === 'Add' ? ['two activations of the same shape: a residual add fused into the convolution'] : []),
    'two activations: numpy broadcasting within the image (same rank, each axis equal or 1), one kernel',
  ],
  check: (n) => (binary.isBinary(n) ? binary.check(n) : checkBuiltin(n)),
  lower: (n, c) => {
    if (!binary.isBinary(n)) return lowerBuiltin(n, c.x, c.out, c.acts, c.problems);
    const a = c.acts.get(n.inputs[0]!), b = c.acts.get(n.inputs[1]!);
    if (op === 'Add' && a && b && a.shape.join(',') === b.shape.join(',')) return lowerBuiltin(n, c.x, c.out, c.acts, c.problems);
    return binary.lower(n, c);
  },
});

const eltwise = (constraints: readonly string[], lower: (n: Node, c: LowerContext) => Layer): WebGpuOpRule => ({
  constraints: [...constraints, 'fuses into the convolution or fc before it'],
  check: () => undefined,
  lower,
});

export const OP_TABLE: Readonly<Record<string, WebGpuOpRule>> = {
  Conv: builtin(['2-D, constant weight and bias, dilation 1', 'any kernel, stride, padding (pads or auto_pad)', 'groups: depthwise and grouped (group > 1) by a direct kernel', 'fuses bias, a following affine / PRelu / Relu / LeakyRelu / Clip / Sigmoid / HardSigmoid / HardSwish / residual Add, and an affine before it (prologue)']),
  Gemm: builtin(['transA 0, constant B and C', 'fuses the same epilogues as Conv']),
  MatMul: builtin(['x @ W with a constant 2-D W']),
  BatchNormalization: builtin(['inference mode, constant statistics: an affine step that fuses']),
  Add: arith('Add'),
  Sub: arith('Sub'),
  Mul: arith('Mul'),
  Div: arith('Div'),
  PRelu: builtin(['constant per-channel or scalar slope']),
  LeakyRelu: builtin(['any alpha (a PRelu with one slope)']),
  Relu: builtin([]),
  Clip: builtin(['constant min / max (attributes or inputs): ReLU6 and friends']),
  Sigmoid: eltwise([], sigmoid),
  HardSigmoid: eltwise(['any alpha, beta'], hardSigmoid),
  HardSwish: eltwise([], hardSwish),
  MaxPool: builtin(['2-D, dilation 1, the indices output unused', 'any kernel, stride, pads, ceil_mode']),
  AveragePool: builtin(['2-D, dilation 1', 'count_include_pad 0 or 1, ceil_mode']),
  GlobalAveragePool: builtin(['4-D input']),
  Concat: concat.rule,
  Pad: pad.rule,
  Slice: slice.rule,
  Expand: expand.rule,
  ...Object.fromEntries(reduce.REDUCE_OPS.map((op) => [op, reduce.rule])),
  Resize: { ...resize.rule },
  Upsample: { ...resize.rule, constraints: ['mode nearest (opset 7 attribute or opset 9 input scales)', 'the batch axis not resized'] },
  Flatten: view([]),
  Reshape: view(['constant target shape']),
  Squeeze: view(['constant axes']),
  Unsqueeze: view(['constant axes']),
  Identity: view([]),
  Dropout: view(['inference: the mask unused']),
  Constant: { constraints: ['a constant operand of another op'], check: () => undefined, lower: (_n, c) => c.fail('internal: a constant has no layer') },
};

/** The ONNX ops the WebGPU target converts, sorted. */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OP_TABLE).sort();
