/**
 * Shape and dtype inference for the ops SphereFace2 backbones and heads use.
 * Dims are numbers, symbols ("N") or null (unknown). Rules are a table keyed by
 * op; an op without a rule leaves its outputs unknown (and the caller decides
 * whether that matters). Existing annotations are overwritten only by better
 * (more specific) results.
 *
 * Conv/Pool output size per spatial axis:
 *   out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1
 * Broadcast (numpy rules): align from the right; 1 stretches; equal symbols stay.
 */
import { isSame, sameOutput } from './conv-geometry.js';
import { InputError, Sf2Error } from '../errors.js';
import { DType } from './dtype.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import type { Dim, Value } from './value.js';

export interface TypeShape {
  dtype: number | undefined;
  shape: Dim[] | undefined;
}

type Rule = (n: Node, ins: TypeShape[]) => TypeShape[] | undefined;

const same: Rule = (_n, ins) => [{ ...ins[0]! }];

function broadcast(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s![s!.length - rank + i];
      if (x === undefined || x === 1) continue;
      if (d === 1) d = x;
      else if (d !== x) d = typeof d === 'number' && typeof x === 'number' ? null : typeof d === 'number' ? d : typeof x === 'number' ? x : null;
    }
    out.push(d);
  }
  return out;
}

const elementwise: Rule = (_n, ins) => [{ dtype: ins[0]!.dtype ?? ins[1]?.dtype, shape: broadcast(ins.map((i) => i.shape)) }];
const compare: Rule = (_n, ins) => [{ dtype: DType.BOOL, shape: broadcast(ins.map((i) => i.shape)) }];

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function constInts(v: Value | null): number[] | undefined {
  return v?.const ? v.const.numbers() : undefined;
}

function reduceAxes(n: Node, rank: number): number[] | undefined {
  let axes = n.attrInts('axes');
  if (!axes && n.inputs[1]) axes = constInts(n.inputs[1]);
  if (!axes && n.inputs[1]) return undefined; // axes given at run time
  if (!axes || axes.length === 0) {
    if (n.attrInt('noop_with_empty_axes', 0) === 1) return [];
    return [...Array(rank).keys()];
  }
  return axes.map((a) => normAxis(a, rank));
}

const reduce: Rule = (n, ins) => {
  const s = ins[0]!.shape;
  if (!s) return [{ dtype: ins[0]!.dtype, shape: undefined }];
  const axes = reduceAxes(n, s.length);
  if (!axes) return [{ dtype: ins[0]!.dtype, shape: undefined }];
  const keep = n.attrInt('keepdims', 1) === 1;
  const shape: Dim[] = [];
  s.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keep) shape.push(1);
    } else shape.push(d);
  });
  return [{ dtype: ins[0]!.dtype, shape }];
};

function spatialOut(inp: Dim, k: number, stride: number, dil: number, pb: number, pe: number, autoPad: string, ceil = false): Dim {
  if (typeof inp !== 'number') return null;
  if (isSame(autoPad)) return sameOutput(inp, stride);
  const eff = dil * (k - 1) + 1;
  if (autoPad === 'VALID') return Math.floor((inp - eff) / stride) + 1;
  const q = (inp + pb + pe - eff) / stride;
  return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
}

const convLike = (kernel: (n: Node, ins: TypeShape[]) => number[] | undefined, channels: (n: Node, ins: TypeShape[]) => Dim): Rule => (n, ins) => {
  const x = ins[0]!.shape;
  const k = kernel(n, ins);
  if (!x || !k) return [{ dtype: ins[0]!.dtype, shape: undefined }];
  const r = k.length;
  const strides = n.attrInts('strides', Array(r).fill(1));
  const dil = n.attrInts('dilations', Array(r).fill(1));
  const pads = n.attrInts('pads', Array(2 * r).fill(0));
  const autoPad = n.attrString('auto_pad', 'NOTSET');
  const ceil = n.attrInt('ceil_mode', 0) === 1;
  const spatial = k.map((kk, i) => spatialOut(x[2 + i]!, kk, strides[i]!, dil[i]!, pads[i]!, pads[i + r]!, autoPad, ceil));
  return [{ dtype: ins[0]!.dtype, shape: [x[0]!, channels(n, ins), ...spatial] }];
};

