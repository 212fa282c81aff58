/**
 * Reductions over constant axes: ReduceX(x) = tf(x, axes) (ReduceSumSquare:
 * Sum(Square(x))), on NHWC axes when the input is NHWC and keepdims holds; and
 *   LpNormalization(p=2): y = x / ||x||_2 along axis (ONNX adds no epsilon).
 */
import type { Node } from '../../../ir/node.js';
import { NHWC, PLAIN, type Layout } from '../layout.js';
import { tfAttr } from '../graphdef.js';
import { NCHW_TO_NHWC_AXIS } from '../layout-math.js';
import { T_FLOAT, axesOf, type Check, type Lower } from './rule.js';

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

/** ReduceX = the row's TF reduction, of Square(x) when `square` (ReduceSumSquare). */
export const lowerReduce = (tf: string, square = false): Lower => (n, cx) => {
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
  if (square) ref = cx.b.op(`${n.name}/square`, 'Square', [ref], T_FLOAT);
  const out = cx.b.op(n.name, tf, [ref, cx.b.constI32(`${n.name}/axes`, [tfAxes.length], tfAxes)], { ...T_FLOAT, keep_dims: tfAttr.bool(keep) });
  cx.set(n.output(0), out, layout);
};

export const checkLpNorm: Check = (n) => (n.attrInt('p', 2) === 2 ? [] : [`p=${n.attrInt('p', 2)} is not supported (p=2 only)`]);

/** LpNormalization(p=2): y = x / ||x||_2 along axis (ONNX adds no epsilon). */
export const lowerLpNorm: Lower = (n, cx) => {
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

