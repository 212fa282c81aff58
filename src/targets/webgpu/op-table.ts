/**
 * The WebGPU target's op table, as data (the shape of tfjs's op-map.ts and of
 * onnxruntime-web's op-resolve-rules): one row per ONNX op, naming the rule in
 * its ops/ file. A rule holds the constraints (text, for docs/targets.md and
 * error messages), `check` (every reason the node cannot be converted, before
 * any shape is known) and `lower` (the node as a layer of the plan, or a problem
 * reported through `fail`); a layer says which kernels it runs and what they
 * bind. Adding an op is one file in ops/ and one row here. plan.ts drives the
 * table; test/targets/webgpu/op-table.test.ts runs every row on Dawn against
 * onnxruntime.
 */
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import type { Act, Layer, Problem } from './plan.js';
import * as activation from './ops/activation.js';
import * as arith from './ops/arith.js';
import * as batchnorm from './ops/batchnorm.js';
import * as concat from './ops/concat.js';
import * as conv from './ops/conv.js';
import * as expand from './ops/expand.js';
import * as fc from './ops/fc.js';
import * as pad from './ops/pad.js';
import * as pool from './ops/pool.js';
import * as reduce from './ops/reduce.js';
import * as resize from './ops/resize.js';
import * as slice from './ops/slice.js';
import * as view from './ops/view.js';

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
  /** A view: no kernel, the output re-reads its input's storage (plan.ts resolves it before lowering). */
  readonly view?: true;
  readonly check: (n: Node) => string | undefined;
  readonly lower: (n: Node, c: LowerContext) => Layer | null;
}

export const OP_TABLE: Readonly<Record<string, WebGpuOpRule>> = {
  Conv: conv.rule,
  Gemm: fc.gemm,
  MatMul: fc.matmul,
  BatchNormalization: batchnorm.rule,
  Add: arith.rule('Add'),
  Sub: arith.rule('Sub'),
  Mul: arith.rule('Mul'),
  Div: arith.rule('Div'),
  PRelu: activation.prelu,
  LeakyRelu: activation.leakyRelu,
  Relu: activation.relu,
  Clip: activation.clip,
  Sigmoid: activation.sigmoid,
  HardSigmoid: activation.hardSigmoid,
  HardSwish: activation.hardSwish,
  MaxPool: pool.maxPool,
  AveragePool: pool.averagePool,
  GlobalAveragePool: pool.globalAveragePool,
  Concat: concat.rule,
  Pad: pad.rule,
  Slice: slice.rule,
  Expand: expand.rule,
  ...Object.fromEntries(reduce.REDUCE_OPS.map((op) => [op, reduce.rule])),
  Resize: { ...resize.rule },
  Upsample: { ...resize.rule, constraints: ['mode nearest (opset 7 attribute or opset 9 input scales)', 'the batch axis not resized'] },
  Flatten: view.flatten,
  Reshape: view.reshape,
  Squeeze: view.squeeze,
  Unsqueeze: view.unsqueeze,
  Identity: view.identity,
  Dropout: view.dropout,
  Constant: { constraints: ['a constant operand of another op'], check: () => undefined, lower: (_n, c) => c.fail('internal: a constant has no layer') },
};

/** The ONNX ops the WebGPU target converts, sorted. */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OP_TABLE).sort();
