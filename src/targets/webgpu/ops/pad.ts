/**
 * Pad (opset 2 attributes, opset 11+ inputs, opset 18 axes) as a gather
 * (gather.ts). Per axis with pads (b, e) (negative: crop), input size d, output
 * size d + b + e, and output index o, the input index i = o - b is
 *   constant: i if 0 <= i < d, else -1 (the constant value)
 *   edge:     clamp(i, 0, d - 1)
 *   reflect:  mirrored without repeating the edge (period 2(d - 1); d = 1: 0)
 *   wrap:     i mod d
 * The batch axis must not be padded.
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import { constOf } from './const.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { gatherLayer, isIdentity, type AxisTable } from './gather.js';

const MODES = ['constant', 'edge', 'reflect', 'wrap'];

export interface PadSpec { readonly pads: number[]; readonly axes: number[] | null; readonly value: number; readonly mode: string }

export function spec(n: Node): PadSpec | string {
  const mode = n.attrString('mode', 'constant');
  if (!MODES.includes(mode)) return `mode ${mode}`;
  if (n.inputs.length > 1 || !n.attr('pads')) {
    const p = constOf(n.inputs[1]);
    if (!p) return 'the pads are not constant';
    let value = 0;
    if (n.inputs[2]) {
      const v = constOf(n.inputs[2]);
      if (!v) return 'the constant value is not constant';
      value = v.numbers()[0] ?? 0;
    }
    let axes: number[] | null = null;
    if (n.inputs[3]) {
      const a = constOf(n.inputs[3]);
      if (!a) return 'the axes are not constant';
      axes = a.numbers();
    }
    return { pads: p.numbers(), axes, value, mode };
  }
  return { pads: n.attrInts('pads')!, axes: null, value: n.attrFloat('value', 0), mode };
}

export function check(n: Node): string | undefined {
  const s = spec(n);
  return typeof s === 'string' ? s : undefined;
}

/** The input index of output index o on one axis. */
export function padIndex(o: number, begin: number, d: number, mode: string): number {
  const i = o - begin;
  switch (mode) {
    case 'edge': return Math.min(Math.max(i, 0), d - 1);
    case 'wrap': return ((i % d) + d) % d;
    case 'reflect': {
      if (d === 1) return 0;
      const p = 2 * (d - 1);
      const m = ((i % p) + p) % p;
      return m < d ? m : p - m;
    }
    default: return i >= 0 && i < d ? i : -1;
  }
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const s = spec(n) as PadSpec;
  const rank = c.x.shape.length + 1;
  const axes = (s.axes ?? [...Array(rank).keys()]).map((a) => (a < 0 ? a + rank : a));
  if (s.pads.length !== 2 * axes.length) return c.fail(`${s.pads.length} pads for ${axes.length} axes`);
  const begin = new Array<number>(rank).fill(0), end = new Array<number>(rank).fill(0);
  axes.forEach((a, k) => {
    begin[a] = s.pads[k]!;
    end[a] = s.pads[k + axes.length]!;
  });
  if (begin[0] !== 0 || end[0] !== 0) return c.fail('pads the batch axis');
  const tables: AxisTable[] = [];
  const shape: number[] = [];
  for (let a = 0; a < c.x.shape.length; a++) {
    const d = c.x.shape[a]!, b = begin[a + 1]!, e = end[a + 1]!;
    const len = d + b + e;
    if (len < 0) return c.fail(`axis ${a + 1}: pads (${b}, ${e}) leave nothing of ${d}`);
    if (s.mode !== 'constant' && d === 0) return c.fail(`${s.mode} padding of an empty axis`);
    const t = new Int32Array(len);
    for (let o = 0; o < len; o++) t[o] = padIndex(o, b, d, s.mode);
    tables.push(isIdentity(t, d) ? null : t);
    shape.push(len);
  }
  if (shape.join(',') !== c.out.shape.join(',')) return c.fail(`computed per-image shape [${shape.join(',')}] differs from the graph's [${c.out.shape.join(',')}]`);
  return gatherLayer('pad', n.name, c.x, c.out, tables, s.value);
}

export const rule: WebGpuOpRule = {
  constraints: ['modes constant, edge, reflect, wrap', 'constant pads, value and axes (inputs or opset-2 attributes); negative pads crop', 'the batch axis not padded', 'a gather kernel'],
  check,
  lower,
};
