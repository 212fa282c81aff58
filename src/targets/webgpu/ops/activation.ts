/**
 * Elementwise activations as one-op eltwise layers; plan.ts fuses them into the
 * epilogue of the convolution or fc before them when they are its only reader
 * (the epilogue code is in wgsl/common.ts):
 *   Relu         y = max(x, 0)
 *   PRelu        y = x >= 0 ? x : alpha[c] x       (constant slope, per channel or scalar)
 *   LeakyRelu    a PRelu with one slope alpha      (0.01 by default)
 *   Clip         y = clamp(x, min, max)            (attributes, or constant inputs from opset 11)
 *   Sigmoid      y = 1 / (1 + e^-x)
 *   HardSigmoid  y = max(0, min(1, alpha x + beta))    (alpha 0.2, beta 0.5 by default)
 *   HardSwish    y = x max(0, min(1, x / 6 + 1 / 2))
 */
import type { Node } from '../../../ir/node.js';
import type { EpiOp, Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { constOf } from './const.js';
import { channelParam } from './per-channel.js';

export function eltwise(n: Node, c: LowerContext, op: EpiOp): Layer {
  const s = c.x.shape;
  return { kind: 'eltwise', x: c.x, out: c.out, channels: s[0] ?? 1, inner: s.slice(1).reduce((a, b) => a * b, 1), epi: [op], nodes: [n.name] };
}

/** An activation whose epilogue op needs no parameter check. */
const fused = (constraints: readonly string[], op: (n: Node, c: LowerContext) => EpiOp | null, check: (n: Node) => string | undefined = () => undefined): WebGpuOpRule => ({
  constraints,
  check,
  lower: (n, c) => {
    const e = op(n, c);
    return e ? eltwise(n, c, e) : null;
  },
});
const FUSES = 'fuses into the convolution or fc before it';

export const relu = fused([], () => ({ op: 'relu' }));
export const prelu = fused(
  ['constant per-channel or scalar slope'],
  (n, c) => {
    const alpha = channelParam(n.inputs[1], 'slope', c);
    return alpha ? { op: 'prelu', alpha } : null;
  },
  (n) => (constOf(n.inputs[1]) ? undefined : 'the slope is not constant'),
);
export const leakyRelu = fused(['any alpha (a PRelu with one slope)'], (n, c) => ({ op: 'prelu', alpha: new Float32Array(c.x.shape[0] ?? 1).fill(n.attrFloat('alpha', 0.01)) }));
export const clip = fused(
  ['constant min / max (attributes or inputs): ReLU6 and friends'],
  (n) => {
    let min = n.attrFloat('min', -3.4028234663852886e38), max = n.attrFloat('max', 3.4028234663852886e38);
    const cmin = constOf(n.inputs[1]), cmax = constOf(n.inputs[2]);
    if (cmin) min = cmin.float32()[0]!;
    if (cmax) max = cmax.float32()[0]!;
    return { op: 'clip', min, max };
  },
  (n) => {
    for (const i of [1, 2]) if (n.inputs[i] && !constOf(n.inputs[i])) return 'min/max are not constant';
    return undefined;
  },
);
export const sigmoid = fused([FUSES], () => ({ op: 'sigmoid' }));
export const hardSigmoid = fused(['any alpha, beta', FUSES], (n) => ({ op: 'hardsigmoid', alpha: n.attrFloat('alpha', 0.2), beta: n.attrFloat('beta', 0.5) }));
export const hardSwish = fused([FUSES], () => ({ op: 'hardswish' }));
