/**
 * Shape ops: Reshape / Flatten (an NHWC map flattened as it is, the features
 * marked HWC-ordered: layout 'flat'), Transpose (the permutation composed with
 * NHWC's), Squeeze, Unsqueeze, Concat (on NHWC axes when every input is NHWC),
 * Constant.
 */
import { DType } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/node.js';
import type { Dim, Value } from '../../../ir/value.js';
import type { Converter } from '../convert.js';
import { NHWC, PLAIN, isIntType } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { NCHW_TO_NHWC_AXIS } from '../layout-math.js';
import { T_FLOAT, axesOf, constInts, isFloatValue, type Check, type Lower } from './rule.js';

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

export const checkFlatten: Check = (n) => {
  const s = n.inputs[0]?.shape;
  if (!s) return ['input shape must be known'];
  const axis = n.attrInt('axis', 1);
  const a = axis < 0 ? axis + s.length : axis;
  if (s.slice(a).some((d) => typeof d !== 'number') || (a > 1 && s.slice(0, a).filter((d) => typeof d !== 'number').length > 1)) return ['flattened dimensions must be known'];
  return [];
};

export const checkReshape: Check = (n) => {
  const target = constInts(n.inputs[1]);
  if (!target) return ['the target shape (input 1) must be a constant'];
  if (!n.inputs[0]?.shape || !resolveReshape(n.inputs[0].shape, target, n.attrInt('allowzero', 0) === 1, n.outputs[0]?.shape)) return ['the target shape has more than one unknown dimension'];
  return [];
};

/** Flatten(axis) = Reshape to [prod(dims before axis), prod(dims from axis)] (-1 for an unknown product). */
export const lowerFlatten: Lower = (n, cx) => {
  const inShape = cx.shape(n.inputs[0]!);
  const axis = n.attrInt('axis', 1);
  const a = axis < 0 ? axis + inShape.length : axis;
  const prod = (ds: readonly Dim[]) => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((p, d) => p * d, 1) : -1);
  reshapeTo(n, cx, [prod(inShape.slice(0, a)), prod(inShape.slice(a))]);
};

export const lowerReshape: Lower = (n, cx) => {
  const x = n.inputs[0]!;
  reshapeTo(n, cx, resolveReshape(cx.shape(x), constInts(n.inputs[1])!, n.attrInt('allowzero', 0) === 1, n.output(0).shape)!);
};

/** One Reshape of the node's input to a TF target shape (at most one -1). */
function reshapeTo(n: Node, cx: Converter, target: readonly number[]): void {
  const x = n.inputs[0]!;
  const t = cx.tensor(x);
  const inShape = cx.shape(x);
  const out = n.output(0);
  // [N, C, H, W] -> [N, C*H*W] of an NHWC value: flatten NHWC as it is and mark the features HWC-ordered.
  const [n0, c, h, w] = inShape;
  if (t.layout.kind === 'nhwc' && typeof c === 'number' && typeof h === 'number' && typeof w === 'number' && target.length === 2 && target[1] === c * h * w && (target[0] === -1 || target[0] === n0)) {
    cx.set(out, cx.b.op(n.name, 'Reshape', [t.ref, cx.b.constI32(`${n.name}/shape`, [2], [-1, c * h * w])], T_FLOAT), { kind: 'flat', c, h, w });
    return;
  }
  cx.set(out, cx.b.op(n.name, 'Reshape', [cx.plain(x), cx.b.constI32(`${n.name}/shape`, [target.length], target)], T_FLOAT), PLAIN);
}

export const lowerTranspose: Lower = (n, cx) => {
  const x = n.inputs[0]!;
  const t = cx.tensor(x);
  const rank = cx.shape(x).length;
  const perm = n.attrInts('perm', [...Array(rank).keys()].reverse());
  // NHWC input: plain = tf.transpose([0,3,1,2]), so out = tf.transpose(p') with p'[i] = [0,3,1,2][perm[i]].
  const [ref, p] = t.layout.kind === 'nhwc' ? [t.ref, perm.map((q) => [0, 3, 1, 2][q]!)] : [cx.plain(x), perm];
  cx.set(n.output(0), cx.b.op(n.name, 'Transpose', [ref, cx.b.constI32(`${n.name}/perm`, [p.length], p)], T_FLOAT), PLAIN);
};

export const checkSqueeze: Check = (n) => (n.inputs[1] && !n.inputs[1].const ? ['axes (input 1) must be a constant'] : []);

export const checkUnsqueeze: Check = (n) => (n.inputs[1] && !n.inputs[1].const ? ['axes (input 1) must be a constant'] : !axesOf(n, 1) ? ['axes are required'] : []);

export const lowerSqueeze: Lower = (n, cx) => {
  const x = n.inputs[0]!;
  const rank = cx.shape(x).length;
  const axes = axesOf(n, 1)?.map((a) => (a < 0 ? a + rank : a)) ?? cx.shape(x).flatMap((d, i) => (d === 1 ? [i] : []));
  cx.set(n.output(0), cx.b.op(n.name, 'Squeeze', [cx.plain(x)], { ...T_FLOAT, axis: tfAttr.ints(axes) }), PLAIN);
};

export const lowerUnsqueeze: Lower = (n, cx) => {
  const x = n.inputs[0]!;
  const outRank = cx.shape(x).length + axesOf(n, 1)!.length;
  const axes = axesOf(n, 1)!.map((a) => (a < 0 ? a + outRank : a)).sort((p, q) => p - q);
  let ref = cx.plain(x);
  for (const a of axes) ref = cx.b.op(`${n.name}/${a}`, 'ExpandDims', [ref, cx.b.constI32(`${n.name}/${a}/axis`, [], [a])], T_FLOAT);
  cx.set(n.output(0), ref, PLAIN);
};

export const checkConcat: Check = (n) => (n.inputs.some((v) => v && !isFloatValue(v)) ? ['only float32 inputs are supported'] : []);

export const lowerConcat: Lower = (n, cx) => {
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

export const lowerConstant: Lower = (n, cx) => {
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
