/**
 * Pools on NHWC: MaxPool / AvgPool with TF SAME padding where it matches the
 * ONNX pads (window.ts), else an explicit PadV2 first (-FLOAT32_MAX for max:
 * never selected; 0 for an average that counts the padded cells);
 * GlobalAveragePool / GlobalMaxPool as Mean / Max over H, W (keep_dims).
 */
import { NHWC } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { FLOAT32_MAX, T_FLOAT, outputsUnused, staticDims, type Check, type Lower } from './rule.js';
import { spatialPads, tfSamePads, type Pads } from './window.js';

const NOT_4D = 'input must be 4-D with known channels, height and width';

export const checkGlobalPool: Check = (n) => {
  const x = n.inputs[0];
  return !staticDims(x, 1) || x.shape.length !== 4 ? [NOT_4D] : [];
};

export const checkPool: Check = (n) => {
  const r: string[] = [];
  const x = n.inputs[0];
  if (!staticDims(x, 1) || x.shape.length !== 4) return [NOT_4D];
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

/** GlobalAveragePool / GlobalMaxPool: the row's TF reduction (Mean / Max) over NHWC H, W. */
export const lowerGlobalPool = (tf: 'Mean' | 'Max'): Lower => (n, cx) => {
  const ref = cx.b.op(n.name, tf, [cx.nhwc(n.inputs[0]!), cx.b.constI32(`${n.name}/axes`, [2], [1, 2])], { ...T_FLOAT, keep_dims: tfAttr.bool(true) });
  cx.set(n.output(0), ref, NHWC);
};

/** MaxPool / AveragePool as the row's TF pool (MaxPool / AvgPool). */
export const lowerPool = (tf: 'MaxPool' | 'AvgPool'): Lower => (n, cx) => {
  const x = n.inputs[0]!;
  const out = n.output(0);
  const k = n.attrInts('kernel_shape')!;
  const strides = n.attrInts('strides', [1, 1]);
  const p = spatialPads(n, x, k, strides, [1, 1]) as Pads;
  const hw = [x.shape![2] as number, x.shape![3] as number];
  const same = tfSamePads(hw, k, strides);
  const zero = [...p.begin, ...p.end].every((q) => q === 0);
  const isSame = same.begin.every((q, a) => q === p.begin[a] && same.end[a] === p.end[a]);
  const max = tf === 'MaxPool';
  let ref = cx.nhwc(x);
  let padding = 'VALID';
  if (!zero && (isSame && (max || n.attrInt('count_include_pad', 0) === 0))) padding = 'SAME';
  else if (!zero) {
    // Explicit padding: -max for MaxPool (never selected), 0 for AveragePool counting pads.
    const paddings = [0, 0, p.begin[0]!, p.end[0]!, p.begin[1]!, p.end[1]!, 0, 0];
    ref = cx.b.op(`${n.name}/pad`, 'PadV2', [ref, cx.b.constI32(`${n.name}/paddings`, [4, 2], paddings), cx.b.constF32(`${n.name}/pad_value`, [], Float32Array.of(max ? -FLOAT32_MAX : 0), 'param')], T_FLOAT);
  }
  const attrs = { ...T_FLOAT, ksize: tfAttr.ints([1, k[0]!, k[1]!, 1]), strides: tfAttr.ints([1, strides[0]!, strides[1]!, 1]), padding: tfAttr.str(padding), data_format: tfAttr.str('NHWC') };
  cx.set(out, cx.b.op(n.name, tf, [ref], attrs), NHWC);
};