const RULES: Readonly<Record<string, Rule>> = {
  Identity: same, Relu: same, Sigmoid: same, Tanh: same, Exp: same, Log: same, Neg: same, Abs: same, Sqrt: same,
  Reciprocal: same, Erf: same, Floor: same, Ceil: same, Round: same, Softplus: same, Selu: same, Elu: same,
  LeakyRelu: same, HardSigmoid: same, HardSwish: same, Clip: same, Softmax: same, LogSoftmax: same,
  LpNormalization: same, BatchNormalization: (_n, ins) => [{ ...ins[0]! }, ...ins.slice(1, 5).map((i) => ({ ...i }))],
  InstanceNormalization: same, LayerNormalization: same,
  Dropout: (_n, ins) => [{ ...ins[0]! }, { dtype: DType.BOOL, shape: ins[0]!.shape }],
  PRelu: elementwise, Add: elementwise, Sub: elementwise, Mul: elementwise, Div: elementwise, Pow: (_n, ins) => [{ dtype: ins[0]!.dtype, shape: broadcast([ins[0]!.shape, ins[1]!.shape]) }],
  Max: elementwise, Min: elementwise, Sum: elementwise, Mean: elementwise,
  Where: (_n, ins) => [{ dtype: ins[1]!.dtype, shape: broadcast(ins.map((i) => i.shape)) }],
  Equal: compare, Greater: compare, Less: compare, GreaterOrEqual: compare, LessOrEqual: compare, Not: (_n, ins) => [{ ...ins[0]! }],
  Cast: (n, ins) => [{ dtype: n.attrInt('to'), shape: ins[0]!.shape }],
  CastLike: (_n, ins) => [{ dtype: ins[1]!.dtype, shape: ins[0]!.shape }],
  ReduceL2: reduce, ReduceL1: reduce, ReduceSum: reduce, ReduceSumSquare: reduce, ReduceMean: reduce, ReduceMax: reduce, ReduceMin: reduce, ReduceProd: reduce, ReduceLogSumExp: reduce,
  Conv: convLike(
    (n, ins) => n.attrInts('kernel_shape') ?? (ins[1]!.shape?.slice(2).every((d) => typeof d === 'number') ? (ins[1]!.shape!.slice(2) as number[]) : undefined),
    (_n, ins) => ins[1]!.shape?.[0] ?? null,
  ),
  MaxPool: convLike((n) => n.attrInts('kernel_shape'), (_n, ins) => ins[0]!.shape?.[1] ?? null),
  AveragePool: convLike((n) => n.attrInts('kernel_shape'), (_n, ins) => ins[0]!.shape?.[1] ?? null),
  GlobalAveragePool: (_n, ins) => [{ dtype: ins[0]!.dtype, shape: ins[0]!.shape ? [...ins[0]!.shape.slice(0, 2), ...ins[0]!.shape.slice(2).map(() => 1)] : undefined }],
  GlobalMaxPool: (_n, ins) => [{ dtype: ins[0]!.dtype, shape: ins[0]!.shape ? [...ins[0]!.shape.slice(0, 2), ...ins[0]!.shape.slice(2).map(() => 1)] : undefined }],
  Flatten: (n, ins) => {
    const s = ins[0]!.shape;
    if (!s) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const axis = normAxis(n.attrInt('axis', 1), s.length);
    return [{ dtype: ins[0]!.dtype, shape: [product(s.slice(0, axis)), product(s.slice(axis))] }];
  },
  Gemm: (n, ins) => {
    const a = ins[0]!.shape, b = ins[1]!.shape;
    if (!a || !b || a.length !== 2 || b.length !== 2) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const m = n.attrInt('transA', 0) ? a[1]! : a[0]!;
    const nn = n.attrInt('transB', 0) ? b[0]! : b[1]!;
    return [{ dtype: ins[0]!.dtype, shape: [m, nn] }];
  },
  MatMul: (_n, ins) => {
    const a = ins[0]!.shape, b = ins[1]!.shape;
    if (!a || !b) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const a2 = a.length === 1 ? [1, a[0]!] : a;
    const b2 = b.length === 1 ? [b[0]!, 1] : b;
    const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]) ?? [];
    const shape: Dim[] = [...batch];
    if (a.length > 1) shape.push(a2[a2.length - 2]!);
    if (b.length > 1) shape.push(b2[b2.length - 1]!);
    return [{ dtype: ins[0]!.dtype, shape }];
  },
  Reshape: (n, ins) => {
    const target = constInts(n.inputs[1] ?? null);
    const s = ins[0]!.shape;
    if (!target) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const allowZero = n.attrInt('allowzero', 0) === 1;
    const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (s?.[i] ?? null) : d === -1 ? null : d));
    const k = target.indexOf(-1);
    if (k >= 0 && s) {
      const total = product(s);
      const known = product(out.filter((_, i) => i !== k));
      if (typeof total === 'number' && typeof known === 'number' && known > 0) out[k] = total / known;
      else out[k] = symbolicQuotient(s, out.filter((_, i) => i !== k));
    }
    return [{ dtype: ins[0]!.dtype, shape: out }];
  },
  Transpose: (n, ins) => {
    const s = ins[0]!.shape;
    if (!s) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const perm = n.attrInts('perm', [...s.keys()].reverse());
    return [{ dtype: ins[0]!.dtype, shape: perm.map((p) => s[p]!) }];
  },
  Shape: (n, ins) => {
    const s = ins[0]!.shape;
    const r = s?.length;
    if (r === undefined) return [{ dtype: DType.INT64, shape: [null] }];
    const start = normAxis(n.attrInt('start', 0), r), end = normAxis(n.attrInt('end', r), r);
    return [{ dtype: DType.INT64, shape: [Math.max(0, Math.min(r, end) - Math.max(0, start))] }];
  },
  Unsqueeze: (n, ins) => {
    const s = ins[0]!.shape;
    const axes = n.attrInts('axes') ?? constInts(n.inputs[1] ?? null);
    if (!s || !axes) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const r = s.length + axes.length;
    const norm = axes.map((a) => normAxis(a, r));
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : s[j++]!);
    return [{ dtype: ins[0]!.dtype, shape: out }];
  },
  Squeeze: (n, ins) => {
    const s = ins[0]!.shape;
    if (!s) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const axes = (n.attrInts('axes') ?? constInts(n.inputs[1] ?? null))?.map((a) => normAxis(a, s.length));
    return [{ dtype: ins[0]!.dtype, shape: s.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
  },
  Concat: (n, ins) => {
    if (ins.some((i) => !i.shape)) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const r = ins[0]!.shape!.length;
    const axis = normAxis(n.attrInt('axis', 0), r);
    const out = [...ins[0]!.shape!];
    out[axis] = ins.slice(1).reduce<Dim>((a, i) => { const b = i.shape![axis]!; return typeof a === "number" && typeof b === "number" ? a + b : null; }, ins[0]!.shape![axis]!);
    return [{ dtype: ins[0]!.dtype, shape: out }];
  },
  Gather: (n, ins) => {
    const s = ins[0]!.shape, idx = ins[1]!.shape;
    if (!s || !idx) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const axis = normAxis(n.attrInt('axis', 0), s.length);
    return [{ dtype: ins[0]!.dtype, shape: [...s.slice(0, axis), ...idx, ...s.slice(axis + 1)] }];
  },
  Expand: (n, ins) => {
    const target = constInts(n.inputs[1] ?? null);
    if (!target) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    return [{ dtype: ins[0]!.dtype, shape: broadcast([ins[0]!.shape, target]) }];
  },
  Constant: (n) => {
    const a = n.attr('value');
    if (a?.type === 'TENSOR') return [{ dtype: a.value.dtype, shape: [...a.value.dims] }];
    if (n.attr('value_float')) return [{ dtype: DType.FLOAT, shape: [] }];
    if (n.attr('value_int')) return [{ dtype: DType.INT64, shape: [] }];
    if (n.attr('value_floats')) return [{ dtype: DType.FLOAT, shape: [n.attrFloats('value_floats')!.length] }];
    if (n.attr('value_ints')) return [{ dtype: DType.INT64, shape: [n.attrInts('value_ints')!.length] }];
    return undefined;
  },
  DequantizeLinear: (_n, ins) => [{ dtype: ins[1]!.dtype ?? DType.FLOAT, shape: ins[0]!.shape }],
  QuantizeLinear: (_n, ins) => [{ dtype: ins[2]?.dtype ?? DType.UINT8, shape: ins[0]!.shape }],
  Pad: (n, ins) => {
    const s = ins[0]!.shape;
    const pads = n.attrInts('pads') ?? constInts(n.inputs[1] ?? null);
    if (!s || !pads || pads.length !== 2 * s.length) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    return [{ dtype: ins[0]!.dtype, shape: s.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + s.length]! : d)) }];
  },
  // Slice (opset 1 attributes or opset 10+ constant inputs), with ONNX's clamping; a
  // symbolic dim stays itself when sliced whole (start 0, step 1, end >= INT32_MAX).
  Slice: (n, ins) => {
    const s = ins[0]!.shape;
    const fromIn = (i: number) => (n.inputs[i] ? constInts(n.inputs[i] ?? null) : null);
    const starts = n.inputs.length > 1 ? fromIn(1) : n.attrInts('starts');
    const ends = n.inputs.length > 1 ? fromIn(2) : n.attrInts('ends');
    const axes = (n.inputs.length > 1 ? fromIn(3) : n.attrInts('axes')) ?? starts?.map((_, i) => i);
    const steps = (n.inputs.length > 1 ? fromIn(4) : null) ?? starts?.map(() => 1);
    if (!s || !starts || !ends || !axes || !steps || (n.inputs[3] && !fromIn(3)) || (n.inputs[4] && !fromIn(4))) return [{ dtype: ins[0]!.dtype, shape: undefined }];
    const out: Dim[] = [...s];
    for (let k = 0; k < starts.length; k++) {
      const a = normAxis(axes[k]!, s.length);
      const d = s[a];
      const step = steps[k]!;
      if (typeof d !== 'number') {
        out[a] = starts[k] === 0 && step === 1 && ends[k]! >= 2147483647 ? d! : null;
        continue;
      }
      let b = starts[k]!, e = ends[k]!;
      if (b < 0) b += d;
      if (e < 0) e += d;
      if (step > 0) { b = Math.min(Math.max(b, 0), d); e = Math.min(Math.max(e, 0), d); } else { b = Math.min(Math.max(b, 0), d - 1); e = Math.min(Math.max(e, -1), d - 1); }
      out[a] = step === 0 ? null : Math.max(0, Math.ceil((e - b) / step));
    }
    return [{ dtype: ins[0]!.dtype, shape: out }];
  },
  // Resize / Upsample: sizes when given, else floor(d * scale); a symbolic dim with scale 1 stays.
  Resize: (n, ins) => resizeShape(n, ins),
  Upsample: (n, ins) => resizeShape(n, ins),
  OneHot: () => undefined,
};

