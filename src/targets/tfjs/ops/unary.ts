/**
 * One-input elementwise ops, in whatever layout the input is held (nothing to
 * permute):
 *   unary(tf)    y = tf(x)
 *   LeakyRelu    y = LeakyRelu(x, alpha)
 *   Clip         y = ClipByValue(x, min, max)   (a missing bound: +-FLOAT32_MAX)
 *   HardSigmoid  y = ClipByValue(x * alpha + beta, 0, 1)
 *   HardSwish    y = x * ClipByValue(x * (1/6) + 1/2, 0, 1)
 *   Identity, Dropout (inference), Cast float32 -> float32: no TF node.
 */
import { DType } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/node.js';
import type { Converter } from '../convert.js';
import type { TfTensor } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { FLOAT32_MAX, T_FLOAT, isFloatValue, needConst, outputsUnused, type Check, type Lower } from './rule.js';

export const checkUnary: Check = (n) => {
  const r: string[] = [];
  if (!isFloatValue(n.inputs[0] ?? null)) r.push('input is not float32');
  return r;
};

export const checkElu: Check = (n) => [...checkUnary(n), ...(n.attrFloat('alpha', 1) !== 1 ? ['Elu with alpha != 1 is not supported'] : [])];

/** y = tf(x): the row names the TF op. */
export const lowerUnary = (tf: string): Lower => (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  cx.set(n.output(0), cx.b.op(n.name, tf, [t.ref], T_FLOAT), t.layout);
};

export const lowerLeakyRelu: Lower = (n, cx) => {
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

export const lowerClip: Lower = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  const [lo, hi] = clipBounds(n);
  const ref = cx.b.op(n.name, 'ClipByValue', [t.ref, cx.b.constF32(`${n.name}/min`, [], Float32Array.of(lo), 'param'), cx.b.constF32(`${n.name}/max`, [], Float32Array.of(hi), 'param')], T_FLOAT);
  cx.set(n.output(0), ref, t.layout);
};

/** Dropout in inference: the output is the input, the mask must be unused. */
export const checkDropout: Check = (n) => outputsUnused(n, 1);

export const lowerIdentity: Lower = (n, cx) => cx.alias(n.output(0), n.inputs[0]!);

export const checkCast: Check = (n) => {
  const to = n.attrInt('to', 0);
  return to === DType.FLOAT && isFloatValue(n.inputs[0] ?? null) ? [] : [`Cast to ${to} is not supported (only float32 -> float32)`];
};

function hardSigmoidOf(cx: Converter, base: string, t: TfTensor, alpha: number, beta: number): string {
  const m = cx.b.op(`${base}/mul`, 'Mul', [t.ref, cx.b.constF32(`${base}/alpha`, [], Float32Array.of(alpha), 'param')], T_FLOAT);
  const a = cx.b.op(`${base}/add`, 'AddV2', [m, cx.b.constF32(`${base}/beta`, [], Float32Array.of(beta), 'param')], T_FLOAT);
  return cx.b.op(base, 'ClipByValue', [a, cx.b.constF32(`${base}/zero`, [], Float32Array.of(0), 'param'), cx.b.constF32(`${base}/one`, [], Float32Array.of(1), 'param')], T_FLOAT);
}

export const lowerHardSigmoid: Lower = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  cx.set(n.output(0), hardSigmoidOf(cx, n.name, t, n.attrFloat('alpha', 0.2), n.attrFloat('beta', 0.5)), t.layout);
};

export const lowerHardSwish: Lower = (n, cx) => {
  const t = cx.tensor(n.inputs[0]!);
  const gate = hardSigmoidOf(cx, `${n.name}/gate`, t, 1 / 6, 0.5);
  cx.set(n.output(0), cx.b.op(n.name, 'Mul', [t.ref, gate], T_FLOAT), t.layout);
};
