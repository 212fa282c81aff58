/**
 * Classifies every BatchNormalization by its neighbours, which decides whether
 * it folds exactly into a neighbouring linear op:
 *
 *   conv-bn          Conv -> BN            exact: W' = W*s, b' = (b - mean)*s + beta
 *   gemm-bn          Gemm|MatMul(+Add) -> BN1d   exact, same algebra on output features
 *   bn-flatten-gemm  BN2d -> Flatten -> Gemm     exact: input-side scale per flattened column
 *   bn-conv          BN -> Conv            exact only when the conv pads nothing: zero padding
 *                                          is applied after the BN, so a folded shift would
 *                                          also shift the padded border
 *   standalone       anything else (after a residual Add, before a PRelu, ...)
 * with s = gamma / sqrt(var + eps).
 */
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { TensorData } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { isSame } from '../ir/conv-geometry.js';

export type BnPattern = 'conv-bn' | 'bn-conv' | 'bn-flatten-gemm' | 'gemm-bn' | 'standalone';

export interface BnFinding {
  readonly node: string;
  readonly pattern: BnPattern;
  readonly foldable: boolean;
  readonly reason: string;
  /** The op the BN would fold into. */
  readonly into?: string;
}

/**
 * The constant data behind `v`: its own, or that of the initializer an Identity
 * chain passes on (torch 1.13 shares equal initializers, e.g. zero BN biases,
 * through Identity nodes).
 */
export function constData(v: Value | null | undefined): TensorData | undefined {
  for (let i = 0; v && i < 16; i++) {
    if (v.const) return v.const;
    const p: Node | null = v.producer;
    if (!p || p.op !== 'Identity' || (p.domain !== '' && p.domain !== 'ai.onnx')) return undefined;
    v = p.inputs[0];
  }
  return undefined;
}

function paramsConst(bn: Node): boolean {
  return [1, 2, 3, 4].every((i) => constData(bn.inputs[i]));
}

export function isTrainingBn(bn: Node): boolean {
  return bn.attrInt('training_mode', 0) === 1 || bn.outputs.slice(1).some((v) => v.uses.length > 0 || v.isGraphOutput);
}

/**
 * The affine form of an inference BatchNormalization, per channel c, in float64
 * (the one computation behind the BN folds and the targets' BN lowering):
 *   s[c] = gamma[c] / sqrt(var[c] + eps),   t[c] = beta[c] - mean[c] * s[c]
 * No check here: a non-positive var + eps gives non-finite s (callers that
 * refuse it check first).
 */
export function bnAffine(gamma: ArrayLike<number>, beta: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, eps: number): { s: Float64Array; t: Float64Array } {
  const c = gamma.length;
  const s = new Float64Array(c), t = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    s[i] = gamma[i]! / Math.sqrt(variance[i]! + eps);
    t[i] = beta[i]! - mean[i]! * s[i]!;
  }
  return { s, t };
}

export function convPads(conv: Node): boolean {
  const autoPad = conv.attrString('auto_pad', 'NOTSET');
  if (isSame(autoPad)) {
    const k = conv.attrInts('kernel_shape') ?? (conv.inputs[1]?.shape?.slice(2) as number[] | undefined) ?? [];
    return k.some((x) => x > 1);
  }
  return conv.attrInts('pads', []).some((p) => p !== 0);
}

/** Producer of `v` if `v` has no other consumer and is not a graph output. */
function exclusiveProducer(v: Value | null): Node | undefined {
  if (!v || !v.producer || v.isGraphOutput) return undefined;
  return v.consumers.length === 1 ? v.producer : undefined;
}

/** Is the Add after a MatMul a bias add (one operand constant)? */
function matmulBias(add: Node): Node | undefined {
  if (add.op !== 'Add') return undefined;
  for (const [a, b] of [[add.inputs[0], add.inputs[1]], [add.inputs[1], add.inputs[0]]] as const) {
    const p = exclusiveProducer(a ?? null);
    if (p?.op === 'MatMul' && constData(p.inputs[1]) && constData(b)) return p;
  }
  return undefined;
}