function resizeShape(n: Node, ins: TypeShape[]): TypeShape[] {
  const s = ins[0]!.shape;
  const none = [{ dtype: ins[0]!.dtype, shape: undefined }];
  if (!s) return none;
  const sizes = n.op === 'Resize' && n.inputs[3] ? constInts(n.inputs[3] ?? null) : undefined;
  if (sizes && sizes.length === s.length) return [{ dtype: ins[0]!.dtype, shape: s.map((d, i) => (typeof d === 'number' ? sizes[i]! : null)) }];
  let scales: number[] | undefined = n.attrFloats('scales');
  if (!scales) {
    const v = n.inputs[n.op === 'Upsample' || n.inputs.length === 2 ? 1 : 2];
    scales = v?.const && v.const.size > 0 ? v.const.numbers() : undefined;
  }
  if (!scales || scales.length !== s.length) return none;
  return [{ dtype: ins[0]!.dtype, shape: s.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales![i]!) : scales![i] === 1 ? d : null)) }];
}

/**
 * The -1 of a Reshape when symbols are involved: prod(input) / prod(other target dims),
 * cancelling symbols that appear on both sides. [N, a, b] -> [-1, a*b] gives N;
 * [N, a, b] -> [N, -1] (via 0) gives a*b; anything that does not cancel is unknown.
 */
