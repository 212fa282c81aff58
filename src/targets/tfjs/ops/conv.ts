/**
 * Conv: 2-D, constant weight (and bias), NHWC.
 *   group 1                 Conv2D, kernel OIHW -> HWIO;
 *   group = input channels  DepthwiseConv2dNative, kernel -> HWCM (any multiplier);
 *   other groups            Split, one _FusedConv2D per group, ConcatV2 (below).
 * With a bias or an absorbed activation (fused.ts) the fused variants
 * _FusedConv2D / FusedDepthwiseConv2dNative carry them.
 */
import type { Node } from '../../../ir/node.js';
import type { Converter } from '../convert.js';
import { NHWC } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { depthwiseToHwcm, oihwToHwio } from '../layout-math.js';
import { fusedArgs, takeActivation } from './fused.js';
import { T_FLOAT, needConst, staticDims, type Check, type Lower } from './rule.js';
import { conv2dAttrs, spatialPads, type Pads } from './window.js';

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

export const lowerConv: Lower = (n, cx) => {
  const x = n.inputs[0]!, wv = n.inputs[1]!, bv = n.inputs[2] ?? null;
  const [o, ig, kh, kw] = wv.const!.dims as [number, number, number, number];
  const cin = x.shape![1] as number;
  const g = n.attrInt('group', 1);
  // group = input channels (one input channel per group, any multiplier) is exactly a depthwise convolution.
  const depthwise = g !== 1 && g === cin && ig === 1;
  if (g !== 1 && !depthwise) return lowerGroupedConv(n, cx);
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
function lowerGroupedConv(n: Node, cx: Converter): void {
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
