/**
 * A small constant evaluator for the cleanup pass: computes a node whose inputs
 * are all constant, in JavaScript, for a safe list of ops (the shape-arithmetic
 * ops exporters emit, plus exact elementwise arithmetic). "Safe" means the JS
 * result is bit-identical to what onnxruntime computes:
 *
 *  - data movement (Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Gather,
 *    Slice, Concat, Expand, Identity) copies elements: exact for every numeric
 *    and bool dtype (strings are refused);
 *  - float32 Add/Sub/Mul/Div/Sqrt/Reciprocal are computed in float64 and rounded
 *    once to float32: for these operations that is the correctly rounded float32
 *    result (float64 carries more than 2*24+2 significand bits), i.e. what
 *    IEEE float32 hardware computes;
 *  - int64 arithmetic uses BigInt (wrapping at 64 bits, division truncating to
 *    zero as C++ does); int32 uses 32-bit wrapping;
 *  - Cast float -> int truncates toward zero (static_cast), float -> float16
 *    rounds to nearest even.
 * Anything else (Pow, Exp, float16 arithmetic, strings, division by an integer
 * zero) is refused with a reason, and the node stays.
 *
 * Elements are JS numbers, except 64-bit integers, which are bigint.
 */
import { DType, dtypeName } from '../ir/dtype.js';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../ir/float16.js';
import type { Node } from '../ir/node.js';
import { TensorData } from '../ir/tensor.js';

export type Elem = number | bigint;

export interface CTensor {
  readonly dtype: number;
  readonly dims: readonly number[];
  readonly v: readonly Elem[];
}

/** Thrown (and caught by the caller) when a node cannot be evaluated exactly. */
export class NotFoldable extends Error {}

const is64 = (dtype: number) => dtype === DType.INT64 || dtype === DType.UINT64;
const isFloatType = (dtype: number) => dtype === DType.FLOAT || dtype === DType.DOUBLE || dtype === DType.FLOAT16 || dtype === DType.BFLOAT16;
const READABLE: ReadonlySet<number> = new Set([
  DType.FLOAT, DType.DOUBLE, DType.FLOAT16, DType.BFLOAT16, DType.INT8, DType.UINT8, DType.INT16, DType.UINT16,
  DType.INT32, DType.UINT32, DType.INT64, DType.UINT64, DType.BOOL,
]);

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

export function fromTensorData(t: TensorData): CTensor {
  if (!READABLE.has(t.dtype)) throw new NotFoldable(`${dtypeName(t.dtype)} constants are not evaluated`);
  if (is64(t.dtype)) return { dtype: t.dtype, dims: t.dims, v: [...t.bigints()] };
  return { dtype: t.dtype, dims: t.dims, v: t.numbers() };
}

export function toTensorData(t: CTensor): TensorData {
  const n = t.v.length;
  const num = (i: number) => Number(t.v[i]!);
  switch (t.dtype) {
    case DType.FLOAT:
      return TensorData.float32(t.dims, Float32Array.from(t.v, Number));
    case DType.DOUBLE:
      return TensorData.fromBytes(DType.DOUBLE, t.dims, new Uint8Array(Float64Array.from(t.v, Number).buffer));
    case DType.FLOAT16:
      return TensorData.float16Bits(t.dims, Uint16Array.from(t.v, (x) => float32ToFloat16Bits(Number(x))));
    case DType.BFLOAT16:
      return TensorData.fromBytes(DType.BFLOAT16, t.dims, new Uint8Array(Uint16Array.from(t.v, (x) => float32ToBfloat16Bits(Number(x))).buffer));
    case DType.INT64:
      return TensorData.int64(t.dims, t.v.map((x) => BigInt(x)));
    case DType.UINT64: {
      const a = new BigUint64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt.asUintN(64, BigInt(t.v[i]!));
      return TensorData.fromBytes(DType.UINT64, t.dims, new Uint8Array(a.buffer));
    }
    case DType.INT32:
      return TensorData.int32(t.dims, Array.from({ length: n }, (_, i) => num(i)));
    case DType.UINT32:
      return TensorData.fromBytes(DType.UINT32, t.dims, new Uint8Array(Uint32Array.from(t.v, Number).buffer));
    case DType.INT16:
      return TensorData.fromBytes(DType.INT16, t.dims, new Uint8Array(Int16Array.from(t.v, Number).buffer));
    case DType.UINT16:
      return TensorData.fromBytes(DType.UINT16, t.dims, new Uint8Array(Uint16Array.from(t.v, Number).buffer));
    case DType.INT8:
      return TensorData.int8(t.dims, Int8Array.from(t.v, Number));
    case DType.UINT8:
    case DType.BOOL:
      return TensorData.fromBytes(t.dtype, t.dims, Uint8Array.from(t.v, Number));
    default:
      throw new NotFoldable(`cannot write ${dtypeName(t.dtype)} constants`);
  }
}

