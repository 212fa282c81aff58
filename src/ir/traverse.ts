/**
 * Topological order (Kahn's algorithm, stable: among ready nodes the one that
 * came first in the current order goes first, so sorting a sorted graph is a
 * no-op and output is deterministic).
 */
import { InputError } from '../errors.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';

export function toposortGraph(g: Graph): void {
  const order = new Map<Node, number>();
  g.nodes.forEach((n, i) => order.set(n, i));
  const pending = new Map<Node, number>();
  const ready: Node[] = [];
  for (const n of g.nodes) {
    const deps = new Set<Node>();
    for (const v of [...n.inputs, ...n.implicitInputs]) if (v?.producer && order.has(v.producer)) deps.add(v.producer);
    pending.set(n, deps.size);
    if (deps.size === 0) ready.push(n);
  }
  // A binary heap on original position keeps this O(n log n) and stable.
  const heap = new MinHeap<Node>((a, b) => order.get(a)! - order.get(b)!);
  for (const n of ready) heap.push(n);
  const out: Node[] = [];
  while (heap.size) {
    const n = heap.pop()!;
    out.push(n);
    const next = new Set<Node>();
    for (const v of n.outputs) for (const u of v.uses) next.add(u.node);
    for (const m of next) {
      const left = pending.get(m)! - 1;
      pending.set(m, left);
      if (left === 0) heap.push(m);
    }
  }
  if (out.length !== g.nodes.length) {
    const stuck = g.nodes.filter((n) => !out.includes(n)).slice(0, 3).map((n) => n.name || n.op);
    throw new InputError('graph-cycle', `the graph has a cycle through ${stuck.join(', ')}`, 'a valid ONNX graph is acyclic; re-export the model');
  }
  g.nodes = out;
}

/** Nodes from which `targets` can be reached, in graph order. */
export function ancestors(g: Graph, targets: Iterable<import('./value.js').Value>): Set<Node> {
  const live = new Set<Node>();
  const stack = [...targets];
  const seen = new Set(stack);
  while (stack.length) {
    const v = stack.pop()!;
    const p = v.producer;
    if (!p || live.has(p)) continue;
    live.add(p);
    for (const i of [...p.inputs, ...p.implicitInputs]) if (i && !seen.has(i)) { seen.add(i); stack.push(i); }
  }
  void g;
  return live;
}

class MinHeap<T> {
  private readonly a: T[] = [];
  constructor(private readonly cmp: (x: T, y: T) => number) {}
  get size(): number {
    return this.a.length;
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(a[i]!, a[p]!) >= 0) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.cmp(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.cmp(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
