/**
 * ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL1, ReduceL2,
 * ReduceSumSquare over per-image axes (the batch axis cannot be reduced; axes
 * from the attribute or, opset 13 / 18, a constant input; keepdims either way).
 * One output element per thread: with K the kept axes and R the reduced ones,
 *   y[k] = fold_{r in R} f(x[k, r])        (float32 accumulation)
 *   Sum: sum x   Mean: sum x / |R|   Max / Min   L1: sum |x|   L2: sqrt(sum x^2)   SumSquare: sum x^2
 * The face-model use is the L2 norm of an embedding (F.normalize: x / max(||x||, eps)).
 */
import type { Node } from '../../../ir/node.js';
import type { Act, Layer, OpLayer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import type { Variant } from '../wgsl/common.js';
import { gridKernel, inOut, type KernelOut } from '../wgsl/kernel.js';
import { constOf } from './const.js';
import { elementsOf, strides } from './shape.js';

interface Fold { readonly init: string; readonly step: string; readonly end: (count: number) => string }
const FOLDS: Readonly<Record<string, Fold>> = {
  ReduceSum: { init: '0.0', step: 'acc = acc + v;', end: () => 'acc' },
  ReduceMean: { init: '0.0', step: 'acc = acc + v;', end: (c) => `acc / ${c}.0` },
  ReduceMax: { init: '-3.4028234663852886e38', step: 'acc = max(acc, v);', end: () => 'acc' },
  ReduceMin: { init: '3.4028234663852886e38', step: 'acc = min(acc, v);', end: () => 'acc' },
  ReduceL1: { init: '0.0', step: 'acc = acc + abs(v);', end: () => 'acc' },
  ReduceL2: { init: '0.0', step: 'acc = fma(v, v, acc);', end: () => 'sqrt(acc)' },
  ReduceSumSquare: { init: '0.0', step: 'acc = fma(v, v, acc);', end: () => 'acc' },
};

export const REDUCE_OPS = Object.keys(FOLDS);

function axesOf(n: Node): number[] | null | string {
  const a = n.attrInts('axes');
  if (a) return a;
  const v = n.inputs[1];
  if (!v) return null;
  const c = constOf(v);
  return c ? c.numbers() : 'the axes are not constant';
}

export function check(n: Node): string | undefined {
  const a = axesOf(n);
  return typeof a === 'string' ? a : undefined;
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const rank = c.x.shape.length + 1;
  let axes = axesOf(n) as number[] | null;
  if (!axes || axes.length === 0) {
    if (n.attrInt('noop_with_empty_axes', 0) === 1) return c.fail('noop_with_empty_axes with no axes (an identity)');
    axes = [...Array(rank).keys()];
  }
  const red = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (red.includes(0)) return c.fail('reduces the batch axis');
  const rper = red.map((a) => a - 1);
  const keep = n.attrInt('keepdims', 1) === 1;
  const xs = c.x.shape;
  const expect = keep ? xs.map((d, i) => (rper.includes(i) ? 1 : d)) : xs.filter((_, i) => !rper.includes(i));
  if (expect.join(',') !== c.out.shape.join(',')) return c.fail(`computed per-image shape [${expect.join(',')}] differs from the graph's [${c.out.shape.join(',')}]`);
  const layer: OpLayer = { kind: 'op', op: 'reduce', x: c.x, inputs: [c.x], out: c.out, nodes: [n.name], fused: [n.op.slice('Reduce'.length).toLowerCase()], kernels: (v) => [reduceKernel(FOLDS[n.op]!, c.x, c.out, rper, v)] };
  return layer;
}

function reduceKernel(f: Fold, x: Act, out: Act, red: readonly number[], v: Variant): KernelOut {
  const A = v.act;
  const xs = x.shape, st = strides(xs);
  const kept = xs.map((_, i) => i).filter((i) => !red.includes(i));
  const count = elementsOf(red.map((a) => xs[a]!));
  const per = out.elements;
  const keptLines = ['  var r_ = i;', '  var base = 0u;'];
  for (let k = kept.length - 1; k >= 0; k--) keptLines.push(`  base = base + (r_ % ${xs[kept[k]!]}u) * ${st[kept[k]!]}u; r_ = r_ / ${xs[kept[k]!]}u;`);
  const redLines = ['    var q_ = j;', '    var off = base;'];
  for (let k = red.length - 1; k >= 0; k--) redLines.push(`    off = off + (q_ % ${xs[red[k]!]}u) * ${st[red[k]!]}u; q_ = q_ / ${xs[red[k]!]}u;`);
  const body = `${keptLines.join('\n')}
  var acc = ${f.init};
  for (var j = 0u; j < COUNT; j = j + 1u) {
${redLines.join('\n')}
    let v = f32(X[img * IN_PER + off]);
    ${f.step}
  }
  Y[img * PER + i] = ${A}(${f.end(count)});`;
  return gridKernel({ v, bindings: inOut(x, out, A), decls: [`const PER = ${per}u; const IN_PER = ${x.elements}u; const COUNT = ${count}u;`], count: per, limit: 'PER', wg: 64, body });
}

export const rule: WebGpuOpRule = {
  constraints: ['per-image axes (attribute or constant input), keepdims 0 or 1', 'one output element per thread, float32 accumulation'],
  check,
  lower,
};