// ---- helpers -----------------------------------------------------------------

function ints(t: CTensor | undefined, what: string): number[] {
  if (!t) throw new NotFoldable(`${what} is missing`);
  return t.v.map((x) => {
    const n = Number(x);
    if (!Number.isSafeInteger(n) && Math.abs(n) < 2 ** 62) throw new NotFoldable(`${what} is not an integer`);
    return Number.isSafeInteger(n) ? n : n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  });
}

function normAxis(a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= Math.max(rank, 1)) throw new NotFoldable(`axis ${a} is out of range for rank ${rank}`);
  return r;
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

function broadcastDims(shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + i] ?? 1;
      if (x === 1) continue;
      if (d !== 1 && d !== x) throw new NotFoldable(`shapes [${shapes.map((q) => q.join(',')).join('] [')}] do not broadcast`);
      d = x;
    }
    out.push(d);
  }
  return out;
}

/** For each output flat index, the flat index into an input of shape `dims` broadcast to `out`. */
function broadcastMap(dims: readonly number[], out: readonly number[]): Int32Array {
  const n = size(out);
  const map = new Int32Array(n);
  const os = strides(out);
  const pad = out.length - dims.length;
  const is = strides(dims);
  for (let k = 0; k < n; k++) {
    let rem = k, src = 0;
    for (let a = 0; a < out.length; a++) {
      const c = Math.floor(rem / os[a]!);
      rem -= c * os[a]!;
      const ia = a - pad;
      if (ia >= 0 && dims[ia] !== 1) src += c * is[ia]!;
    }
    map[k] = src;
  }
  return map;
}

function castElem(x: Elem, to: number): Elem {
  if (is64(to)) {
    if (typeof x === 'bigint') return to === DType.INT64 ? BigInt.asIntN(64, x) : BigInt.asUintN(64, x);
    if (!Number.isFinite(x)) throw new NotFoldable('cast of a non-finite value to an integer');
    return BigInt(Math.trunc(x));
  }
  const n = Number(x);
  switch (to) {
    case DType.FLOAT: return Math.fround(n);
    case DType.DOUBLE: return n;
    case DType.FLOAT16: return f16Value(float32ToFloat16Bits(Math.fround(n)));
    case DType.BFLOAT16: return bf16Value(float32ToBfloat16Bits(Math.fround(n)));
    case DType.BOOL: return n !== 0 ? 1 : 0;
    case DType.INT32: return Math.trunc(n) | 0;
    case DType.UINT32: return Math.trunc(n) >>> 0;
    case DType.INT16: return (Math.trunc(n) << 16) >> 16;
    case DType.UINT16: return Math.trunc(n) & 0xffff;
    case DType.INT8: return (Math.trunc(n) << 24) >> 24;
    case DType.UINT8: return Math.trunc(n) & 0xff;
    default: throw new NotFoldable(`Cast to ${dtypeName(to)}`);
  }
}

function f16Value(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
function bf16Value(bits: number): number {
  const f = new Float32Array(new Uint32Array([bits << 16]).buffer);
  return f[0]!;
}

// ---- binary arithmetic ---------------------------------------------------------

type BinOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Min' | 'Equal' | 'Less' | 'Greater' | 'LessOrEqual' | 'GreaterOrEqual';
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);

