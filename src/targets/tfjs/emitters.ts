/**
 * Emitters: one ONNX node (plus the activation it absorbs) -> TF nodes. Each
 * has a `check` that returns every reason the node cannot be converted; the op
 * table in op-map.ts ties ONNX op names to these pairs.
 *
 * Fusions (tfjs has fused kernels for them on every backend):
 *   Conv [+ bias] [-> Relu | LeakyRelu | PRelu(per-channel)]  -> _FusedConv2D / FusedDepthwiseConv2dNative
 *   Gemm | MatMul [+ Add(bias)] [-> Relu | LeakyRelu | PRelu] -> _FusedMatMul
 * An activation is absorbed only when it is the convolution's single consumer
 * and the value is not a graph output.
 *
 * BatchNormalization left by the optimizer (not foldable exactly) becomes
 *   y = x * s + t,  s = gamma / sqrt(var + eps),  t = beta - mean * s   (float64, then float32)
 * as Mul + AddV2 with per-channel constants in the activation's layout.
 */
import { isSame, samePads } from '../../ir/conv-geometry.js';
import { bnAffine } from '../../analysis/batchnorm.js';
import { DType } from '../../ir/dtype.js';
import type { Node } from '../../ir/node.js';
import type { Dim, Value } from '../../ir/value.js';
import type { Converter } from './convert.js';
import { NHWC, PLAIN, isIntType, type Layout, type TfTensor } from './layout.js';
import { tfAttr, type TfAttr } from './graphdef.js';
import { isIdentity } from '../webgpu/ops/gather.js';
import { padIndex, spec as padSpec } from '../webgpu/ops/pad.js';
import { resizeAxis, spec as resizeSpec } from '../webgpu/ops/resize.js';
import { sliceTables, spec as sliceSpec, type SliceSpec } from '../webgpu/ops/slice.js';
import { NCHW_TO_NHWC_AXIS, constForLayout, denseKernel, depthwiseToHwcm, flatPermutation, oihwToHwio, permuteRows } from './layout-math.js';

export type Check = (n: Node) => string[];
export type Emit = (n: Node, cx: Converter) => void;

const T_FLOAT = { T: tfAttr.type('DT_FLOAT') } as const;
/** Largest finite float32: padding value for max pooling (acts as -inf). */
const FLOAT32_MAX = 3.4028234663852886e38;

// ---- shared checks ----------------------------------------------------------------

function isFloatValue(v: Value | null): boolean {
  return !!v && (v.dtype === undefined || v.dtype === DType.FLOAT);
}

function needConst(n: Node, i: number, what: string): string[] {
  const v = n.inputs[i];
  return v && !v.const ? [`${what} (input ${i}, ${v.name}) must be a constant`] : [];
}

function staticDims(v: Value | null | undefined, from = 1): v is Value & { shape: number[] } {
  return !!v?.shape && v.shape.slice(from).every((d) => typeof d === 'number');
}

function constInts(v: Value | null | undefined): number[] | undefined {
  return v?.const ? v.const.numbers() : undefined;
}

function outputsUnused(n: Node, from: number): string[] {
  return n.outputs.slice(from).some((o) => o.uses.length > 0 || o.isGraphOutput) ? [`output ${from} and later outputs are not supported`] : [];
}

// ---- padding ----------------------------------------------------------------------

interface Pads {
  readonly begin: readonly number[];
  readonly end: readonly number[];
}