export function classifyBn(bn: Node): BnFinding {
  const name = bn.name;
  if (!paramsConst(bn)) return { node: name, pattern: 'standalone', foldable: false, reason: 'scale, bias, mean or variance is not a constant' };
  if (isTrainingBn(bn)) return { node: name, pattern: 'standalone', foldable: false, reason: 'training-mode BatchNormalization (export with eval() and TrainingMode.EVAL or PRESERVE)' };
  const x = bn.inputs[0]!;
  const prod = exclusiveProducer(x);
  if (prod?.op === 'Conv' && constData(prod.inputs[1])) return { node: name, pattern: 'conv-bn', foldable: true, reason: 'folds into the preceding Conv', into: prod.name };
  if (prod?.op === 'Gemm' && constData(prod.inputs[1]) && (!prod.inputs[2] || constData(prod.inputs[2]))) {
    return { node: name, pattern: 'gemm-bn', foldable: true, reason: 'folds into the preceding Gemm', into: prod.name };
  }
  if (prod?.op === 'MatMul' && constData(prod.inputs[1])?.dims.length === 2) {
    return { node: name, pattern: 'gemm-bn', foldable: true, reason: 'folds into the preceding MatMul', into: prod.name };
  }
  if (prod && matmulBias(prod)) return { node: name, pattern: 'gemm-bn', foldable: true, reason: 'folds into the preceding MatMul + Add', into: matmulBias(prod)!.name };
  if (prod?.op === 'ConvTranspose' || (prod && ['Conv', 'Gemm', 'MatMul'].includes(prod.op))) {
    return { node: name, pattern: 'standalone', foldable: false, reason: `the preceding ${prod.op} has a non-constant weight or bias` };
  }

  const y = bn.outputs[0]!;
  const consumers = y.consumers;
  if (!y.isGraphOutput && consumers.length >= 1) {
    // BN2d -> Flatten -> Gemm
    if (consumers.length === 1 && (consumers[0]!.op === 'Flatten' || consumers[0]!.op === 'Reshape')) {
      const fl = consumers[0]!;
      const g = fl.outputs[0]!.onlyConsumer;
      const flattenOk = fl.op === 'Flatten' ? fl.attrInt('axis', 1) === 1 : true;
      if (g && (g.op === 'Gemm' || g.op === 'MatMul') && g.inputs[0] === fl.outputs[0] && constData(g.inputs[1]) && flattenOk && g.attrInt('transA', 0) === 0) {
        return { node: name, pattern: 'bn-flatten-gemm', foldable: true, reason: `folds into the input side of ${g.op} ${g.name}`, into: g.name };
      }
    }
    if (consumers.length === 1 && (consumers[0]!.op === 'Gemm' || consumers[0]!.op === 'MatMul') && consumers[0]!.inputs[0] === y && constData(consumers[0]!.inputs[1]) && x.shape?.length === 2) {
      const g = consumers[0]!;
      return { node: name, pattern: 'bn-flatten-gemm', foldable: true, reason: `folds into the input side of ${g.op} ${g.name}`, into: g.name };
    }
    if (consumers.every((c) => c.op === 'Conv' && c.inputs[0] === y && constData(c.inputs[1]))) {
      const padded = consumers.filter(convPads);
      if (padded.length === 0) {
        return { node: name, pattern: 'bn-conv', foldable: true, reason: 'the following Conv pads nothing, so the BN folds into its input side exactly', into: consumers.map((c) => c.name).join(',') };
      }
      return {
        node: name,
        pattern: 'bn-conv',
        foldable: false,
        reason: `the following Conv ${padded[0]!.name} zero-pads after the BN, so folding its shift into the conv would be wrong at the borders`,
      };
    }
  }
  const from = x.producer ? `${x.producer.op} ${x.producer.name}` : 'the graph input';
  const to = consumers.length ? consumers.map((c) => c.op).join(', ') : 'the graph output';
  return { node: name, pattern: 'standalone', foldable: false, reason: `between ${from} and ${to}: no linear op to fold into` };
}

export function classifyBatchNorms(g: Graph): BnFinding[] {
  return g.nodes.filter((n) => n.op === 'BatchNormalization' && n.domain === '').map(classifyBn);
}