function binElem(op: BinOp, dtype: number, a: Elem, b: Elem): Elem {
  if (COMPARE.has(op)) {
    const r = op === 'Equal' ? a === b : op === 'Less' ? a < b : op === 'Greater' ? a > b : op === 'LessOrEqual' ? a <= b : a >= b;
    return r ? 1 : 0;
  }
  if (op === 'Max') return a > b ? a : b;
  if (op === 'Min') return a < b ? a : b;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    let r: bigint;
    if (op === 'Add') r = a + b;
    else if (op === 'Sub') r = a - b;
    else if (op === 'Mul') r = a * b;
    else {
      if (b === 0n) throw new NotFoldable('integer division by zero');
      r = a / b; // truncates toward zero, as C++
    }
    return dtype === DType.INT64 ? BigInt.asIntN(64, r) : BigInt.asUintN(64, r);
  }
  const x = Number(a), y = Number(b);
  if (dtype === DType.FLOAT || dtype === DType.DOUBLE) {
    const r = op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : x / y;
    return dtype === DType.FLOAT ? Math.fround(r) : r;
  }
  if (dtype === DType.INT32) {
    if (op === 'Add') return (x + y) | 0;
    if (op === 'Sub') return (x - y) | 0;
    if (op === 'Mul') return Math.imul(x, y);
    if (y === 0) throw new NotFoldable('integer division by zero');
    return Math.trunc(x / y) | 0;
  }
  throw new NotFoldable(`${op} on ${dtypeName(dtype)} is not evaluated`);
}

const ARITH_TYPES: ReadonlySet<number> = new Set([DType.FLOAT, DType.DOUBLE, DType.INT32, DType.INT64, DType.UINT64]);

function binary(op: BinOp, xs: CTensor[]): CTensor {
  if (xs.length < 2) throw new NotFoldable(`${op} needs two inputs`);
  let acc = xs[0]!;
  for (const b of xs.slice(1)) {
    if (b.dtype !== acc.dtype) throw new NotFoldable(`${op} of ${dtypeName(acc.dtype)} and ${dtypeName(b.dtype)}`);
    if (!COMPARE.has(op) && op !== 'Max' && op !== 'Min' && !ARITH_TYPES.has(acc.dtype)) throw new NotFoldable(`${op} on ${dtypeName(acc.dtype)} is not evaluated`);
    const out = broadcastDims([acc.dims, b.dims]);
    const ma = broadcastMap(acc.dims, out), mb = broadcastMap(b.dims, out);
    const v: Elem[] = new Array(ma.length);
    for (let k = 0; k < ma.length; k++) v[k] = binElem(op, acc.dtype, acc.v[ma[k]!]!, b.v[mb[k]!]!);
    acc = { dtype: COMPARE.has(op) ? DType.BOOL : acc.dtype, dims: out, v };
  }
  return acc;
}

function unary(op: string, x: CTensor): CTensor {
  const float = x.dtype === DType.FLOAT || x.dtype === DType.DOUBLE;
  const round = (r: number) => (x.dtype === DType.FLOAT ? Math.fround(r) : r);
  let f: (e: Elem) => Elem;
  switch (op) {
    case 'Neg':
      if (typeof x.v[0] === 'bigint') f = (e) => BigInt.asIntN(64, -(e as bigint));
      else if (float || x.dtype === DType.INT32) f = (e) => (x.dtype === DType.INT32 ? -Number(e) | 0 : -Number(e));
      else throw new NotFoldable(`Neg on ${dtypeName(x.dtype)}`);
      break;
    case 'Abs':
      if (typeof x.v[0] === 'bigint') f = (e) => ((e as bigint) < 0n ? BigInt.asIntN(64, -(e as bigint)) : e);
      else f = (e) => Math.abs(Number(e));
      break;
    case 'Sqrt':
      if (!float) throw new NotFoldable(`Sqrt on ${dtypeName(x.dtype)}`);
      f = (e) => round(Math.sqrt(Number(e)));
      break;
    case 'Reciprocal':
      if (!float) throw new NotFoldable(`Reciprocal on ${dtypeName(x.dtype)}`);
      f = (e) => round(1 / Number(e));
      break;
    case 'Floor':
    case 'Ceil':
      if (!float) throw new NotFoldable(`${op} on ${dtypeName(x.dtype)}`);
      f = (e) => (op === 'Floor' ? Math.floor(Number(e)) : Math.ceil(Number(e)));
      break;
    case 'Not':
      if (x.dtype !== DType.BOOL) throw new NotFoldable('Not on a non-bool');
      f = (e) => (e ? 0 : 1);
      break;
    default:
      throw new NotFoldable(`${op} is not evaluated`);
  }
  return { dtype: x.dtype, dims: x.dims, v: x.v.map(f) };
}

// ---- data movement -------------------------------------------------------------