/** ONNX pads (or auto_pad) of a 2-D conv/pool as begin/end per spatial axis. */
function spatialPads(n: Node, input: Value, k: readonly number[], strides: readonly number[], dil: readonly number[]): Pads | string {
  const autoPad = n.attrString('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return { begin: [0, 0], end: [0, 0] };
  if (isSame(autoPad)) {
    const s = input.shape;
    if (!staticDims(input, 2)) return `auto_pad ${autoPad} needs a known input height and width`;
    const begin: number[] = [], end: number[] = [];
    for (let a = 0; a < 2; a++) {
      const [lo, hi] = samePads(s![2 + a] as number, k[a]!, strides[a]!, dil[a]!, autoPad);
      begin.push(lo);
      end.push(hi);
    }
    return { begin, end };
  }
  if (autoPad !== 'NOTSET') return `auto_pad ${autoPad} is not supported`;
  const p = n.attrInts('pads', [0, 0, 0, 0]);
  return { begin: [p[0]!, p[1]!], end: [p[2]!, p[3]!] };
}

/** The attributes every NHWC Conv2D / DepthwiseConv2dNative (fused or not) carries. */
function conv2dAttrs(strides: readonly number[], dil: readonly number[], pads: Pads): Record<string, TfAttr> {
  return {
    ...T_FLOAT,
    strides: tfAttr.ints([1, strides[0]!, strides[1]!, 1]),
    dilations: tfAttr.ints([1, dil[0]!, dil[1]!, 1]),
    data_format: tfAttr.str('NHWC'),
    ...padAttrs(pads),
  };
}

function padAttrs(p: Pads): Record<string, TfAttr> {
  if ([...p.begin, ...p.end].every((x) => x === 0)) return { padding: tfAttr.str('VALID') };
  return { padding: tfAttr.str('EXPLICIT'), explicit_paddings: tfAttr.ints([0, 0, p.begin[0]!, p.end[0]!, p.begin[1]!, p.end[1]!, 0, 0]) };
}

/** TF 'SAME' pads for a pool window, when the input size is known. */
function tfSamePads(inp: readonly number[], k: readonly number[], s: readonly number[]): Pads {
  const begin: number[] = [], end: number[] = [];
  for (let a = 0; a < 2; a++) {
    const total = Math.max((Math.ceil(inp[a]! / s[a]!) - 1) * s[a]! + k[a]! - inp[a]!, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return { begin, end };
}

// ---- activations absorbed into a fused op -----------------------------------------

interface Activation {
  readonly fusedOps: readonly string[];
  /** Per-channel PReLU slope, length = channels. */
  readonly alpha?: Float32Array;
  readonly leaky?: number;
  readonly node: Node;
  readonly out: Value;
}

/** A constant broadcastable per channel (axis 1 of an NCHW or [N, D] activation), as a [C] vector. */
function perChannel(v: Value | null, channels: number, rank: number): Float32Array | undefined {
  if (!v?.const || v.const.dims.length > rank) return undefined;
  const d = [...Array(rank - v.const.dims.length).fill(1), ...v.const.dims] as number[];
  if (d.some((x, i) => i !== 1 && x !== 1) || (d[1] !== 1 && d[1] !== channels)) return undefined;
  const data = v.const.float32();
  return data.length === channels ? data : new Float32Array(channels).fill(data[0]!);
}

function takeActivation(v: Value, channels: number, rank: number): Activation | undefined {
  const c = v.onlyConsumer;
  if (!c || c.inputs[0] !== v || c.outputs.length !== 1) return undefined;
  if (c.op === 'Relu') return { fusedOps: ['Relu'], node: c, out: c.output(0) };
  if (c.op === 'LeakyRelu') return { fusedOps: ['LeakyRelu'], leaky: c.attrFloat('alpha', 0.01), node: c, out: c.output(0) };
  if (c.op === 'PRelu') {
    const alpha = perChannel(c.inputs[1] ?? null, channels, rank);
    if (alpha) return { fusedOps: ['Prelu'], alpha, node: c, out: c.output(0) };
  }
  return undefined;
}

/** Args and attrs of a fused op with BiasAdd and an optional activation. */
function fusedArgs(cx: Converter, base: string, bias: Float32Array, act: Activation | undefined): { args: string[]; attrs: Record<string, TfAttr> } {
  const args = [cx.b.constF32(`${base}/bias`, [bias.length], bias, 'param')];
  if (act?.alpha) args.push(cx.b.constF32(`${base}/alpha`, [act.alpha.length], act.alpha, 'param'));
  const attrs: Record<string, TfAttr> = { fused_ops: tfAttr.strs(['BiasAdd', ...(act?.fusedOps ?? [])]), num_args: tfAttr.int(args.length) };
  if (act?.leaky !== undefined) attrs.leakyrelu_alpha = tfAttr.float(act.leaky);
  return { args, attrs };
}

// ---- Conv ---------------------------------------------------------------------------

export const checkConv: Check = (n) => {
  const r: string[] = [...needConst(n, 1, 'weight'), ...needConst(n, 2, 'bias')];
  const x = n.inputs[0], w = n.inputs[1];
  if (w?.const && w.const.dims.length !== 4) r.push(`only 2-D convolutions are supported (weight has rank ${w.const.dims.length})`);
  if (!staticDims(x)) r.push('input channels, height and width must be known');
  const g = n.attrInt('group', 1);
  const cin = x?.shape?.[1];
  if (g !== 1 && typeof cin === 'number' && (cin % g !== 0 || (w?.const && (w.const.dims[0]! % g !== 0 || w.const.dims[1]! * g !== cin)))) r.push(`group ${g} does not divide the ${cin} input channels and the weight [${w?.const?.dims.join(', ')}]`);
  const strides = n.attrInts('strides', [1, 1]), dil = n.attrInts('dilations', [1, 1]);
  if (strides.some((s) => s > 1) && dil.some((d) => d > 1)) r.push('tfjs cannot combine strides > 1 with dilations > 1');
  if (w?.const && x) {
    const p = spatialPads(n, x, w.const.dims.slice(2), strides, dil);
    if (typeof p === 'string') r.push(p);
  }
  return r;
};

export const emitConv: Emit = (n, cx) => {
  const x = n.inputs[0]!, wv = n.inputs[1]!, bv = n.inputs[2] ?? null;
  const [o, ig, kh, kw] = wv.const!.dims as [number, number, number, number];
  const cin = x.shape![1] as number;
  const g = n.attrInt('group', 1);
  // group = input channels (one input channel per group, any multiplier) is exactly a depthwise convolution.
  const depthwise = g !== 1 && g === cin && ig === 1;
  if (g !== 1 && !depthwise) return emitGroupedConv(n, cx);
  const strides = n.attrInts('strides', [1, 1]), dil = n.attrInts('dilations', [1, 1]);
  const pads = spatialPads(n, x, [kh, kw], strides, dil) as Pads;
  const w = wv.const!.float32();
  const kernel = depthwise
    ? cx.b.constF32(`${wv.name}/hwcm`, [kh, kw, cin, o / cin], depthwiseToHwcm(w, cin, o / cin, kh, kw), 'kernel', 2)
    : cx.b.constF32(`${wv.name}/hwio`, [kh, kw, ig, o], oihwToHwio(w, o, ig, kh, kw), 'kernel', 1);
  const act = takeActivation(n.output(0), o, 4);
  const attrs = conv2dAttrs(strides, dil, pads);
  const out = act ? act.out : n.output(0);
  let ref: string;
  if (bv || act) {
    const bias = bv ? cx.constData(bv) : new Float32Array(o);
    const f = fusedArgs(cx, n.name, bias, act);
    ref = cx.b.op(n.name, depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', [cx.nhwc(x), kernel, ...f.args], { ...attrs, ...f.attrs });
  } else {
    ref = cx.b.op(n.name, depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', [cx.nhwc(x), kernel], attrs);
  }
  if (act) cx.fused.add(act.node);
  cx.set(out, ref, NHWC);
};

/**
 * Grouped convolution (1 < group, not depthwise): the NHWC input is split on
 * channels into `group` equal parts (Split), part j is convolved with output
 * channels [j*og, (j+1)*og) of the weight (each a _FusedConv2D with its bias
 * and activation slice), and the parts are joined again (ConcatV2 on channels).
 * This is the definition of a grouped convolution, so it is exact.
 */
function emitGroupedConv(n: Node, cx: Converter): void {
  const x = n.inputs[0]!, wv = n.inputs[1]!, bv = n.inputs[2] ?? null;
  const [o, ig, kh, kw] = wv.const!.dims as [number, number, number, number];
  const g = n.attrInt('group', 1);
  const og = o / g;
  const strides = n.attrInts('strides', [1, 1]), dil = n.attrInts('dilations', [1, 1]);
  const pads = spatialPads(n, x, [kh, kw], strides, dil) as Pads;
  const w = wv.const!.float32();
  const act = takeActivation(n.output(0), o, 4);
  const bias = bv ? cx.constData(bv) : new Float32Array(o);
  const split = cx.b.op(`${n.name}/split`, 'Split', [cx.b.constI32(`${n.name}/split_axis`, [], [3]), cx.nhwc(x)], { ...T_FLOAT, num_split: tfAttr.int(g) });
  const attrs = conv2dAttrs(strides, dil, pads);
  const parts: string[] = [];
  const per = og * ig * kh * kw;
  for (let j = 0; j < g; j++) {
    const kernel = cx.b.constF32(`${wv.name}/g${j}/hwio`, [kh, kw, ig, og], oihwToHwio(w.subarray(j * per, (j + 1) * per), og, ig, kh, kw), 'kernel', 1);
    const actJ = act?.alpha ? { ...act, alpha: act.alpha.subarray(j * og, (j + 1) * og) } : act;
    const f = fusedArgs(cx, `${n.name}/g${j}`, bias.subarray(j * og, (j + 1) * og), actJ);
    parts.push(cx.b.op(`${n.name}/g${j}`, '_FusedConv2D', [j === 0 ? split : `${split}:${j}`, kernel, ...f.args], { ...attrs, ...f.attrs }));
  }
  const ref = cx.b.op(n.name, 'ConcatV2', [...parts, cx.b.constI32(`${n.name}/concat_axis`, [], [3])], { ...T_FLOAT, N: tfAttr.int(g) });
  if (act) cx.fused.add(act.node);
  cx.set(act ? act.out : n.output(0), ref, NHWC);
}

// ---- Gemm / MatMul --------------------------------------------------------------------

export const checkGemm: Check = (n) => {
  const r = [...needConst(n, 2, 'bias C')];
  const a = n.inputs[0], b = n.inputs[1];
  if (a?.shape && a.shape.length !== 2) r.push(`input A has rank ${a.shape.length}, Gemm needs 2`);
  if (b?.const && b.const.dims.length !== 2) r.push(`input B has rank ${b.const.dims.length}, Gemm needs 2`);
  return r;
};

/** A bias for a [M, N] output as a length-N vector, if the constant broadcasts that way. */
function biasVector(v: Value | null, nOut: number, scale = 1): Float32Array | undefined {
  if (!v?.const || v.const.dims.length > 2) return undefined;
  const d = [...Array(2 - v.const.dims.length).fill(1), ...v.const.dims] as [number, number];
  if (d[0] !== 1 || (d[1] !== 1 && d[1] !== nOut)) return undefined;
  const data = v.const.float32();
  const out = new Float32Array(nOut);
  for (let i = 0; i < nOut; i++) out[i] = data[data.length === 1 ? 0 : i]! * scale;
  return out;
}

/** Emit a dense layer with a constant [K, N] kernel, absorbing bias and activation where possible. */
function emitDense(cx: Converter, n: Node, a: Value, kernel: { k: number; n: number; data: Float32Array }, transA: boolean, bias: Float32Array | undefined, out: Value): void {
  const t = cx.tensor(a);
  let aRef: string;
  let data = kernel.data;
  if (t.layout.kind === 'flat' && !transA) {
    aRef = t.ref;
    data = permuteRows(kernel.data, kernel.n, flatPermutation(t.layout.c, t.layout.h, t.layout.w));
  } else aRef = cx.plain(a);
  const kRef = cx.b.constF32(`${n.name}/kernel`, [kernel.k, kernel.n], data, 'kernel', 1);
  const act = takeActivation(out, kernel.n, 2);
  const final = act ? act.out : out;
  const attrs = { ...T_FLOAT, transpose_a: tfAttr.bool(transA), transpose_b: tfAttr.bool(false) };
  let ref: string;
  if (bias || act) {
    const f = fusedArgs(cx, n.name, bias ?? new Float32Array(kernel.n), act);
    ref = cx.b.op(n.name, '_FusedMatMul', [aRef, kRef, ...f.args], { ...attrs, ...f.attrs });
  } else ref = cx.b.op(n.name, 'MatMul', [aRef, kRef], attrs);
  if (act) cx.fused.add(act.node);
  cx.set(final, ref, PLAIN);
}

export const emitGemm: Emit = (n, cx) => {
  const [a, b, c] = [n.inputs[0]!, n.inputs[1]!, n.inputs[2] ?? null];
  const alpha = n.attrFloat('alpha', 1), beta = n.attrFloat('beta', 1);
  const transA = n.attrInt('transA', 0) === 1, transB = n.attrInt('transB', 0) === 1;
  if (b.const) {
    const kernel = denseKernel(b.const.float32(), b.const.dims, transB, alpha);
    const bias = c ? biasVector(c, kernel.n, beta) : undefined;
    if (!c || bias) return emitDense(cx, n, a, kernel, transA, bias, n.output(0));
    // A full [M, N] C: dense without bias, then AddV2.
    const tmp = `${n.name}/matmul`;
    const mm = cx.b.op(tmp, 'MatMul', [cx.plain(a), cx.b.constF32(`${n.name}/kernel`, [kernel.k, kernel.n], kernel.data, 'kernel', 1)], { ...T_FLOAT, transpose_a: tfAttr.bool(transA), transpose_b: tfAttr.bool(false) });
    const cData = c.const!.float32().map((x) => x * beta);
    cx.set(n.output(0), cx.b.op(n.name, 'AddV2', [mm, cx.b.constF32(`${n.name}/c`, c.const!.dims, cData, 'param')], T_FLOAT), PLAIN);
    return;
  }
  let ref = cx.b.op(`${n.name}/matmul`, 'MatMul', [cx.plain(a), cx.plain(b)], { ...T_FLOAT, transpose_a: tfAttr.bool(transA), transpose_b: tfAttr.bool(transB) });
  if (alpha !== 1) ref = cx.b.op(`${n.name}/alpha`, 'Mul', [ref, cx.b.constF32(`${n.name}/alpha`, [], Float32Array.of(alpha), 'param')], T_FLOAT);
  if (c) ref = cx.b.op(n.name, 'AddV2', [ref, cx.b.constF32(`${n.name}/c`, c.const!.dims, c.const!.float32().map((x) => x * beta), 'param')], T_FLOAT);
  cx.set(n.output(0), ref, PLAIN);
};

export const checkMatMul: Check = (n) => {
  const a = n.inputs[0], b = n.inputs[1];
  if (!a?.shape || !b?.shape) return ['input shapes must be known'];
  if (a.shape.length < 2 || b.shape.length < 2) return ['1-D MatMul operands are not supported'];
  return [];
};

export const emitMatMul: Emit = (n, cx) => {
  const a = n.inputs[0]!, b = n.inputs[1]!;
  if (b.const && b.const.dims.length === 2 && a.shape!.length === 2) {
    const kernel = denseKernel(b.const.float32(), b.const.dims, false, 1);
    // MatMul -> Add(constant bias) is a Linear layer: absorb the Add.
    const add = n.output(0).onlyConsumer;
    if (add?.op === 'Add') {
      const other = add.inputs[0] === n.output(0) ? add.inputs[1] : add.inputs[0];
      const bias = other ? biasVector(other, kernel.n) : undefined;
      if (bias && other !== n.output(0)) {
        cx.fused.add(add);
        return emitDense(cx, n, a, kernel, false, bias, add.output(0));
      }
    }
    return emitDense(cx, n, a, kernel, false, undefined, n.output(0));
  }
  const op = a.shape!.length === 2 && b.shape!.length === 2 ? 'MatMul' : 'BatchMatMulV2';
  const attrs: Record<string, TfAttr> = op === 'MatMul' ? { transpose_a: tfAttr.bool(false), transpose_b: tfAttr.bool(false) } : { adj_x: tfAttr.bool(false), adj_y: tfAttr.bool(false) };
  cx.set(n.output(0), cx.b.op(n.name, op, [cx.plain(a), cx.plain(b)], { ...T_FLOAT, ...attrs }), PLAIN);
};

// ---- elementwise ------------------------------------------------------------------------

/** An operand: an activation (IR value, or an intermediate TF tensor of known rank) or a constant. */
type Operand =
  | { readonly kind: 'act'; readonly t: TfTensor; readonly rank: number; readonly v?: Value }
  | { readonly kind: 'const'; readonly shape: readonly number[]; readonly data: Float32Array; readonly name: string };

function operand(cx: Converter, v: Value): Operand {
  if (v.const) return { kind: 'const', shape: v.const.dims, data: v.const.float32(), name: v.name };
  return { kind: 'act', t: cx.tensor(v), rank: cx.shape(v).length, v };
}

function plainOf(cx: Converter, o: Operand & { kind: 'act' }): string {
  if (o.t.layout.kind === 'plain') return o.t.ref;
  if (!o.v) throw new Error('tfjs: an intermediate tensor cannot change layout');
  return cx.plain(o.v);
}

function nhwcOf(cx: Converter, o: Operand & { kind: 'act' }): string {
  if (o.t.layout.kind === 'nhwc') return o.t.ref;
  if (!o.v) throw new Error('tfjs: an intermediate tensor cannot change layout');
  return cx.nhwc(o.v);
}

/** y = op(a, b) with numpy broadcasting, in the activation's layout when a constant can follow it. */
function emitBinary(cx: Converter, base: string, tfOp: string, a: Operand, b: Operand): TfTensor {
  let refs: [string, string];
  let layout: Layout;
  if (a.kind === 'act' && b.kind === 'act') {
    const la = a.t.layout, lb = b.t.layout;
    if (la.kind === 'flat' && lb.kind === 'flat' && la.c === lb.c && la.h === lb.h && la.w === lb.w) {
      [refs, layout] = [[a.t.ref, b.t.ref], la];
    } else if (la.kind === 'nhwc' && lb.kind === 'nhwc') {
      [refs, layout] = [[a.t.ref, b.t.ref], NHWC];
    } else if (la.kind === 'plain' && lb.kind === 'plain') {
      [refs, layout] = [[a.t.ref, b.t.ref], PLAIN];
    } else if (a.rank === 4 && b.rank === 4) {
      [refs, layout] = [[nhwcOf(cx, a), nhwcOf(cx, b)], NHWC];
    } else {
      [refs, layout] = [[plainOf(cx, a), plainOf(cx, b)], PLAIN];
    }
  } else if (a.kind === 'act' || b.kind === 'act') {
    const act = (a.kind === 'act' ? a : b) as Operand & { kind: 'act' };
    const k = (a.kind === 'const' ? a : b) as Operand & { kind: 'const' };
    let kk = k.shape.length <= act.rank ? constForLayout(k.shape, k.data, act.t.layout) : undefined;
    let ref = act.t.ref;
    layout = act.t.layout;
    if (!kk) {
      kk = { shape: [...k.shape], data: k.data };
      ref = plainOf(cx, act);
      layout = PLAIN;
    }
    const kref = cx.b.constF32(k.name, kk.shape, kk.data, 'param');
    refs = a.kind === 'act' ? [ref, kref] : [kref, ref];
  } else {
    const ka = a as Operand & { kind: 'const' }, kb = b as Operand & { kind: 'const' };
    refs = [cx.b.constF32(ka.name, ka.shape, ka.data, 'param'), cx.b.constF32(kb.name, kb.shape, kb.data, 'param')];
    layout = PLAIN;
  }
  return { ref: cx.b.op(base, tfOp, refs, T_FLOAT), layout };
}

const BINARY_TF: Readonly<Record<string, string>> = { Add: 'AddV2', Sub: 'Sub', Mul: 'Mul', Div: 'RealDiv', Pow: 'Pow', Max: 'Maximum', Min: 'Minimum' };

export const checkBinary: Check = (n) => {
  const r: string[] = [];
  if (n.inputs.length !== 2) r.push(`${n.inputs.length} inputs; only 2 are supported`);
  for (const v of n.inputs) if (v && !v.const && !isFloatValue(v)) r.push(`input ${v.name} is not float32`);
  return r;
};

export const emitBinaryOp: Emit = (n, cx) => {
  const t = emitBinary(cx, n.name, BINARY_TF[n.op]!, operand(cx, n.inputs[0]!), operand(cx, n.inputs[1]!));
  cx.set(n.output(0), t.ref, t.layout);
};

/**
 * PRelu standalone (not absorbed by a Conv / MatMul). tfjs's wasm Prelu kernel
 * reads alpha as a vector over the LAST axis whatever its shape (it gives wrong
 * numbers for an NCHW-style [C,1,1] alpha that the cpu backend broadcasts), so:
 *   slope of one value          -> LeakyRelu(alpha)                    (exact)
 *   slope per channel           -> Prelu(NHWC x, alpha [C])            (channel last)
 *   slope over the last axis    -> Prelu(x, alpha [D])
 *   anything else               -> Relu(x) + slope * Minimum(x, 0)     (exact: one term is 0)
 */
export const emitPRelu: Emit = (n, cx) => {
  const x = n.inputs[0]!, slope = n.inputs[1]!;
  const out = n.output(0);
  const rank = cx.shape(x).length;
  if (slope.const && !x.const) {
    const data = slope.const.float32();
    if (data.length === 1) {
      const t = cx.tensor(x);
      cx.set(out, cx.b.op(n.name, 'LeakyRelu', [t.ref], { ...T_FLOAT, alpha: tfAttr.float(data[0]!) }), t.layout);
      return;
    }
    const c = cx.shape(x)[1];
    const perC = rank >= 2 && typeof c === 'number' ? perChannel(slope, c, rank) : undefined;
    if (perC && rank === 4) {
      cx.set(out, cx.b.op(n.name, 'Prelu', [cx.nhwc(x), cx.b.constF32(`${n.name}/alpha`, [c as number], perC, 'param')], T_FLOAT), NHWC);
      return;
    }
    const t = cx.tensor(x);
    const last = cx.shape(x)[rank - 1];
    const k = constForLayout(slope.const.dims, data, t.layout);
    if (k && k.data.length === last && (t.layout.kind !== 'nhwc') && slope.const.dims.slice(0, -1).every((d) => d === 1)) {
      cx.set(out, cx.b.op(n.name, 'Prelu', [t.ref, cx.b.constF32(`${n.name}/alpha`, [k.data.length], k.data, 'param')], T_FLOAT), t.layout);
      return;
    }
  }
  const t = cx.tensor(x);
  const neg = emitBinary(cx, `${n.name}/neg`, 'Minimum', { kind: 'act', t, rank, v: x }, { kind: 'const', shape: [], data: Float32Array.of(0), name: `${n.name}/zero` });
  const scaled = emitBinary(cx, `${n.name}/scaled`, 'Mul', { kind: 'act', t: neg, rank }, operand(cx, slope));
  // Relu(x) in the layout the scaled branch ended up in (plain when the slope could not follow x's layout).
  const reluIn = scaled.layout === t.layout ? t.ref : scaled.layout.kind === 'nhwc' ? cx.nhwc(x) : cx.plain(x);
  const relu = cx.b.op(`${n.name}/relu`, 'Relu', [reluIn], T_FLOAT);
  const y = emitBinary(cx, n.name, 'AddV2', { kind: 'act', t: { ref: relu, layout: scaled.layout }, rank }, { kind: 'act', t: scaled, rank });
  cx.set(out, y.ref, y.layout);
};

export const checkBatchNorm: Check = (n) => {
  const r = [1, 2, 3, 4].flatMap((i) => needConst(n, i, ['', 'scale', 'bias', 'mean', 'var'][i]!));
  if (n.attrInt('training_mode', 0) === 1) r.push('training_mode=1 is not an inference BatchNormalization');
  r.push(...outputsUnused(n, 1));
  if (!n.inputs[0]?.shape || n.inputs[0].shape.length < 2) r.push('input rank must be known and >= 2');
  return r;
};

export const emitBatchNorm: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const [g, b, m, v] = [1, 2, 3, 4].map((i) => n.inputs[i]!.const!.float64());
  const eps = n.attrFloat('epsilon', 1e-5);
  const c = g!.length;
  const affine = bnAffine(g!, b!, m!, v!, eps); // float64, then float32
  const s = Float32Array.from(affine.s), t = Float32Array.from(affine.t);
  const rank = cx.shape(x).length;
  const shape = [c, ...Array(rank - 2).fill(1)];
  const scaled = emitBinary(cx, `${n.name}/mul`, 'Mul', operand(cx, x), { kind: 'const', shape, data: s, name: `${n.name}/scale` });
  const y = emitBinary(cx, n.name, 'AddV2', { kind: 'act', t: scaled, rank }, { kind: 'const', shape, data: t, name: `${n.name}/shift` });
  cx.set(n.output(0), y.ref, y.layout);
};

// ---- unary ----------------------------------------------------------------------------

const UNARY_TF: Readonly<Record<string, string>> = {
  Relu: 'Relu', Sigmoid: 'Sigmoid', Tanh: 'Tanh', Exp: 'Exp', Log: 'Log', Neg: 'Neg', Abs: 'Abs', Sqrt: 'Sqrt',
  Reciprocal: 'Reciprocal', Erf: 'Erf', Softplus: 'Softplus', Elu: 'Elu', Floor: 'Floor', Ceil: 'Ceil',
};

export const checkUnary: Check = (n) => {
  const r: string[] = [];
  if (!isFloatValue(n.inputs[0] ?? null)) r.push('input is not float32');
  if (n.op === 'Elu' && n.attrFloat('alpha', 1) !== 1) r.push('Elu with alpha != 1 is not supported');
  return r;
};

export const emitUnary: Emit = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  cx.set(n.output(0), cx.b.op(n.name, UNARY_TF[n.op]!, [t.ref], T_FLOAT), t.layout);
};

export const emitLeakyRelu: Emit = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  cx.set(n.output(0), cx.b.op(n.name, 'LeakyRelu', [t.ref], { ...T_FLOAT, alpha: tfAttr.float(n.attrFloat('alpha', 0.01)) }), t.layout);
};

function clipBounds(n: Node): [number, number] {
  const opset11 = !n.attr('min') && !n.attr('max');
  const lo = opset11 ? n.inputs[1]?.const?.float32()[0] : n.attrFloat('min');
  const hi = opset11 ? n.inputs[2]?.const?.float32()[0] : n.attrFloat('max');
  return [lo ?? -FLOAT32_MAX, hi ?? FLOAT32_MAX];
}

export const checkClip: Check = (n) => [...needConst(n, 1, 'min'), ...needConst(n, 2, 'max')];

export const emitClip: Emit = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  const [lo, hi] = clipBounds(n);
  const ref = cx.b.op(n.name, 'ClipByValue', [t.ref, cx.b.constF32(`${n.name}/min`, [], Float32Array.of(lo), 'param'), cx.b.constF32(`${n.name}/max`, [], Float32Array.of(hi), 'param')], T_FLOAT);
  cx.set(n.output(0), ref, t.layout);
};

export const checkIdentity: Check = (n) => (n.op === 'Dropout' ? outputsUnused(n, 1) : []);

export const emitIdentity: Emit = (n, cx) => cx.alias(n.output(0), n.inputs[0]!);

export const checkCast: Check = (n) => {
  const to = n.attrInt('to', 0);
  return to === DType.FLOAT && isFloatValue(n.inputs[0] ?? null) ? [] : [`Cast to ${to} is not supported (only float32 -> float32)`];
};

// ---- shape ops ------------------------------------------------------------------------

/**
 * TF Reshape target: the inferred output shape when at most one of its dims is
 * unknown (-1), else the ONNX target with 0 ("copy this input dim") resolved.
 */
function resolveReshape(inShape: readonly Dim[], target: readonly number[], allowZero: boolean, outShape: readonly Dim[] | undefined): number[] | undefined {
  if (outShape && outShape.length === target.length && outShape.filter((d) => typeof d !== 'number').length <= 1) return outShape.map((d) => (typeof d === 'number' ? d : -1));
  const copied = (i: number) => target[i] === 0 && !allowZero;
  const out = target.map((d, i) => (copied(i) ? (typeof inShape[i] === 'number' ? (inShape[i] as number) : -1) : d));
  const k = target.indexOf(-1);
  if (k >= 0 && out.filter((d) => d === -1).length > 1) {
    // [N, a, b] -> [0, -1]: the copied symbolic dims cancel; -1 = (other input dims) / (other target dims).
    const restIn = inShape.filter((_, i) => !copied(i));
    const restOut = target.filter((d, i) => !copied(i) && i !== k);
    if (restIn.every((d) => typeof d === 'number')) out[k] = (restIn as number[]).reduce((a, b) => a * b, 1) / restOut.reduce((a, b) => a * b, 1);
  }
  return out.filter((d) => d === -1).length <= 1 ? out : undefined;
}

export const checkReshape: Check = (n) => {
  if (n.op === 'Flatten') {
    const s = n.inputs[0]?.shape;
    if (!s) return ['input shape must be known'];
    const axis = n.attrInt('axis', 1);
    const a = axis < 0 ? axis + s.length : axis;
    if (s.slice(a).some((d) => typeof d !== 'number') || (a > 1 && s.slice(0, a).filter((d) => typeof d !== 'number').length > 1)) return ['flattened dimensions must be known'];
    return [];
  }
  const target = constInts(n.inputs[1]);
  if (!target) return ['the target shape (input 1) must be a constant'];
  if (!n.inputs[0]?.shape || !resolveReshape(n.inputs[0].shape, target, n.attrInt('allowzero', 0) === 1, n.outputs[0]?.shape)) return ['the target shape has more than one unknown dimension'];
  return [];
};

export const emitReshape: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const t = cx.tensor(x);
  const inShape = cx.shape(x);
  const out = n.output(0);
  let target: number[];
  if (n.op === 'Flatten') {
    const axis = n.attrInt('axis', 1);
    const a = axis < 0 ? axis + inShape.length : axis;
    const prod = (ds: readonly Dim[]) => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((p, d) => p * d, 1) : -1);
    target = [prod(inShape.slice(0, a)), prod(inShape.slice(a))];
  } else target = resolveReshape(inShape, constInts(n.inputs[1])!, n.attrInt('allowzero', 0) === 1, out.shape)!;
  // [N, C, H, W] -> [N, C*H*W] of an NHWC value: flatten NHWC as it is and mark the features HWC-ordered.
  const [n0, c, h, w] = inShape;
  if (t.layout.kind === 'nhwc' && typeof c === 'number' && typeof h === 'number' && typeof w === 'number' && target.length === 2 && target[1] === c * h * w && (target[0] === -1 || target[0] === n0)) {
    cx.set(out, cx.b.op(n.name, 'Reshape', [t.ref, cx.b.constI32(`${n.name}/shape`, [2], [-1, c * h * w])], T_FLOAT), { kind: 'flat', c, h, w });
    return;
  }
  cx.set(out, cx.b.op(n.name, 'Reshape', [cx.plain(x), cx.b.constI32(`${n.name}/shape`, [target.length], target)], T_FLOAT), PLAIN);
};

