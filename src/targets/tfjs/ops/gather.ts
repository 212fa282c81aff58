/**
 * Slice, Pad, Resize and Upsample (nearest), Expand.
 * Each is an index map per axis, computed at conversion time with the WebGPU
 * target's rules (src/targets/webgpu/ops/{slice,pad,resize}.ts, so both targets
 * agree by construction):  Y[..., o_a, ...] = X[..., T_a[o_a], ...]
 * and becomes one GatherV2 (int32 indices) per axis that is not copied as is,
 * in the activation's layout (NHWC axes for a 4-D NHWC value). Exact for every
 * mode: the same elements are picked, no arithmetic happens. Expand is numpy
 * broadcast to a constant shape of the same rank: zero indices on each axis of
 * size 1 that grows. Pad mode constant is one PadV2 instead.
 */
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { Converter } from '../convert.js';
import { NHWC, PLAIN } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { NCHW_TO_NHWC_AXIS } from '../layout-math.js';
import { isIdentity } from '../../webgpu/ops/gather.js';
import { padIndex, spec as padSpec } from '../../webgpu/ops/pad.js';
import { resizeAxis, spec as resizeSpec } from '../../webgpu/ops/resize.js';
import { sliceTables, spec as sliceSpec, type SliceSpec } from '../../webgpu/ops/slice.js';
import { T_FLOAT, constInts, needConst, staticDims, type Check, type Lower } from './rule.js';

const checkPad: Check = (n) => {
  const r: string[] = [];
  if (n.attrString('mode', 'constant') !== 'constant') r.push(`mode ${n.attrString('mode')} is not supported (constant only)`);
  if (!n.attr('pads')) r.push(...needConst(n, 1, 'pads'), ...needConst(n, 2, 'constant_value'));
  if (n.inputs[3]) r.push('axes (input 3) is not supported');
  if (!n.inputs[0]?.shape) r.push('input rank must be known');
  return r;
};

const lowerPad: Lower = (n, cx) => {
  const x = n.inputs[0]!;
  const rank = cx.shape(x).length;
  const pads = n.attrInts('pads') ?? constInts(n.inputs[1])!;
  const value = n.attr('pads') ? n.attrFloat('value', 0) : (n.inputs[2]?.const?.float32()[0] ?? 0);
  const t = cx.tensor(x);
  const nhwc = t.layout.kind === 'nhwc';
  const order = nhwc ? [0, 2, 3, 1] : [...Array(rank).keys()];
  const paddings = order.flatMap((a) => [pads[a]!, pads[a + rank]!]);
  const ref = cx.b.op(n.name, 'PadV2', [nhwc ? t.ref : cx.plain(x), cx.b.constI32(`${n.name}/paddings`, [rank, 2], paddings), cx.b.constF32(`${n.name}/value`, [], Float32Array.of(value), 'param')], T_FLOAT);
  cx.set(n.output(0), ref, nhwc ? NHWC : PLAIN);
};

/** Per axis a, an index table T_a, or null where the axis is copied as it is. */
type Tables = (Int32Array | null)[];

function gatherAxes(cx: Converter, n: Node, x: Value, tables: readonly (Int32Array | null)[]): void {
  const t = cx.tensor(x);
  const nhwc = t.layout.kind === 'nhwc';
  let ref = nhwc ? t.ref : cx.plain(x);
  tables.forEach((tb, a) => {
    if (!tb) return;
    const axis = nhwc ? NCHW_TO_NHWC_AXIS[a]! : a;
    ref = cx.b.op(`${n.name}/gather${a}`, 'GatherV2', [ref, cx.b.constI32(`${n.name}/index${a}`, [tb.length], [...tb]), cx.b.constI32(`${n.name}/axis${a}`, [], [axis])], { batch_dims: tfAttr.int(0) });
  });
  if (tables.every((tb) => !tb)) ref = cx.b.op(n.name, 'Identity', [ref], T_FLOAT);
  cx.set(n.output(0), ref, nhwc ? NHWC : PLAIN);
}

function fullShape(v: Value | null | undefined): number[] | string {
  if (!v?.shape || !staticDims(v)) return 'input dimensions after the batch must be known';
  return [0, ...(v.shape.slice(1) as number[])];
}

/** The op's spec (src/targets/webgpu/ops) and its input's shape (batch 0), or the first problem. */
function specAndShape<S extends object>(n: Node, spec: (n: Node) => S | string): { s: S; full: number[] } | string {
  const s = spec(n);
  if (typeof s === 'string') return s;
  const full = fullShape(n.inputs[0]);
  return typeof full === 'string' ? full : { s, full };
}

/** check and lower of an index-map op: the problem its tables report, or one GatherV2 per axis. */
function indexMap(tablesOf: (n: Node) => Tables | string): { check: Check; lower: Lower } {
  return {
    check: (n) => {
      const r = tablesOf(n);
      return typeof r === 'string' ? [r] : [];
    },
    lower: (n, cx) => gatherAxes(cx, n, n.inputs[0]!, tablesOf(n) as Tables),
  };
}

