/**
 * Elementwise activations as one-op eltwise layers; plan.ts fuses them into the
 * epilogue of the convolution or fc before them when they are its only reader
 * (the epilogue code is in wgsl/common.ts):
 *   Sigmoid      y = 1 / (1 + e^-x)
 *   HardSigmoid  y = max(0, min(1, alpha x + beta))    (alpha 0.2, beta 0.5 by default)
 *   HardSwish    y = x max(0, min(1, x / 6 + 1 / 2))
 */
import type { Node } from '../../../ir/node.js';
import type { EpiOp, Layer } from '../plan.js';
import type { LowerContext } from '../op-table.js';

export function eltwise(n: Node, c: LowerContext, op: EpiOp): Layer {
  const s = c.x.shape;
  return { kind: 'eltwise', x: c.x, out: c.out, channels: s[0] ?? 1, inner: s.slice(1).reduce((a, b) => a * b, 1), epi: [op], nodes: [n.name] };
}

export const sigmoid = (n: Node, c: LowerContext): Layer => eltwise(n, c, { op: 'sigmoid' });
export const hardSigmoid = (n: Node, c: LowerContext): Layer => eltwise(n, c, { op: 'hardsigmoid', alpha: n.attrFloat('alpha', 0.2), beta: n.attrFloat('beta', 0.5) });
export const hardSwish = (n: Node, c: LowerContext): Layer => eltwise(n, c, { op: 'hardswish' });