export const checkTranspose: Check = () => [];

export const emitTranspose: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const t = cx.tensor(x);
  const rank = cx.shape(x).length;
  const perm = n.attrInts('perm', [...Array(rank).keys()].reverse());
  // NHWC input: plain = tf.transpose([0,3,1,2]), so out = tf.transpose(p') with p'[i] = [0,3,1,2][perm[i]].
  const [ref, p] = t.layout.kind === 'nhwc' ? [t.ref, perm.map((q) => [0, 3, 1, 2][q]!)] : [cx.plain(x), perm];
  cx.set(n.output(0), cx.b.op(n.name, 'Transpose', [ref, cx.b.constI32(`${n.name}/perm`, [p.length], p)], T_FLOAT), PLAIN);
};

function axesOf(n: Node, inputIndex: number): number[] | undefined {
  return n.attrInts('axes') ?? constInts(n.inputs[inputIndex]);
}

export const checkSqueezeLike: Check = (n) => (n.inputs[1] && !n.inputs[1].const ? ['axes (input 1) must be a constant'] : n.op === 'Unsqueeze' && !axesOf(n, 1) ? ['axes are required'] : []);

export const emitSqueeze: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const rank = cx.shape(x).length;
  const axes = axesOf(n, 1)?.map((a) => (a < 0 ? a + rank : a)) ?? cx.shape(x).flatMap((d, i) => (d === 1 ? [i] : []));
  cx.set(n.output(0), cx.b.op(n.name, 'Squeeze', [cx.plain(x)], { ...T_FLOAT, axis: tfAttr.ints(axes) }), PLAIN);
};

