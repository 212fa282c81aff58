/**
 * src/ir/builder.ts: what it builds is a model onnxruntime runs, with the
 * names, initializers and opset asked for. The graph:
 *   x [2, 3] -> Add(x, c = [1, 2, 3]) -> Reshape(shape = int64 [3, 2]) -> y [3, 2]
 * so y = reshape(x + c): exact in float32 (small integers and halves).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DType } from '../../src/ir/dtype.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { runOrt } from '../helpers/ort.js';

function build() {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3]);
  const sum = b.node('Add', [x, b.floats('c', [3], [1, 2, 3])], {}, { name: 'add' });
  const y = b.node('Reshape', [sum, b.int64s('shape', [3, 2])]);
  b.output(y, 'y');
  return { b, model: b.model(13) };
}

describe('GraphBuilder', () => {
  it('inputs, initializers, nodes and outputs as named; the model imports the opset given', () => {
    const { b, model } = build();
    const g = b.graph;
    expect(model.graph).toBe(g);
    expect(model.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(new GraphBuilder().model().opset()).toBe(17);
    expect(g.inputs.map((v) => v.name)).toEqual(['x']);
    expect(g.outputs.map((v) => v.name)).toEqual(['y']);
    expect(g.nodes.map((n) => `${n.op}:${n.name}`)).toEqual(['Add:add', 'Reshape:Reshape']);
    expect(g.nodes[0]!.outputs[0]!.name).toBe('add_out'); // as Graph.addNode names it
    expect(g.requireValue('c').const?.dtype).toBe(DType.FLOAT);
    expect(g.requireValue('shape').const?.dtype).toBe(DType.INT64);
    expect([...(g.requireValue('shape').const?.dims ?? [])]).toEqual([2]);
    inferShapes(g);
    expect(g.outputs[0]!.shape).toEqual([3, 2]);
    g.verify();
  });

  it('onnxruntime runs it: y = reshape(x + c)', async () => {
    const { model } = build();
    const x = Float32Array.of(0, 0.5, 1, -1, -2, 4);
    const { y } = await runOrt(model, { x: { data: x, dims: [2, 3] } });
    expect([...y!]).toEqual([1, 2.5, 4, 0, 0, 7]);
  });
});