function reshapeDims(input: readonly number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? input[i]! : d));
  const k = out.indexOf(-1);
  if (k >= 0) {
    const known = size(out.filter((_, i) => i !== k));
    if (known === 0) throw new NotFoldable('Reshape with -1 and a zero dim');
    out[k] = size(input) / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || size(out) !== size(input)) {
    throw new NotFoldable(`cannot reshape [${input.join(',')}] to [${target.join(',')}]`);
  }
  return out;
}

/**
 * The elements of x at a strided view: output element c (a multi-index over
 * outDims) reads x.v[offset + sum_a c[a] * step[a]]. Transpose and Slice are both
 * such views (see their callers).
 */
function view(x: CTensor, outDims: number[], offset: number, step: readonly number[]): CTensor {
  const os = strides(outDims);
  const n = size(outDims);
  const v: Elem[] = new Array(n);
  for (let k = 0; k < n; k++) {
    let rem = k, src = offset;
    for (let a = 0; a < outDims.length; a++) {
      const c = Math.floor(rem / os[a]!);
      rem -= c * os[a]!;
      src += c * step[a]!;
    }
    v[k] = x.v[src]!;
  }
  return { dtype: x.dtype, dims: outDims, v };
}

/** Transpose: out[c] = x[c permuted back]: the view with step[a] = stride of x's axis perm[a]. */
function transpose(x: CTensor, perm: number[]): CTensor {
  const is = strides(x.dims);
  return view(x, perm.map((p) => x.dims[p]!), 0, perm.map((p) => is[p]!));
}

function gather(x: CTensor, idx: number[], idxDims: readonly number[], axisAttr: number): CTensor {
  const r = x.dims.length;
  const axis = normAxis(axisAttr, r);
  const outer = size(x.dims.slice(0, axis)), inner = size(x.dims.slice(axis + 1)), len = x.dims[axis]!;
  const v: Elem[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i0 of idx) {
      const i = i0 < 0 ? i0 + len : i0;
      if (i < 0 || i >= len) throw new NotFoldable(`Gather index ${i0} out of range ${len}`);
      for (let j = 0; j < inner; j++) v.push(x.v[(o * len + i) * inner + j]!);
    }
  }
  return { dtype: x.dtype, dims: [...x.dims.slice(0, axis), ...idxDims, ...x.dims.slice(axis + 1)], v };
}

/** Slice on one tensor; starts/ends/axes/steps already read. */
export function sliceRanges(dims: readonly number[], starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): { start: number; step: number; count: number }[] {
  const r = dims.length;
  const ranges = dims.map((d) => ({ start: 0, step: 1, count: d }));
  const ax = axes ?? starts.map((_, i) => i);
  ax.forEach((a0, i) => {
    const a = normAxis(a0, r);
    const d = dims[a]!;
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new NotFoldable('Slice step 0');
    let s = starts[i]!, e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const count = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
    ranges[a] = { start: s, step, count };
  });
  return ranges;
}

/** Slice: out[c] = x[start + c * step] per axis: the view with offset sum start[a]*stride[a], step[a]*stride[a]. */
function slice(x: CTensor, ranges: { start: number; step: number; count: number }[]): CTensor {
  const is = strides(x.dims);
  const offset = ranges.reduce((o, q, a) => o + q.start * is[a]!, 0);
  return view(x, ranges.map((q) => q.count), offset, ranges.map((q, a) => q.step * is[a]!));
}

function concat(xs: CTensor[], axisAttr: number): CTensor {
  const r = xs[0]!.dims.length;
  const axis = normAxis(axisAttr, r);
  for (const x of xs) {
    if (x.dtype !== xs[0]!.dtype || x.dims.length !== r || x.dims.some((d, i) => i !== axis && d !== xs[0]!.dims[i])) throw new NotFoldable('Concat of mismatched tensors');
  }
  const outer = size(xs[0]!.dims.slice(0, axis));
  const v: Elem[] = [];
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const chunk = size(x.dims.slice(axis));
      for (let j = 0; j < chunk; j++) v.push(x.v[o * chunk + j]!);
    }
  }
  const dims = [...xs[0]!.dims];
  dims[axis] = xs.reduce((s, x) => s + x.dims[axis]!, 0);
  return { dtype: xs[0]!.dtype, dims, v };
}

// ---- the op table -----------------------------------------------------------------

/** Inputs as evaluated constants (null for an omitted optional input). */
type Ev = (n: Node, xs: (CTensor | null)[], opset: number) => CTensor[];

const need = (xs: (CTensor | null)[], i: number, what: string): CTensor => {
  const x = xs[i];
  if (!x) throw new NotFoldable(`${what} is missing`);
  return x;
};