export const emitUnsqueeze: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const outRank = cx.shape(x).length + axesOf(n, 1)!.length;
  const axes = axesOf(n, 1)!.map((a) => (a < 0 ? a + outRank : a)).sort((p, q) => p - q);
  let ref = cx.plain(x);
  for (const a of axes) ref = cx.b.op(`${n.name}/${a}`, 'ExpandDims', [ref, cx.b.constI32(`${n.name}/${a}/axis`, [], [a])], T_FLOAT);
  cx.set(n.output(0), ref, PLAIN);
};

export const checkConcat: Check = (n) => (n.inputs.some((v) => v && !isFloatValue(v)) ? ['only float32 inputs are supported'] : []);

export const emitConcat: Emit = (n, cx) => {
  const rank = cx.shape(n.output(0)).length;
  let axis = n.attrInt('axis', 0);
  if (axis < 0) axis += rank;
  const ins = n.inputs.filter((v): v is Value => !!v);
  const allNhwc = ins.every((v) => !v.const && cx.tensor(v).layout.kind === 'nhwc');
  const refs = allNhwc ? ins.map((v) => cx.tensor(v).ref) : ins.map((v) => cx.plain(v));
  const a = allNhwc ? NCHW_TO_NHWC_AXIS[axis]! : axis;
  const ref = cx.b.op(n.name, 'ConcatV2', [...refs, cx.b.constI32(`${n.name}/axis`, [], [a])], { ...T_FLOAT, N: tfAttr.int(refs.length) });
  cx.set(n.output(0), ref, allNhwc ? NHWC : PLAIN);
};

