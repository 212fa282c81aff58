/**
 * MaxPool, AveragePool (2-D, dilation 1) and GlobalAveragePool (kernels in wgsl/eltwise.ts):
 *   max:  y = max over the window's in-bounds taps
 *   avg:  y = sum / (taps in bounds, or the whole padded window with count_include_pad)
 *   gap:  y[c] = sum_{p < HW} x[c, p] / HW
 * ceil_mode needs no code: the output size comes from the graph's shapes.
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { windowPads } from './window.js';

function check(n: Node): string | undefined {
  if ((n.attrInts('kernel_shape') ?? []).length !== 2) return 'only 2-D pooling is supported';
  if (n.attrInts('dilations', [1, 1]).some((d) => d !== 1)) return 'dilation other than 1';
  if (n.outputs.length > 1 && n.outputs[1]!.uses.length) return 'MaxPool indices output';
  return undefined;
}

function lower(n: Node, c: LowerContext): Layer | null {
  const { x, out } = c;
  if (x.shape.length !== 3 || out.shape.length !== 3) return c.fail('input and output must be [N, C, H, W]');
  const [ch, h, w] = x.shape as [number, number, number];
  const [, oh, ow] = out.shape as [number, number, number];
  const nodes = [n.name];
  if (n.op === 'GlobalAveragePool') return { kind: 'gap', x, out, c: ch, hw: h * w, nodes };
  const [kh, kw] = n.attrInts('kernel_shape') as [number, number];
  const [sh, sw] = n.attrInts('strides', [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = windowPads(n, h, w, kh, kw, sh, sw);
  return { kind: n.op === 'MaxPool' ? 'maxpool' : 'avgpool', x, out, c: ch, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, countIncludePad: n.attrInt('count_include_pad', 0) === 1, nodes };
}

export const maxPool: WebGpuOpRule = { constraints: ['2-D, dilation 1, the indices output unused', 'any kernel, stride, pads, ceil_mode'], check, lower };
export const averagePool: WebGpuOpRule = { constraints: ['2-D, dilation 1', 'count_include_pad 0 or 1, ceil_mode'], check, lower };
export const globalAveragePool: WebGpuOpRule = { constraints: ['4-D input'], check: () => undefined, lower };