function symbolicQuotient(input: Dim[], rest: Dim[]): Dim {
  if (input.some((d) => d === null) || rest.some((d) => d === null)) return null;
  const num = (ds: Dim[]) => ds.filter((d): d is number => typeof d === 'number').reduce((x, y) => x * y, 1);
  const syms = input.filter((d): d is string => typeof d === 'string');
  for (const r of rest) {
    if (typeof r !== 'string') continue;
    const i = syms.indexOf(r);
    if (i < 0) return null;
    syms.splice(i, 1);
  }
  const a = num(input), b = num(rest);
  if (b <= 0 || a % b !== 0) return null;
  const q = a / b;
  if (syms.length === 0) return q;
  return syms.length === 1 && q === 1 ? syms[0]! : null;
}

/** Product of dims: a number; a lone symbol times 1 stays that symbol; otherwise unknown. */
function product(ds: Dim[]): Dim {
  let p = 1;
  const symbols: Dim[] = [];
  for (const d of ds) {
    if (typeof d === 'number') p *= d;
    else symbols.push(d);
  }
  if (symbols.length === 0) return p;
  return symbols.length === 1 && typeof symbols[0] === 'string' && p === 1 ? symbols[0] : null;
}

export function hasShapeRule(op: string): boolean {
  return op in RULES;
}