export const checkConstant: Check = (n) => {
  const a = n.attr('value');
  if (a?.type === 'TENSOR') return a.value.dtype === DType.FLOAT || isIntType(a.value.dtype) ? [] : [`constant of element type ${a.value.dtype} is not supported`];
  return n.attr('value_float') || n.attr('value_floats') || n.attr('value_int') || n.attr('value_ints') ? [] : ['only value / value_float(s) / value_int(s) constants are supported'];
};

export const emitConstant: Emit = (n, cx) => {
  const a = n.attr('value');
  const out = n.output(0);
  let ref: string;
  if (a?.type === 'TENSOR') {
    const t = a.value;
    ref = isIntType(t.dtype) ? cx.b.constI32(out.name, t.dims, t.numbers()) : cx.b.constF32(out.name, t.dims, t.float32(), 'param');
  } else if (n.attr('value_float')) ref = cx.b.constF32(out.name, [], Float32Array.of(n.attrFloat('value_float')!), 'param');
  else if (n.attr('value_floats')) {
    const f = n.attrFloats('value_floats')!;
    ref = cx.b.constF32(out.name, [f.length], Float32Array.from(f), 'param');
  } else if (n.attr('value_int')) ref = cx.b.constI32(out.name, [], [n.attrInt('value_int')!]);
  else {
    const v = n.attrInts('value_ints')!;
    ref = cx.b.constI32(out.name, [v.length], v);
  }
  cx.set(out, ref, PLAIN);
};

