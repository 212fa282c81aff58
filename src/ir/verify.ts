/**
 * Graph invariants. `verifyGraph` throws an InputError naming the first broken
 * invariant; passes' tests call it after every pass. Linear in nodes + uses
 * (no per-use scans), no recursion.
 */
import { InputError } from '../errors.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import type { Value } from './value.js';
import { toposortGraph } from './traverse.js';

export function verifyGraph(g: Graph): void {
  const fail = (msg: string, hint?: string): never => {
    throw new InputError('graph-invalid', msg, hint);
  };
  const nodeSet = new Set(g.nodes);
  const names = new Set<string>();
  const nodeNames = new Set<string>();
  const seenValues = new Set<Value>();
  const check = (v: Value) => {
    if (seenValues.has(v)) return;
    seenValues.add(v);
    if (g.value(v.name) !== v) fail(`value ${v.name} is not registered in the graph under its name`);
    if (names.has(v.name)) fail(`value name ${v.name} is used twice`);
    names.add(v.name);
  };
  // Every (node, input index) use of each value, for linear lookups: a constant
  // read by 50k nodes must not make this quadratic.
  const nodeId = new Map<Node, number>();
  g.nodes.forEach((n, i) => nodeId.set(n, i));
  const useKeys = new Map<Value, Set<number>>();
  const usesOf = (v: Value): Set<number> => {
    let s = useKeys.get(v);
    if (!s) {
      s = new Set();
      for (const u of v.uses) {
        const id = nodeId.get(u.node);
        if (id !== undefined && u.index >= 0) s.add(id * 2 ** 20 + u.index);
      }
      useKeys.set(v, s);
    }
    return s;
  };
  for (const n of g.nodes) {
    if (n.graph !== g) fail(`node ${n.name} belongs to another graph`);
    if (n.name) {
      if (nodeNames.has(n.name)) fail(`node name ${n.name} is used twice`);
      nodeNames.add(n.name);
    }
    n.inputs.forEach((v, i) => {
      if (!v) return;
      check(v);
      if (!usesOf(v).has(nodeId.get(n)! * 2 ** 20 + i)) fail(`use list of ${v.name} misses ${n.name} input ${i}`);
      if (!v.producer && !v.const && !v.isGraphInput) {
        fail(`node ${n.name} (${n.op}) reads ${v.name}, which no node produces and is neither a graph input nor an initializer`, 'the model is incomplete; re-export it');
      }
      if (v.producer && !nodeSet.has(v.producer)) fail(`${v.name} is produced by a node that was removed`);
    });
    for (const v of n.outputs) {
      check(v);
      if (v.producer !== n) fail(`${v.name} is an output of ${n.name} but its producer is ${v.producer?.name ?? 'nothing'}`);
      if (v.const) fail(`${v.name} is both an initializer and the output of ${n.name}`);
    }
  }
  const implicitOf = new Map<Node, Set<Value>>();
  for (const v of g.allValues()) {
    check(v);
    for (const u of v.uses) {
      if (!nodeSet.has(u.node)) fail(`${v.name} lists a use by ${u.node.name}, which is not in the graph`);
      if (u.index >= 0 && u.node.inputs[u.index] !== v) fail(`${v.name} lists ${u.node.name} input ${u.index}, which reads something else`);
      if (u.index < 0 && !(implicitOf.get(u.node) ?? implicitOf.set(u.node, new Set(u.node.implicitInputs)).get(u.node)!).has(v)) fail(`${v.name} lists an implicit use by ${u.node.name} that it does not have`);
    }
    if (v.producer && !nodeSet.has(v.producer)) fail(`${v.name} names a producer that is not in the graph`);
  }
  for (const v of g.outputs) {
    if (!v.producer && !v.const && !v.isGraphInput) fail(`graph output ${v.name} is produced by nothing`);
  }
  // Acyclic: a toposort of a copy of the order must succeed.
  const saved: Node[] = g.nodes;
  toposortGraph(g);
  g.nodes = saved;
}