/**
 * Fill in dtype and shape of every node output the rules can compute. Returns
 * the nodes whose outputs stayed unknown (no rule, or unknown inputs).
 */
export function inferShapes(g: Graph): Node[] {
  g.toposort();
  const unknown: Node[] = [];
  for (const n of g.nodes) {
    const rule = n.domain === '' || n.domain === 'ai.onnx' ? RULES[n.op] : undefined;
    const ins = n.inputs.map((v): TypeShape => ({ dtype: v?.dtype, shape: v?.shape }));
    let res: TypeShape[] | undefined;
    try {
      res = rule?.(n, ins);
    } catch (e) {
      // A rule reading a required input the node lacks (Conv without W, Gemm with
      // one input) or a nonsensical attribute: a malformed model, exit 3.
      if (e instanceof Sf2Error) throw e;
      throw new InputError('shape', `node ${n.name || '(unnamed)'} (${n.op}, ${n.inputs.length} input${n.inputs.length === 1 ? '' : 's'}): cannot infer its output shape (${String((e as Error)?.message ?? e).split('\n')[0]})`, 'the model is malformed (a required input missing?); export it again');
    }
    if (!res) {
      unknown.push(n);
      continue;
    }
    n.outputs.forEach((v, i) => {
      const r = res[i];
      if (!r) return;
      if (r.dtype !== undefined) v.dtype = r.dtype;
      if (r.shape && (!v.shape || specificity(r.shape) >= specificity(v.shape))) v.shape = r.shape;
    });
    if (n.outputs.some((v) => !v.shape)) unknown.push(n);
  }
  return unknown;
}

function specificity(s: Dim[]): number {
  return s.reduce<number>((a, d) => a + (typeof d === 'number' ? 2 : typeof d === 'string' ? 1 : 0), 0);
}
