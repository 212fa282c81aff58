import { describe, expect, it } from 'vitest';
import { Graph } from '../../src/ir/graph.js';
import { DType } from '../../src/ir/dtype.js';
import { TensorData } from '../../src/ir/tensor.js';
import { InputError } from '../../src/errors.js';

/** x -> Relu -> Add(+c) -> y, plus a dead branch. */
function small() {
  const g = new Graph();
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: ['N', 4] });
  g.inputs.push(x);
  const c = g.addConstant('c', TensorData.float32([4], [1, 2, 3, 4]));
  const r = g.addNode({ op: 'Relu', inputs: [x], outputs: ['r'] });
  const a = g.addNode({ op: 'Add', inputs: [r.output(), c], outputs: ['y'] });
  g.outputs.push(a.output());
  const deadC = g.addConstant('dead_c', TensorData.float32([4], [0, 0, 0, 0]));
  g.addNode({ op: 'Mul', inputs: [x, deadC], outputs: ['dead'] });
  return { g, x, c, r, a };
}

describe('graph IR', () => {
  it('keeps producer and consumer links in sync when inputs change', () => {
    const { g, x, c, r, a } = small();
    expect(x.consumers.map((n) => n.op).sort()).toEqual(['Mul', 'Relu']);
    expect(r.output().consumers).toEqual([a]);
    a.setInput(0, x);
    expect(r.output().uses).toHaveLength(0);
    expect(x.uses.filter((u) => u.node === a)).toEqual([{ node: a, index: 0 }]);
    expect(c.uses).toEqual([{ node: a, index: 1 }]);
    g.verify();
  });

  it('replaceAllUsesWith rewires every use and graph output slot', () => {
    const { g, x, a } = small();
    const y = a.output();
    y.replaceAllUsesWith(x);
    expect(g.outputs[0]).toBe(x);
    g.verify();
  });

  it('cleanup removes dead nodes and unused initializers but never a graph output', () => {
    const { g } = small();
    const rep = g.cleanup();
    expect(rep.nodesRemoved).toBe(1);
    expect(rep.initializersRemoved).toBe(1);
    expect(rep.initializerBytesRemoved).toBe(16);
    expect(g.nodes.map((n) => n.op)).toEqual(['Relu', 'Add']);
    expect(g.value('dead_c')).toBeUndefined();
    // An output that is also a graph input stays.
    const h = new Graph();
    const i = h.addValue('i');
    h.inputs.push(i);
    h.outputs.push(i);
    h.cleanup();
    expect(h.outputs).toEqual([i]);
    g.verify();
  });

  it('toposort orders producers first and is stable on a sorted graph', () => {
    const { g, r, a } = small();
    g.nodes.reverse();
    g.toposort();
    expect(g.nodes.indexOf(r)).toBeLessThan(g.nodes.indexOf(a));
    const before = [...g.nodes];
    g.toposort();
    expect(g.nodes).toEqual(before);
  });

  it('verify rejects a cycle', () => {
    const g = new Graph();
    const x = g.addValue('x');
    g.inputs.push(x);
    const n1 = g.addNode({ op: 'Add', inputs: [x, null], outputs: ['a'] });
    const n2 = g.addNode({ op: 'Relu', inputs: [n1.output()], outputs: ['b'] });
    n1.setInput(1, n2.output());
    g.outputs.push(n2.output());
    expect(() => g.verify()).toThrow(/cycle/);
  });

  it('verify rejects a node input that nothing produces', () => {
    const g = new Graph();
    const ghost = g.addValue('ghost');
    const n = g.addNode({ op: 'Relu', inputs: [ghost], outputs: ['y'] });
    g.outputs.push(n.output());
    expect(() => g.verify()).toThrow(InputError);
    expect(() => g.verify()).toThrow(/ghost/);
  });

  it('names stay unique', () => {
    const g = new Graph();
    const a = g.addValue('t');
    const b = g.addValue('t');
    expect(a.name).toBe('t');
    expect(b.name).not.toBe('t');
    expect(() => g.addValue('t', { exact: true })).toThrow(/twice/);
    const n1 = g.addNode({ op: 'Relu', inputs: [a], name: 'relu' });
    const n2 = g.addNode({ op: 'Relu', inputs: [b], name: 'relu' });
    expect(n1.name).not.toBe(n2.name);
  });

  it('bypass keeps the graph output name', () => {
    const g = new Graph();
    const x = g.addValue('x');
    g.inputs.push(x);
    const r = g.addNode({ op: 'Relu', inputs: [x], outputs: ['r'] });
    const id = g.addNode({ op: 'Identity', inputs: [r.output()], outputs: ['embedding'] });
    g.outputs.push(id.output());
    g.bypass(id, r.output());
    expect(g.outputs[0]!.name).toBe('embedding');
    expect(g.outputs[0]!.producer).toBe(r);
    expect(g.nodes).toHaveLength(1);
    g.verify();
  });
});