const axesOf = (n: Node, xs: (CTensor | null)[], i: number): number[] | undefined => n.attrInts('axes') ?? (xs[i] ? ints(xs[i]!, 'axes') : undefined);

const OPS: Readonly<Record<string, Ev>> = {
  // Constant -> its value
  Constant: (n) => {
    const a = n.attr('value');
    if (a?.type === 'TENSOR') return [fromTensorData(a.value)];
    const f = n.attrFloat('value_float');
    if (f !== undefined) return [{ dtype: DType.FLOAT, dims: [], v: [Math.fround(f)] }];
    const i = n.attr('value_int');
    if (i?.type === 'INT') return [{ dtype: DType.INT64, dims: [], v: [i.value] }];
    const fs = n.attrFloats('value_floats');
    if (fs) return [{ dtype: DType.FLOAT, dims: [fs.length], v: fs.map(Math.fround) }];
    const is = n.attr('value_ints');
    if (is?.type === 'INTS') return [{ dtype: DType.INT64, dims: [is.value.length], v: [...is.value] }];
    throw new NotFoldable('Constant with a sparse or string value');
  },
  Identity: (_n, xs) => [need(xs, 0, 'input')],
  Cast: (n, xs) => {
    const x = need(xs, 0, 'input');
    const to = n.attrInt('to');
    if (to === undefined) throw new NotFoldable('Cast without "to"');
    return [{ dtype: to, dims: x.dims, v: x.v.map((e) => castElem(e, to)) }];
  },
  Reshape: (n, xs, opset) => {
    const x = need(xs, 0, 'data');
    const target = opset < 5 ? (n.attrInts('shape') ?? []) : ints(need(xs, 1, 'shape'), 'shape');
    return [{ ...x, dims: reshapeDims(x.dims, target, n.attrInt('allowzero', 0) === 1) }];
  },
  Flatten: (n, xs) => {
    const x = need(xs, 0, 'input');
    const r = x.dims.length;
    const a0 = n.attrInt('axis', 1);
    const a = a0 < 0 ? a0 + r : a0;
    return [{ ...x, dims: [size(x.dims.slice(0, a)), size(x.dims.slice(a))] }];
  },
  Unsqueeze: (n, xs) => {
    const x = need(xs, 0, 'data');
    const axes = axesOf(n, xs, 1);
    if (!axes) throw new NotFoldable('Unsqueeze without axes');
    const r = x.dims.length + axes.length;
    const norm = axes.map((a) => normAxis(a, r));
    const dims: number[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) dims.push(norm.includes(i) ? 1 : x.dims[j++]!);
    return [{ ...x, dims }];
  },
  Squeeze: (n, xs) => {
    const x = need(xs, 0, 'data');
    const axes = axesOf(n, xs, 1)?.map((a) => normAxis(a, x.dims.length));
    if (axes?.some((a) => x.dims[a] !== 1)) throw new NotFoldable('Squeeze of a dim that is not 1');
    return [{ ...x, dims: x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
  },
  Transpose: (n, xs) => {
    const x = need(xs, 0, 'data');
    return [transpose(x, n.attrInts('perm') ?? [...x.dims.keys()].reverse())];
  },
  Gather: (n, xs) => {
    const idx = need(xs, 1, 'indices');
    return [gather(need(xs, 0, 'data'), ints(idx, 'indices'), idx.dims, n.attrInt('axis', 0))];
  },
  Slice: (n, xs, opset) => {
    const x = need(xs, 0, 'data');
    const r = opset < 10
      ? sliceRanges(x.dims, n.attrInts('starts') ?? [], n.attrInts('ends') ?? [], n.attrInts('axes'), undefined)
      : sliceRanges(x.dims, ints(need(xs, 1, 'starts'), 'starts'), ints(need(xs, 2, 'ends'), 'ends'), xs[3] ? ints(xs[3], 'axes') : undefined, xs[4] ? ints(xs[4], 'steps') : undefined);
    return [slice(x, r)];
  },
  Concat: (n, xs) => {
    const ins = xs.filter(nonNull);
    if (ins.length === 0) throw new NotFoldable('Concat of nothing');
    return [concat(ins, n.attrInt('axis', 0))];
  },
  Expand: (_n, xs) => {
    const x = need(xs, 0, 'input');
    const out = broadcastDims([x.dims, ints(need(xs, 1, 'shape'), 'shape')]);
    const m = broadcastMap(x.dims, out);
    return [{ dtype: x.dtype, dims: out, v: Array.from(m, (k) => x.v[k]!) }];
  },
  ConstantOfShape: (n, xs) => {
    const dims = ints(need(xs, 0, 'shape'), 'shape');
    const a = n.attr('value');
    const val: CTensor = a?.type === 'TENSOR' ? fromTensorData(a.value) : { dtype: DType.FLOAT, dims: [1], v: [0] };
    return [{ dtype: val.dtype, dims, v: new Array<Elem>(size(dims)).fill(val.v[0]!) }];
  },
  Range: (_n, xs) => {
    const s = need(xs, 0, 'start'), l = need(xs, 1, 'limit'), d = need(xs, 2, 'delta');
    if (!(s.dtype === DType.INT64 || s.dtype === DType.INT32)) throw new NotFoldable(`Range on ${dtypeName(s.dtype)}`);
    const a = Number(s.v[0]), b = Number(l.v[0]), c = Number(d.v[0]);
    if (c === 0) throw new NotFoldable('Range with delta 0');
    const count = Math.max(Math.ceil((b - a) / c), 0);
    const v: Elem[] = [];
    for (let i = 0; i < count; i++) v.push(s.dtype === DType.INT64 ? BigInt(a + i * c) : a + i * c);
    return [{ dtype: s.dtype, dims: [count], v }];
  },
  Where: (_n, xs) => {
    const c = need(xs, 0, 'condition'), a = need(xs, 1, 'X'), b = need(xs, 2, 'Y');
    const out = broadcastDims([c.dims, a.dims, b.dims]);
    const mc = broadcastMap(c.dims, out), ma = broadcastMap(a.dims, out), mb = broadcastMap(b.dims, out);
    return [{ dtype: a.dtype, dims: out, v: Array.from(mc, (k, i) => (c.v[k] ? a.v[ma[i]!]! : b.v[mb[i]!]!)) }];
  },
  Add: (_n, xs) => [binary('Add', xs.filter(nonNull))],
  Sub: (_n, xs) => [binary('Sub', xs.filter(nonNull))],
  Mul: (_n, xs) => [binary('Mul', xs.filter(nonNull))],
  Div: (_n, xs) => [binary('Div', xs.filter(nonNull))],
  Max: (_n, xs) => [binary('Max', xs.filter(nonNull))],
  Min: (_n, xs) => [binary('Min', xs.filter(nonNull))],
  Equal: (_n, xs) => [binary('Equal', xs.filter(nonNull))],
  Less: (_n, xs) => [binary('Less', xs.filter(nonNull))],
  Greater: (_n, xs) => [binary('Greater', xs.filter(nonNull))],
  LessOrEqual: (_n, xs) => [binary('LessOrEqual', xs.filter(nonNull))],
  GreaterOrEqual: (_n, xs) => [binary('GreaterOrEqual', xs.filter(nonNull))],
  Neg: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
  Abs: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
  Sqrt: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
  Reciprocal: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
  Floor: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
  Ceil: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
  Not: (n, xs) => [unary(n.op, need(xs, 0, 'X'))],
};

function nonNull<T>(x: T | null): x is T {
  return x !== null;
}

export function canEvaluate(op: string): boolean {
  return op in OPS;
}

/** Evaluate `n` on constant inputs; throws NotFoldable with a reason. */
export function evaluate(n: Node, inputs: (CTensor | null)[], opset: number): CTensor[] {
  const ev = OPS[n.op];
  if (!ev) throw new NotFoldable(`${n.op} is not in the constant-folding list`);
  for (const x of inputs) {
    if (x && isFloatType(x.dtype) && x.dtype !== DType.FLOAT && x.dtype !== DType.DOUBLE && !MOVES.has(n.op)) {
      throw new NotFoldable(`${n.op} on ${dtypeName(x.dtype)} is not evaluated`);
    }
  }
  return ev(n, inputs, opset);
}

/** Ops that only move elements: safe on every numeric and bool dtype (float16/bfloat16 included). */
const MOVES: ReadonlySet<string> = new Set(['Constant', 'Identity', 'Reshape', 'Flatten', 'Unsqueeze', 'Squeeze', 'Transpose', 'Gather', 'Slice', 'Concat', 'Expand', 'Cast', 'ConstantOfShape', 'Where']);