function sliceTablesOf(n: Node): Tables | string {
  const sf = specAndShape(n, sliceSpec);
  if (typeof sf === 'string') return sf;
  const { s, full } = sf;
  const rank = full.length;
  const per: SliceSpec = { starts: [], ends: [], axes: [], steps: [] };
  for (let k = 0; k < s.axes.length; k++) {
    const axis = s.axes[k]! < 0 ? s.axes[k]! + rank : s.axes[k]!;
    if (axis === 0) {
      if (s.starts[k] !== 0 || s.steps[k] !== 1 || s.ends[k]! < 2 ** 31 - 1) return 'slices the batch axis: only axes after the batch can be sliced';
      continue;
    }
    per.starts.push(s.starts[k]!); per.ends.push(s.ends[k]!); per.steps.push(s.steps[k]!); per.axes.push(axis - 1);
  }
  const r = sliceTables(per, full.slice(1));
  if (typeof r === 'string') return r;
  if (r.shape.some((d) => d === 0)) return 'an empty slice';
  return [null, ...r.tables.map((t, a) => (t && isIdentity(t, full[a + 1]!) ? null : t))];
}

export const { check: checkSlice, lower: lowerSlice } = indexMap(sliceTablesOf);

function padTablesOf(n: Node): Tables | string {
  const sf = specAndShape(n, padSpec);
  if (typeof sf === 'string') return sf;
  const { s, full } = sf;
  const rank = full.length;
  const axes = (s.axes ?? [...Array(rank).keys()]).map((a) => (a < 0 ? a + rank : a));
  if (s.pads.length !== 2 * axes.length) return `${s.pads.length} pads for ${axes.length} axes`;
  const tables: (Int32Array | null)[] = full.map(() => null);
  for (let k = 0; k < axes.length; k++) {
    const a = axes[k]!, b = s.pads[k]!, e = s.pads[k + axes.length]!;
    if (b === 0 && e === 0) continue;
    if (a === 0) return 'pads the batch axis';
    const d = full[a]!;
    const len = d + b + e;
    if (len <= 0 || d === 0) return `axis ${a}: pads (${b}, ${e}) leave nothing of ${d}`;
    const t = new Int32Array(len);
    for (let o = 0; o < len; o++) t[o] = padIndex(o, b, d, s.mode);
    tables[a] = t;
  }
  return tables;
}

const padGather = indexMap(padTablesOf);
const isConstantPad = (n: Node) => n.attrString('mode', 'constant') === 'constant';

/** Pad: mode constant as PadV2, modes edge / reflect / wrap as index maps. */
export const checkPadAny: Check = (n) => (isConstantPad(n) ? checkPad(n) : padGather.check(n));

export const lowerPadAny: Lower = (n, cx) => (isConstantPad(n) ? lowerPad(n, cx) : padGather.lower(n, cx));

function resizeTablesOf(n: Node): Tables | string {
  const sf = specAndShape(n, resizeSpec);
  if (typeof sf === 'string') return sf;
  const { s, full } = sf;
  const out = fullShape(n.outputs[0]);
  if (typeof out === 'string') return 'output dimensions after the batch must be known';
  if (out.length !== full.length) return 'input and output ranks differ';
  if (s.scales && (s.scales.length !== full.length || s.scales[0] !== 1)) return 'the batch axis must keep scale 1';
  const tables: (Int32Array | null)[] = [null];
  for (let a = 1; a < full.length; a++) {
    const t = resizeAxis(s, a, full[a]!, out[a]!);
    if (typeof t === 'string') return t;
    tables.push(t);
  }
  return tables;
}

export const { check: checkResize, lower: lowerResize } = indexMap(resizeTablesOf);

// ---- Expand ------------------------------------------------------------------------------
// numpy broadcast to a constant shape of the same rank, as GatherV2 with zero
// indices on each axis of size 1 that grows (exact; the batch axis is kept).

function expandTablesOf(n: Node): Tables | string {
  if (!n.inputs[1]?.const) return 'the target shape (input 1) must be a constant';
  const full = fullShape(n.inputs[0]);
  if (typeof full === 'string') return full;
  const out = fullShape(n.outputs[0]);
  if (typeof out === 'string') return 'output dimensions after the batch must be known';
  if (out.length !== full.length) return `expands rank ${full.length} to ${out.length}: only same-rank broadcasts are supported`;
  const tables: (Int32Array | null)[] = [null];
  for (let a = 1; a < full.length; a++) {
    if (full[a] === out[a]) tables.push(null);
    else if (full[a] === 1) tables.push(new Int32Array(out[a]!));
    else return `axis ${a}: ${full[a]} does not broadcast to ${out[a]}`;
  }
  return tables;
}

export const { check: checkExpand, lower: lowerExpand } = indexMap(expandTablesOf);
