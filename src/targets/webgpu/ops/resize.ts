/**
 * Resize with mode "nearest" (opset 10, 11+, 13+, 18/19 without antialias) and
 * Upsample (opset 7/9, nearest) as a gather (gather.ts). Per axis with input
 * size d, output size o and scale s (the given scale, or o / d when sizes are
 * given), output index x maps to the input coordinate (float32, as onnxruntime
 * computes it)
 *   half_pixel (default)   (x + 0.5) / s - 0.5
 *   pytorch_half_pixel     o > 1 ? (x + 0.5) / s - 0.5 : 0
 *   half_pixel_symmetric   d/2 (1 - o / (s d)) + (x + 0.5) / s - 0.5
 *   align_corners          o > 1 ? x (d - 1) / (o - 1) : 0
 *   asymmetric             x / s
 *   tf_half_pixel_for_nn   (x + 0.5) / s
 * then to an index by nearest_mode (round_prefer_floor default: a .5 goes down;
 * round_prefer_ceil; floor; ceil), clamped to [0, d - 1]. Opset 10 Resize and
 * Upsample are asymmetric, and truncate (floor) when enlarging and round up when
 * shrinking, as onnxruntime does. An axis of scale 1 is copied as it is (onnxruntime
 * does not map it). The batch axis keeps scale 1.
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import { constOf } from './const.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { gatherLayer, isIdentity, type AxisTable } from './gather.js';

const TRANSFORMS = ['half_pixel', 'pytorch_half_pixel', 'half_pixel_symmetric', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

export interface ResizeSpec { readonly scales: number[] | null; readonly transform: string; readonly nearest: string }

function legacy(n: Node): boolean {
  return n.op === 'Upsample' || (n.op === 'Resize' && n.inputs.length === 2 && !n.attr('coordinate_transformation_mode') && !n.attr('nearest_mode'));
}

export function spec(n: Node): ResizeSpec | string {
  const mode = n.attrString('mode', 'nearest');
  if (mode !== 'nearest') return `mode ${mode} (only nearest)`;
  if (n.attrInt('antialias', 0) !== 0) return 'antialias';
  if (n.attr('axes')) return 'the axes attribute';
  let scales: number[] | null = null;
  if (n.op === 'Upsample' && n.attr('scales')) scales = n.attrFloats('scales')!;
  else {
    const si = n.op === 'Upsample' || n.inputs.length === 2 ? 1 : 2;
    const sv = n.inputs[si];
    if (sv) {
      const c = constOf(sv);
      if (!c) return 'the scales are not constant';
      if (c.size > 0) scales = c.numbers();
    }
    const zv = n.op === 'Resize' ? n.inputs[3] : null;
    if (zv && !constOf(zv)) return 'the sizes are not constant';
    if (!scales && !zv) return 'neither scales nor sizes';
  }
  if (legacy(n)) return { scales, transform: 'asymmetric', nearest: 'simple' };
  const transform = n.attrString('coordinate_transformation_mode', 'half_pixel');
  if (!TRANSFORMS.includes(transform)) return `coordinate_transformation_mode ${transform}`;
  const nearest = n.attrString('nearest_mode', 'round_prefer_floor');
  if (!NEAREST.includes(nearest)) return `nearest_mode ${nearest}`;
  return { scales, transform, nearest };
}

export function check(n: Node): string | undefined {
  const s = spec(n);
  return typeof s === 'string' ? s : undefined;
}

const f = Math.fround;

/** The input index of output index x on one axis (float32 arithmetic, as onnxruntime). */
export function nearestIndex(x: number, d: number, o: number, scale: number, transform: string, nearest: string): number {
  const s = f(scale);
  let c: number;
  switch (transform) {
    case 'pytorch_half_pixel': c = o > 1 ? f(f(f(x + 0.5) / s) - 0.5) : 0; break;
    case 'half_pixel_symmetric': {
      const adj = f(o / f(s * d));
      const off = f(f(d / 2) * f(1 - adj));
      c = f(off + f(f(f(x + 0.5) / s) - 0.5));
      break;
    }
    case 'align_corners': c = o === 1 ? 0 : f(f(x * (d - 1)) / (o - 1)); break;
    case 'asymmetric': c = f(x / s); break;
    case 'tf_half_pixel_for_nn': c = f(f(x + 0.5) / s); break;
    default: c = f(f(f(x + 0.5) / s) - 0.5);
  }
  let i: number;
  switch (nearest) {
    case 'simple': i = s < 1 ? Math.ceil(c) : Math.trunc(c); break;
    case 'floor': i = Math.floor(c); break;
    case 'ceil': i = Math.ceil(c); break;
    case 'round_prefer_ceil': i = c === Math.floor(c) + 0.5 ? Math.ceil(c) : Math.round(c); break;
    default: i = c === Math.floor(c) + 0.5 ? Math.floor(c) : Math.sign(c) * Math.round(Math.abs(c));
  }
  return Math.min(Math.max(i, 0), d - 1);
}

/** The index table of ONNX axis `axis` (input size d, output size o), null for a copy, or a reason. */
export function resizeAxis(s: ResizeSpec, axis: number, d: number, o: number): AxisTable | string {
  const scale = s.scales ? s.scales[axis]! : o / d;
  if (!(scale > 0)) return `scale ${scale} on axis ${axis}`;
  // An axis of scale 1 is copied (as onnxruntime does: a .5 offset with ceil would otherwise shift it).
  if (scale === 1 && o === d) return null;
  const t = new Int32Array(o);
  for (let x = 0; x < o; x++) t[x] = nearestIndex(x, d, o, scale, s.transform, s.nearest);
  return isIdentity(t, d) ? null : t;
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const s = spec(n) as ResizeSpec;
  const xs = c.x.shape, os = c.out.shape;
  if (xs.length !== os.length) return c.fail(`input [${xs.join(',')}] and output [${os.join(',')}] per image differ in rank`);
  if (s.scales && s.scales.length !== xs.length + 1) return c.fail(`${s.scales.length} scales for rank ${xs.length + 1}`);
  if (s.scales && s.scales[0] !== 1) return c.fail('resizes the batch axis');
  const tables: AxisTable[] = [];
  for (let a = 0; a < xs.length; a++) {
    const t = resizeAxis(s, a + 1, xs[a]!, os[a]!);
    if (typeof t === 'string') return c.fail(t);
    tables.push(t);
  }
  return gatherLayer('resize', n.name, c.x, c.out, tables, 0);
}

export const rule: WebGpuOpRule = {
  constraints: ['mode nearest, every coordinate_transformation_mode but tf_crop_and_resize, every nearest_mode', 'constant scales or sizes; the batch axis not resized; no antialias or axes', 'a gather kernel with the index tables computed at export'],
  check,
  lower,
};
