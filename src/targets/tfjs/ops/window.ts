/**
 * The spatial window of a 2-D convolution or pool: ONNX pads / auto_pad as
 * begin and end per axis, and how TF states them (VALID, EXPLICIT, or the
 * pools' SAME where it matches):
 *   TF SAME   total = max((ceil(in / s) - 1) * s + k - in, 0),
 *             begin = floor(total / 2), end = total - begin.
 */
import { isSame, samePads } from '../../../ir/conv-geometry.js';
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import { tfAttr, type TfAttr } from '../graphdef.js';
import { T_FLOAT, staticDims } from './rule.js';

export interface Pads {
  readonly begin: readonly number[];
  readonly end: readonly number[];
}

/** ONNX pads (or auto_pad) of a 2-D conv/pool as begin/end per spatial axis. */
export function spatialPads(n: Node, input: Value, k: readonly number[], strides: readonly number[], dil: readonly number[]): Pads | string {
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
export function conv2dAttrs(strides: readonly number[], dil: readonly number[], pads: Pads): Record<string, TfAttr> {
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
export function tfSamePads(inp: readonly number[], k: readonly number[], s: readonly number[]): Pads {
  const begin: number[] = [], end: number[] = [];
  for (let a = 0; a < 2; a++) {
    const total = Math.max((Math.ceil(inp[a]! / s[a]!) - 1) * s[a]! + k[a]! - inp[a]!, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return { begin, end };
}