export const checkPad: Check = (n) => {
  const r: string[] = [];
  if (n.attrString('mode', 'constant') !== 'constant') r.push(`mode ${n.attrString('mode')} is not supported (constant only)`);
  if (!n.attr('pads')) r.push(...needConst(n, 1, 'pads'), ...needConst(n, 2, 'constant_value'));
  if (n.inputs[3]) r.push('axes (input 3) is not supported');
  if (!n.inputs[0]?.shape) r.push('input rank must be known');
  return r;
};

export const emitPad: Emit = (n, cx) => {
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

// ---- pooling --------------------------------------------------------------------------

export const checkPool: Check = (n) => {
  const r: string[] = [];
  const x = n.inputs[0];
  if (!staticDims(x, 1) || x.shape.length !== 4) return ['input must be 4-D with known channels, height and width'];
  if (n.op.startsWith('Global')) return r;
  const k = n.attrInts('kernel_shape', []);
  if (k.length !== 2) r.push('kernel_shape must be 2-D');
  if (n.attrInts('dilations', [1, 1]).some((d) => d !== 1)) r.push('dilations are not supported');
  if (n.attrInt('storage_order', 0) !== 0) r.push('storage_order=1 is not supported');
  r.push(...outputsUnused(n, 1));
  const strides = n.attrInts('strides', [1, 1]);
  const p = spatialPads(n, x, k, strides, [1, 1]);
  if (typeof p === 'string') return [...r, p];
  if (n.attrInt('ceil_mode', 0) === 1) {
    const floorOut = [0, 1].map((a) => Math.floor((x.shape[2 + a]! + p.begin[a]! + p.end[a]! - k[a]!) / strides[a]!) + 1);
    const ceilOut = [0, 1].map((a) => Math.ceil((x.shape[2 + a]! + p.begin[a]! + p.end[a]! - k[a]!) / strides[a]!) + 1);
    if (floorOut.some((f, a) => f !== ceilOut[a])) r.push('ceil_mode=1 changes the output size here; not supported');
  }
  if (n.op === 'AveragePool' && n.attrInt('count_include_pad', 0) === 0 && [...p.begin, ...p.end].some((q) => q !== 0)) {
    const same = tfSamePads([x.shape[2]!, x.shape[3]!], k, strides);
    if (same.begin.some((q, a) => q !== p.begin[a] || same.end[a] !== p.end[a])) r.push('padding that excludes padded cells (count_include_pad=0) is supported only where it equals TF SAME padding');
  }
  return r;
};

export const emitPool: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const out = n.output(0);
  if (n.op === 'GlobalAveragePool' || n.op === 'GlobalMaxPool') {
    const ref = cx.b.op(n.name, n.op === 'GlobalAveragePool' ? 'Mean' : 'Max', [cx.nhwc(x), cx.b.constI32(`${n.name}/axes`, [2], [1, 2])], { ...T_FLOAT, keep_dims: tfAttr.bool(true) });
    cx.set(out, ref, NHWC);
    return;
  }
  const k = n.attrInts('kernel_shape')!;
  const strides = n.attrInts('strides', [1, 1]);
  const p = spatialPads(n, x, k, strides, [1, 1]) as Pads;
  const hw = [x.shape![2] as number, x.shape![3] as number];
  const same = tfSamePads(hw, k, strides);
  const zero = [...p.begin, ...p.end].every((q) => q === 0);
  const isSame = same.begin.every((q, a) => q === p.begin[a] && same.end[a] === p.end[a]);
  const max = n.op === 'MaxPool';
  let ref = cx.nhwc(x);
  let padding = 'VALID';
  if (!zero && (isSame && (max || n.attrInt('count_include_pad', 0) === 0))) padding = 'SAME';
  else if (!zero) {
    // Explicit padding: -max for MaxPool (never selected), 0 for AveragePool counting pads.
    const paddings = [0, 0, p.begin[0]!, p.end[0]!, p.begin[1]!, p.end[1]!, 0, 0];
    ref = cx.b.op(`${n.name}/pad`, 'PadV2', [ref, cx.b.constI32(`${n.name}/paddings`, [4, 2], paddings), cx.b.constF32(`${n.name}/pad_value`, [], Float32Array.of(max ? -FLOAT32_MAX : 0), 'param')], T_FLOAT);
  }
  const attrs = { ...T_FLOAT, ksize: tfAttr.ints([1, k[0]!, k[1]!, 1]), strides: tfAttr.ints([1, strides[0]!, strides[1]!, 1]), padding: tfAttr.str(padding), data_format: tfAttr.str('NHWC') };
  cx.set(out, cx.b.op(n.name, max ? 'MaxPool' : 'AvgPool', [ref], attrs), NHWC);
};

