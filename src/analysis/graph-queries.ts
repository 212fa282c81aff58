/** Small structural queries shared by the analyses and passes. */
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';

/**
 * True when `v` depends on no graph input (it is an initializer or computed
 * from initializers only). Iterative post-order walk (no recursion: a chain of
 * 100k nodes must not overflow the stack), each value decided once through
 * `memo` (share it across calls to stay linear over a whole graph). A value on
 * a cycle counts as not constant.
 */
export function isConstDerived(v: Value, memo = new Map<Value, boolean>()): boolean {
  const known = memo.get(v);
  if (known !== undefined) return known;
  const onPath = new Set<Value>();
  const stack: Value[] = [v];
  while (stack.length) {
    const x = stack[stack.length - 1]!;
    if (memo.has(x)) {
      stack.pop();
      continue;
    }
    if (x.const || !x.producer) {
      memo.set(x, !!x.const);
      stack.pop();
      continue;
    }
    const deps = [...x.producer.inputs, ...x.producer.implicitInputs].filter((i): i is Value => !!i);
    if (!onPath.has(x)) {
      onPath.add(x);
      let pushed = false;
      for (const d of deps) {
        if (memo.has(d)) {
          if (memo.get(d) === false) break; // decided: not constant; no need to visit the rest
          continue;
        }
        if (onPath.has(d)) continue; // a cycle: resolved as false below
        stack.push(d);
        pushed = true;
      }
      if (pushed) continue;
    }
    // Every dependency is decided (or on a cycle, hence not constant).
    stack.pop();
    onPath.delete(x);
    memo.set(x, deps.every((d) => memo.get(d) === true));
  }
  return memo.get(v)!;
}

/** The initializers a const-derived value is computed from. */
export function constSources(v: Value): Value[] {
  const out = new Set<Value>();
  const stack = [v];
  const seen = new Set<Value>();
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.const) out.add(x);
    else if (x.producer) for (const i of x.producer.inputs) if (i) stack.push(i);
  }
  return [...out];
}

/**
 * The non-constant values feeding the sub-DAG that computes `v`, stopping at
 * `stopAt`. Used to ask "is this value a function of E alone?".
 */
export function frontier(v: Value, stopAt?: Value, limit = 64): { sources: Set<Value>; nodes: Node[] } {
  const sources = new Set<Value>();
  const nodes: Node[] = [];
  const seenNodes = new Set<Node>();
  const stack = [v];
  const cmemo = new Map<Value, boolean>();
  while (stack.length) {
    const x = stack.pop()!;
    if (isConstDerived(x, cmemo)) continue;
    const p = x.producer;
    if (!p || x === stopAt || nodes.length >= limit) {
      sources.add(x);
      continue;
    }
    if (seenNodes.has(p)) continue;
    seenNodes.add(p);
    nodes.push(p);
    for (const i of p.inputs) if (i) stack.push(i);
  }
  return { sources, nodes };
}

/** The single node consuming `v` (and `v` is not a graph output), else undefined. */
export function soleConsumer(v: Value): Node | undefined {
  return v.onlyConsumer;
}

export function nodesByOp(g: Graph, ...ops: string[]): Node[] {
  return g.nodes.filter((n) => ops.includes(n.op) && (n.domain === '' || n.domain === 'ai.onnx'));
}

/** A static (all-number) shape, or undefined. */
export function staticShape(v: Value | null | undefined): number[] | undefined {
  if (!v?.shape) return undefined;
  return v.shape.every((d) => typeof d === 'number') ? (v.shape as number[]) : undefined;
}
