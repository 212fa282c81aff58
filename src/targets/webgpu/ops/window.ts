/**
 * The padding of a 2-D window (Conv, MaxPool, AveragePool; dilation 1) as
 * [top, left, bottom, right]: SAME_UPPER / SAME_LOWER from the input size, kernel
 * and stride (ir/conv-geometry.ts), VALID none, else the `pads` attribute.
 */
import { isSame, samePads } from '../../../ir/conv-geometry.js';
import type { Node } from '../../../ir/node.js';

export function windowPads(n: Node, h: number, w: number, kh: number, kw: number, sh: number, sw: number): [number, number, number, number] {
  const autoPad = n.attrString('auto_pad', 'NOTSET');
  if (isSame(autoPad)) {
    // Dilation 1: the lowering refuses any other.
    const [t, b] = samePads(h, kh, sh, 1, autoPad), [l, r] = samePads(w, kw, sw, 1, autoPad);
    return [t, l, b, r];
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  const p = n.attrInts('pads', [0, 0, 0, 0]);
  return [p[0]!, p[1]!, p[2]!, p[3]!];
}