// ---- reductions -----------------------------------------------------------------------

const REDUCE_TF: Readonly<Record<string, string>> = { ReduceSum: 'Sum', ReduceMean: 'Mean', ReduceMax: 'Max', ReduceMin: 'Min', ReduceL2: 'EuclideanNorm', ReduceSumSquare: 'Sum' };

export const checkReduce: Check = (n) => {
  const r: string[] = [];
  if (n.inputs[1] && !n.inputs[1].const) r.push('axes (input 1) must be a constant');
  if (!n.inputs[0]?.shape) r.push('input rank must be known');
  return r;
};

function reduceAxes(n: Node, rank: number): number[] {
  const axes = axesOf(n, 1);
  if (!axes || axes.length === 0) return n.attrInt('noop_with_empty_axes', 0) === 1 ? [] : [...Array(rank).keys()];
  return axes.map((a) => (a < 0 ? a + rank : a));
}

export const emitReduce: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const rank = cx.shape(x).length;
  const axes = reduceAxes(n, rank);
  const keep = n.attrInt('keepdims', 1) === 1;
  if (axes.length === 0) return cx.alias(n.output(0), x);
  const t = cx.tensor(x);
  let ref: string, tfAxes: number[], layout: Layout;
  if (t.layout.kind === 'nhwc' && keep) {
    [ref, tfAxes, layout] = [t.ref, axes.map((a) => NCHW_TO_NHWC_AXIS[a]!), NHWC];
  } else if (t.layout.kind === 'flat' && axes.length === 1 && axes[0] === 1) {
    // Over all flat features: the order does not matter.
    [ref, tfAxes, layout] = [t.ref, [1], PLAIN];
  } else [ref, tfAxes, layout] = [cx.plain(x), axes, PLAIN];
  if (n.op === 'ReduceSumSquare') ref = cx.b.op(`${n.name}/square`, 'Square', [ref], T_FLOAT);
  const out = cx.b.op(n.name, REDUCE_TF[n.op]!, [ref, cx.b.constI32(`${n.name}/axes`, [tfAxes.length], tfAxes)], { ...T_FLOAT, keep_dims: tfAttr.bool(keep) });
  cx.set(n.output(0), out, layout);
};

