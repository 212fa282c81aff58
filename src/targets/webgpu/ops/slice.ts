/**
 * Slice (opset 1 attributes, opset 10+ inputs) as a gather (gather.ts). Per
 * sliced axis of size d, with ONNX's clamping:
 *   start += d if start < 0;  end += d if end < 0
 *   step > 0: start, end clamped to [0, d];     len = max(0, ceil((end - start) / step))
 *   step < 0: start clamped to [0, d - 1], end to [-1, d - 1]; len = max(0, ceil((end - start) / step))
 *   T[i] = start + i * step
 * The batch axis must be kept whole.
 */
import type { Node } from '../../../ir/node.js';
import type { Act, Layer } from '../plan.js';
import { constOf } from './const.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { gatherLayer, isIdentity, type AxisTable } from './gather.js';

export interface SliceSpec { readonly starts: number[]; readonly ends: number[]; readonly axes: number[]; readonly steps: number[] }

export function spec(n: Node): SliceSpec | string {
  const fromInput = (i: number): number[] | null | string => {
    const v = n.inputs[i];
    if (!v) return null;
    const c = constOf(v);
    return c ? c.numbers() : `input ${i} (${v.name}) is not constant`;
  };
  let starts: number[], ends: number[], axes: number[] | null, steps: number[] | null;
  if (n.inputs.length > 1) {
    const s = fromInput(1), e = fromInput(2), a = fromInput(3), st = fromInput(4);
    for (const x of [s, e, a, st]) if (typeof x === 'string') return x;
    if (!s || !e) return 'starts and ends are needed';
    starts = s as number[]; ends = e as number[]; axes = a as number[] | null; steps = st as number[] | null;
  } else {
    const s = n.attrInts('starts'), e = n.attrInts('ends');
    if (!s || !e) return 'starts and ends are needed';
    starts = s; ends = e; axes = n.attrInts('axes') ?? null; steps = null;
  }
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) return 'starts, ends, axes and steps differ in length';
  if (steps.some((s) => s === 0)) return 'a step of 0';
  return { starts, ends, axes, steps };
}

export function check(n: Node): string | undefined {
  const s = spec(n);
  return typeof s === 'string' ? s : undefined;
}

/** Per-axis tables of the slice on an input of full rank `rank`, or a reason. */
export function sliceTables(s: SliceSpec, full: readonly number[]): { tables: AxisTable[]; shape: number[] } | string {
  const rank = full.length;
  const tables: (Int32Array | null)[] = full.map(() => null);
  const shape = [...full];
  for (let k = 0; k < s.axes.length; k++) {
    const axis = s.axes[k]! < 0 ? s.axes[k]! + rank : s.axes[k]!;
    if (axis < 0 || axis >= rank) return `axis ${s.axes[k]} is out of range for rank ${rank}`;
    const d = full[axis]!;
    const step = s.steps[k]!;
    let start = s.starts[k]!, end = s.ends[k]!;
    if (start < 0) start += d;
    if (end < 0) end += d;
    if (step > 0) {
      start = Math.min(Math.max(start, 0), d);
      end = Math.min(Math.max(end, 0), d);
    } else {
      start = Math.min(Math.max(start, 0), d - 1);
      end = Math.min(Math.max(end, -1), d - 1);
    }
    const len = Math.max(0, Math.ceil((end - start) / step));
    const t = new Int32Array(len);
    for (let i = 0; i < len; i++) t[i] = start + i * step;
    tables[axis] = t;
    shape[axis] = len;
  }
  return { tables, shape };
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const s = spec(n) as SliceSpec;
  const rank = c.x.shape.length + 1;
  const per: SliceSpec = { starts: [], ends: [], axes: [], steps: [] };
  for (let k = 0; k < s.axes.length; k++) {
    const axis = s.axes[k]! < 0 ? s.axes[k]! + rank : s.axes[k]!;
    if (axis === 0) {
      // The batch size is not known here: only "all of it" (start 0, step 1, end INT_MAX or more) is exact.
      if (s.starts[k] !== 0 || s.steps[k] !== 1 || s.ends[k]! < 2 ** 31 - 1) return c.fail('slices the batch axis: only per-image axes can be sliced');
      continue;
    }
    per.starts.push(s.starts[k]!); per.ends.push(s.ends[k]!); per.steps.push(s.steps[k]!); per.axes.push(axis - 1);
  }
  const r = sliceTables(per, c.x.shape);
  if (typeof r === 'string') return c.fail(r);
  return sliceLayer(n, c.x, c.out, r.tables, r.shape, c);
}

function sliceLayer(n: Node, x: Act, out: Act, tables: AxisTable[], shape: number[], c: LowerContext): Layer | null {
  if (shape.join(',') !== out.shape.join(',')) return c.fail(`computed per-image shape [${shape.join(',')}] differs from the graph's [${out.shape.join(',')}]`);
  const t = tables.map((tb, a) => (tb && isIdentity(tb, x.shape[a]!) ? null : tb));
  return gatherLayer('slice', n.name, x, out, t, 0);
}

export const rule: WebGpuOpRule = {
  constraints: ['constant starts / ends / axes / steps (inputs or opset-1 attributes), any step but 0', 'the batch axis kept whole', 'a gather kernel (one output element per thread)'],
  check,
  lower,
};
