/**
 * Conv (2-D, constant weight and bias, dilation 1, any group) as a conv layer:
 *   Y[co, oh, ow] = b[co] + sum_{ci in group(co), kh, kw} W[co, ci, kh, kw] X[ci, oh*SH - PT + kh, ow*SW - PL + kw]
 * (0 outside the image). The kernels are in wgsl/conv.ts; plan.ts fuses an affine
 * before it (prologue) and the elementwise chain after it (epilogue).
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { constOf } from './const.js';
import { windowPads } from './window.js';

export function check(n: Node): string | undefined {
  if (!constOf(n.inputs[1])) return 'the weight is not constant';
  if (n.inputs[2] && !constOf(n.inputs[2])) return 'the bias is not constant';
  const w = constOf(n.inputs[1])!;
  if (w.dims.length !== 4) return `only 2-D convolutions are supported (weight rank ${w.dims.length})`;
  if (n.attrInts('dilations', [1, 1]).some((d) => d !== 1)) return 'dilation other than 1';
  return undefined;
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const { x, out } = c;
  if (x.shape.length !== 3 || out.shape.length !== 3) return c.fail('input and output must be [N, C, H, W]');
  const wt = constOf(n.inputs[1])!;
  const [cout, cinG, kh, kw] = wt.dims as [number, number, number, number];
  const group = n.attrInt('group', 1);
  const [cin, h, w] = x.shape as [number, number, number];
  const [oc, oh, ow] = out.shape as [number, number, number];
  if (cinG * group !== cin || cout % group !== 0 || oc !== cout) return c.fail(`weight [${wt.dims.join(',')}] with group ${group} does not fit input channels ${cin}`);
  const [sh, sw] = n.attrInts('strides', [1, 1]) as [number, number];
  const [pt, pl] = windowPads(n, h, w, kh, kw, sh, sw);
  const bias = n.inputs[2] ? constOf(n.inputs[2])!.float32() : null;
  return { kind: 'conv', x, out, cin, h, w, cout, oh, ow, kh, kw, sh, sw, pt, pl, group, weight: wt.float32(), bias, prologue: null, epi: [], nodes: [n.name] };
}

export const rule: WebGpuOpRule = {
  constraints: ['2-D, constant weight and bias, dilation 1', 'any kernel, stride, padding (pads or auto_pad)', 'groups: depthwise and grouped (group > 1) by a direct kernel', 'fuses bias, a following affine / PRelu / Relu / LeakyRelu / Clip / Sigmoid / HardSigmoid / HardSwish / residual Add, and an affine before it (prologue)'],
  check,
  lower,
};