export const checkLpNorm: Check = (n) => (n.attrInt('p', 2) === 2 ? [] : [`p=${n.attrInt('p', 2)} is not supported (p=2 only)`]);

/** LpNormalization(p=2): y = x / ||x||_2 along axis (ONNX adds no epsilon). */
export const emitLpNorm: Emit = (n, cx) => {
  const x = n.inputs[0]!;
  const rank = cx.shape(x).length;
  let axis = n.attrInt('axis', -1);
  if (axis < 0) axis += rank;
  const t = cx.tensor(x);
  let ref: string, a: number, layout: Layout;
  if (t.layout.kind === 'nhwc') [ref, a, layout] = [t.ref, NCHW_TO_NHWC_AXIS[axis]!, NHWC];
  else if (t.layout.kind === 'flat' && axis === 1) [ref, a, layout] = [t.ref, 1, t.layout];
  else [ref, a, layout] = [cx.plain(x), axis, PLAIN];
  const norm = cx.b.op(`${n.name}/norm`, 'EuclideanNorm', [ref, cx.b.constI32(`${n.name}/axis`, [1], [a])], { ...T_FLOAT, keep_dims: tfAttr.bool(true) });
  cx.set(n.output(0), cx.b.op(n.name, 'RealDiv', [ref, norm], T_FLOAT), layout);
};


// ---- HardSigmoid, HardSwish ---------------------------------------------------------------
//   HardSigmoid  y = ClipByValue(x * alpha + beta, 0, 1)
//   HardSwish    y = x * ClipByValue(x * (1/6) + 1/2, 0, 1)
// Scalar constants, so the activation keeps its layout.

function emitHardSigmoidOf(cx: Converter, base: string, t: TfTensor, alpha: number, beta: number): string {
  const m = cx.b.op(`${base}/mul`, 'Mul', [t.ref, cx.b.constF32(`${base}/alpha`, [], Float32Array.of(alpha), 'param')], T_FLOAT);
  const a = cx.b.op(`${base}/add`, 'AddV2', [m, cx.b.constF32(`${base}/beta`, [], Float32Array.of(beta), 'param')], T_FLOAT);
  return cx.b.op(base, 'ClipByValue', [a, cx.b.constF32(`${base}/zero`, [], Float32Array.of(0), 'param'), cx.b.constF32(`${base}/one`, [], Float32Array.of(1), 'param')], T_FLOAT);
}

export const emitHardSigmoid: Emit = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  cx.set(n.output(0), emitHardSigmoidOf(cx, n.name, t, n.attrFloat('alpha', 0.2), n.attrFloat('beta', 0.5)), t.layout);
};

export const emitHardSwish: Emit = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  const gate = emitHardSigmoidOf(cx, `${n.name}/gate`, t, 1 / 6, 0.5);
  cx.set(n.output(0), cx.b.op(n.name, 'Mul', [t.ref, gate], T_FLOAT), t.layout);
};

// ---- Slice, Pad (edge / reflect / wrap), Resize and Upsample (nearest) ------------------------
// Each is an index map per axis, computed at conversion time with the WebGPU
// target's rules (src/targets/webgpu/ops/{slice,pad,resize}.ts, so both targets
// agree by construction):  Y[..., o_a, ...] = X[..., T_a[o_a], ...]
// and becomes one GatherV2 (int32 indices) per axis that is not copied as is,
// in the activation's layout (NHWC axes for a 4-D NHWC value). Exact for every
// mode: the same elements are picked, no arithmetic happens.

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

function sliceTablesOf(n: Node): (Int32Array | null)[] | string {
  const s = sliceSpec(n);
  if (typeof s === 'string') return s;
  const full = fullShape(n.inputs[0]);
  if (typeof full === 'string') return full;
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

export const checkSlice: Check = (n) => {
  const r = sliceTablesOf(n);
  return typeof r === 'string' ? [r] : [];
};

export const emitSlice: Emit = (n, cx) => gatherAxes(cx, n, n.inputs[0]!, sliceTablesOf(n) as (Int32Array | null)[]);

function padTablesOf(n: Node): (Int32Array | null)[] | string {
  const s = padSpec(n);
  if (typeof s === 'string') return s;
  const full = fullShape(n.inputs[0]);
  if (typeof full === 'string') return full;
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

export const checkPadAny: Check = (n) => {
  if (n.attrString('mode', 'constant') === 'constant') return checkPad(n);
  const r = padTablesOf(n);
  return typeof r === 'string' ? [r] : [];
};

export const emitPadAny: Emit = (n, cx) => {
  if (n.attrString('mode', 'constant') === 'constant') return emitPad(n, cx);
  gatherAxes(cx, n, n.inputs[0]!, padTablesOf(n) as (Int32Array | null)[]);
};

function resizeTablesOf(n: Node): (Int32Array | null)[] | string {
  const s = resizeSpec(n);
  if (typeof s === 'string') return s;
  const full = fullShape(n.inputs[0]);
  if (typeof full === 'string') return full;
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

export const checkResize: Check = (n) => {
  const r = resizeTablesOf(n);
  return typeof r === 'string' ? [r] : [];
};

export const emitResize: Emit = (n, cx) => gatherAxes(cx, n, n.inputs[0]!, resizeTablesOf(n) as (Int32Array | null)[]);

// ---- Expand ------------------------------------------------------------------------------
// numpy broadcast to a constant shape of the same rank, as GatherV2 with zero
// indices on each axis of size 1 that grows (exact; the batch axis is kept).

function expandTablesOf(n: Node): (Int32Array | null)[] | string {
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

export const checkExpand: Check = (n) => {
  const r = expandTablesOf(n);
  return typeof r === 'string' ? [r] : [];
};

export const emitExpand: Emit = (n, cx) => gatherAxes(cx, n, n.inputs[0]!, expandTablesOf(n) as (Int32Array | null)[]);
