/**
 * extractSubgraph keeps what the named outputs need: the nodes they are
 * computed by, the graph inputs those read; everything else (a head, a label
 * input, an initializer listed as an input that only the head reads) goes.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { Model } from '../../src/ir/model.js';
import { TensorData } from '../../src/ir/tensor.js';
import { extractSubgraph, planSubgraph } from '../../src/ir/extract.js';

/** x -> Relu -> e -> MatMul(W 4x10) -> Add(label) -> logits; e also * s -> scaled. */
function model(): Model {
  const m = new Model();
  const b = new GraphBuilder(m.graph);
  const x = b.input('x', ['N', 4]);
  const label = b.input('label', ['N', 10]);
  const w = b.constant('W', TensorData.float32([4, 10], new Float32Array(40).fill(0.5)));
  m.graph.inputs.push(w); // an old-style initializer listed as an input, read only by the head
  const s = b.constant('s', TensorData.float32([1], [2]));
  const e = b.op('Relu', [x], ['N', 4], 'relu');
  const mm = b.op('MatMul', [e, w], ['N', 10], 'cls');
  b.output(b.op('Add', [mm, label], ['N', 10], 'add'), 'logits');
  b.output(b.op('Mul', [e, s], ['N', 4], 'scale'), 'scaled');
  return m;
}

describe('extractSubgraph', () => {
  it('plans without changing the graph', () => {
    const m = model();
    const g = m.graph;
    const p = planSubgraph(g, [g.requireValue('relu_output_0')]);
    expect([...p.kept].map((n) => n.name)).toEqual(['relu']);
    expect(p.dropped.map((n) => n.name)).toEqual(['cls', 'add', 'scale']);
    expect(p.inputsDropped.map((v) => v.name)).toEqual(['label', 'W']);
    expect(p.constsDropped.map((v) => v.name).sort()).toEqual(['W', 's']);
    expect(g.nodes).toHaveLength(4);
  });

  it('cuts to the named outputs: head nodes, label input and head-only initializers removed', () => {
    const m = model();
    const r = extractSubgraph(m, ['relu_output_0']);
    const g = m.graph;
    expect(r).toEqual({ nodesRemoved: 3, initializersRemoved: 2, bytesRemoved: 40 * 4 + 4, inputsRemoved: ['label', 'W'], outputsRemoved: ['logits', 'scaled'] });
    expect(g.nodes.map((n) => n.name)).toEqual(['relu']);
    expect(g.inputs.map((v) => v.name)).toEqual(['x']);
    expect(g.outputs.map((v) => v.name)).toEqual(['relu_output_0']);
    expect(g.value('W')).toBeUndefined();
  });

  it('keeps an initializer a kept node reads, and an output that is kept already', () => {
    const m = model();
    const r = extractSubgraph(m.graph, ['scaled']);
    expect(r.nodesRemoved).toBe(2);
    expect(r.bytesRemoved).toBe(40 * 4); // W only: s feeds the kept Mul
    expect(r.outputsRemoved).toEqual(['logits']);
    expect(m.graph.value('s')?.const?.size).toBe(1);
    expect(m.graph.nodes.map((n) => n.name)).toEqual(['relu', 'scale']);
  });
});
