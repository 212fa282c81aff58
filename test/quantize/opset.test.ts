import { describe, expect, it } from 'vitest';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { attr } from '../../src/ir/attribute.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { cloneModel } from '../../src/ir/clone.js';
import { opsetProblems, upgradeOpset } from '../../src/quantize/opset.js';
import { forEachBatch } from '../../src/data/ort-run.js';
import { UnsupportedError } from '../../src/errors.js';

/** An opset-9 graph using every attribute form that moved to an input by opset 13. */
function opset9(): Model {
  const m = new Model();
  m.opsetImports = [{ domain: '', version: 9 }];
  m.irVersion = 4;
  const g = m.graph;
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: ['N', 3, 4] });
  g.inputs.push(x);
  const node = (op: string, ins: ReturnType<typeof g.addValue>[], attrs: Record<string, ReturnType<typeof attr.int>> = {}, outs = 1) =>
    g.addNode({ op, inputs: ins, attrs, outputs: [...Array(outs).keys()].map((k) => `${op}_${k}`), name: op }).outputs;
  const [c0] = node('Clip', [x], { min: attr.float(-0.5), max: attr.float(0.8) });
  const [c] = node('Softmax', [c0!], { axis: attr.int(2) });
  const [s] = node('Slice', [c!], { starts: attr.ints([0]), ends: attr.ints([2]), axes: attr.ints([2]) });
  const [p] = node('Pad', [s!], { pads: attr.ints([0, 0, 1, 0, 0, 1]), value: attr.float(0.25) });
  const [u] = node('Unsqueeze', [p!], { axes: attr.ints([1]) });
  const [q] = node('Squeeze', [u!], { axes: attr.ints([1]) });
  const [r] = node('ReduceSum', [q!], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const [y1, y2] = node('Split', [r!], { axis: attr.int(2), split: attr.ints([1, 3]) }, 2);
  g.outputs.push(y1!, y2!);
  inferShapes(g);
  for (const v of g.outputs) v.dtype = DType.FLOAT;
  return m;
}

async function run(m: Model, data: Float32Array): Promise<Float32Array[]> {
  const outs: Float32Array[] = [];
  await forEachBatch(m, { data, dims: [2, 3, 4] }, m.graph.outputs.map((v) => v.name), (_r, v) => {
    for (const o of m.graph.outputs) outs.push(v.get(o.name)!.slice());
  }, { optimization: 'disabled' });
  return outs;
}

describe('upgradeOpset', () => {
  it('moves attributes into inputs (Clip, Slice, Pad, Squeeze, Unsqueeze, ReduceSum, Split, Softmax) and computes the same numbers', async () => {
    const m9 = opset9();
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 1.3);
    const before = await run(m9, data);
    const m13 = cloneModel(m9);
    const up = upgradeOpset(m13, 13);
    expect(up.from).toBe(9);
    expect(m13.opset('')).toBe(13);
    expect(m13.irVersion).toBeGreaterThanOrEqual(7);
    expect(up.converted.map((c) => c.split(' ')[0])).toEqual(['Clip', 'Softmax', 'Slice', 'Pad', 'Unsqueeze', 'Squeeze', 'ReduceSum', 'Split']);
    for (const n of m13.graph.nodes) expect([...n.attrs.keys()].filter((k) => ['min', 'max', 'starts', 'ends', 'pads', 'value', 'split'].includes(k))).toEqual([]);
    m13.graph.verify();
    const after = await run(m13, data);
    // Exact: the conversions move constants, they do not change arithmetic.
    expect(after).toEqual(before);
  });

  it('is a no-op at or above the target opset', () => {
    const m = opset9();
    m.opsetImports = [{ domain: '', version: 17 }];
    expect(upgradeOpset(m, 13)).toEqual({ from: 17, to: 17, converted: [] });
  });

  it('refuses what has no exact opset-13 form, naming every node', () => {
    const m = opset9();
    const g = m.graph;
    const sm = g.nodes.find((n) => n.op === 'Softmax')!;
    sm.setAttr('axis', attr.int(1)); // 2-D coercion over axes 1..2: no single-axis Softmax
    const up = g.addNode({ op: 'Upsample', inputs: [g.inputs[0]!], attrs: { scales: attr.floats([1, 1, 2]) }, name: 'up' });
    up.output(0).dtype = DType.FLOAT;
    g.outputs.push(up.output(0));
    expect(opsetProblems(m, 13)).toEqual(['Softmax (Softmax)', 'up (Upsample)']);
    let err: unknown;
    try {
      upgradeOpset(cloneModel(m), 13);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/Softmax \(Softmax\): Softmax over axes 1\.\.2.*up \(Upsample\): Upsample was replaced by Resize/);
  });
});
