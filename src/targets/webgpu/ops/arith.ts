/**
 * Add, Sub, Mul, Div.
 *   By a constant p (per channel or scalar): an affine step y = x*s + t that fuses
 *   into the layer before it:
 *     x + p: t = p    x * p: s = p    x - p: t = -p    p - x: s = -1, t = p    x / p: s = 1/p
 *   (p / x is refused.)
 *   Two activations of the same shape (Add): a residual add, fused into the convolution
 *   whose output it reads.
 *   Two activations otherwise: numpy broadcasting within the image, binary.ts's kernel.
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { eltwise } from './activation.js';
import * as binary from './binary.js';
import { constOf } from './const.js';
import { channelParam } from './per-channel.js';

function lowerByConstant(n: Node, c: LowerContext): Layer | null {
  const [a, b] = [n.inputs[0]!, n.inputs[1]!];
  const constFirst = !!constOf(a);
  const p = channelParam(constFirst ? a : b, 'constant operand', c);
  if (!p) return null;
  switch (n.op) {
    case 'Add': return eltwise(n, c, { op: 'affine', scale: null, shift: p });
    case 'Mul': return eltwise(n, c, { op: 'affine', scale: p, shift: null });
    case 'Sub': return eltwise(n, c, constFirst ? { op: 'affine', scale: p.map(() => -1), shift: p } : { op: 'affine', scale: null, shift: p.map((v) => -v) });
    case 'Div': return constFirst ? c.fail('constant divided by an activation') : eltwise(n, c, { op: 'affine', scale: p.map((v) => 1 / v), shift: null });
  }
  return c.fail('no WebGPU kernel for this op');
}

export function rule(op: 'Add' | 'Sub' | 'Mul' | 'Div'): WebGpuOpRule {
  return {
    constraints: [
      'by a per-channel or scalar constant: an affine step that fuses into the layer before',
      ...(op === 'Add' ? ['two activations of the same shape: a residual add fused into the convolution'] : []),
      'two activations: numpy broadcasting within the image (same rank, each axis equal or 1), one kernel',
    ],
    check: (n) => (binary.isBinary(n) ? binary.check(n) : undefined),
    lower: (n, c) => {
      if (!binary.isBinary(n)) return lowerByConstant(n, c);
      const a = c.acts.get(n.inputs[0]!), b = c.acts.get(n.inputs[1]!);
      // The residual: x is a (the first data input), the epilogue adds b.
      if (op === 'Add' && a && b && a.shape.join(',') === b.shape.join(',')) return eltwise(n, c, { op: 'add', input: b });
      return binary.lower(n, c);
    },
  };
}
