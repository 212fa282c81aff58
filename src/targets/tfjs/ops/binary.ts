/**
 * Elementwise ops of two operands, y = op(a, b) with numpy broadcasting, in
 * the activation's layout when a constant can follow it (constForLayout), and
 * the ops written with them: PRelu (below) and the BatchNormalization the
 * optimizer left (not foldable exactly):
 *   y = x * s + t,  s = gamma / sqrt(var + eps),  t = beta - mean * s   (float64, then float32)
 * as Mul + AddV2 with per-channel constants in the activation's layout.
 */
import { bnAffine } from '../../../analysis/batchnorm.js';
import type { Value } from '../../../ir/value.js';
import type { Converter } from '../convert.js';
import { NHWC, PLAIN, type Layout, type TfTensor } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { constForLayout } from '../layout-math.js';
import { perChannel } from './fused.js';
import { T_FLOAT, isFloatValue, needConst, outputsUnused, type Check, type Lower } from './rule.js';

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

export const checkBinary: Check = (n) => {
  const r: string[] = [];
  if (n.inputs.length !== 2) r.push(`${n.inputs.length} inputs; only 2 are supported`);
  for (const v of n.inputs) if (v && !v.const && !isFloatValue(v)) r.push(`input ${v.name} is not float32`);
  return r;
};

/** Add, Sub, Mul, Div, Pow, Max, Min: the row names the TF op. */
export const lowerBinary = (tf: string): Lower => (n, cx) => {
  const t = emitBinary(cx, n.name, tf, operand(cx, n.inputs[0]!), operand(cx, n.inputs[1]!));
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
export const lowerPRelu: Lower = (n, cx) => {
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

export const lowerBatchNorm: Lower = (n, cx) => {
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
