import { describe, expect, it } from 'vitest';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { attr } from '../../src/ir/attribute.js';
import type { Value } from '../../src/ir/value.js';
import { simplifyCasts } from '../../src/quantize/casts.js';
import { runEmbeddings } from '../../src/data/ort-run.js';

/** x:f32[2,4] -> casts given as a list of `to` types (a chain) -> Relu -> y */
function chain(tos: number[], xType = DType.FLOAT): Model {
  const m = new Model();
  const g = m.graph;
  const x = g.addValue('x', { dtype: xType, shape: [2, 4] });
  g.inputs.push(x);
  let v: Value = x;
  for (const to of tos) {
    v = g.addNode({ op: 'Cast', inputs: [v], attrs: { to: attr.int(to) } }).output(0);
    v.dtype = to;
    v.shape = [2, 4];
  }
  const y = g.addNode({ op: 'Relu', inputs: [v], outputs: ['y'] }).output(0);
  y.dtype = v.dtype;
  y.shape = [2, 4];
  g.outputs.push(y);
  return m;
}

const casts = (m: Model) => m.graph.nodes.filter((n) => n.op === 'Cast').map((n) => n.attrInt('to'));

describe('simplifyCasts', () => {
  it('removes an exact pair: f16 -> f32 -> f16 is the identity', () => {
    const m = chain([DType.FLOAT, DType.FLOAT16], DType.FLOAT16);
    expect(simplifyCasts(m.graph)).toBe(2);
    expect(casts(m)).toEqual([]);
    m.graph.verify();
  });

  it('shortens a chain through an exact widening: f16 -> f32 -> f64 becomes f16 -> f64', () => {
    const m = chain([DType.FLOAT, DType.DOUBLE], DType.FLOAT16);
    expect(simplifyCasts(m.graph)).toBe(1);
    expect(casts(m)).toEqual([DType.DOUBLE]);
  });

  it('removes a no-op cast and merges duplicates', () => {
    const m = chain([DType.FLOAT]);
    const g = m.graph;
    const x = g.inputs[0]!;
    const a = g.addNode({ op: 'Cast', inputs: [x], attrs: { to: attr.int(DType.FLOAT16) } }).output(0);
    const b = g.addNode({ op: 'Cast', inputs: [x], attrs: { to: attr.int(DType.FLOAT16) } }).output(0);
    a.dtype = b.dtype = DType.FLOAT16;
    const s = g.addNode({ op: 'Add', inputs: [a, b], outputs: ['s'] }).output(0);
    s.dtype = DType.FLOAT16;
    g.outputs.push(s);
    expect(simplifyCasts(g)).toBe(2); // the no-op f32 -> f32, and one duplicate
    expect(casts(m)).toEqual([DType.FLOAT16]);
    expect(g.nodes.find((n) => n.op === 'Add')!.inputs[0]).toBe(g.nodes.find((n) => n.op === 'Add')!.inputs[1]);
    g.verify();
  });

  it('keeps a lossy round trip (f32 -> f16 -> f32 rounds) and gives the same numbers', async () => {
    const m = chain([DType.FLOAT16, DType.FLOAT]);
    expect(simplifyCasts(m.graph)).toBe(0);
    expect(casts(m)).toEqual([DType.FLOAT16, DType.FLOAT]);
    const y = await runEmbeddings(m, { data: Float32Array.of(1.0001, 3.14159265, 70000, 1e-9, -1, 2, 0.1, 65504), dims: [2, 4] }, 'y');
    // float16 rounding: 1.0001 -> 1, pi -> 3.140625, 70000 -> Inf, 1e-9 -> 0; Relu of -1 -> 0
    expect([...y]).toEqual([1, 3.140625, Infinity, 0, 0, 2, Math.fround(0.0999755859375), 65504]);
  });
});
