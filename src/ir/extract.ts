/**
 * Extracting the subgraph that computes chosen values.
 *
 * For target values T (the new graph outputs):
 *   kept     = ancestors(T): the nodes from which some t in T is reached
 *   needed   = T  U  { every input or implicit input of a kept node }
 *   dropped  = the other nodes
 *   inputs  := the graph inputs in `needed` (in their order; a label input only
 *              the dropped nodes read goes, and so does an initializer listed as
 *              an input that only they read)
 *   outputs := T
 * then the graph's dead-code cleanup removes the dropped nodes and the values
 * and initializers nothing uses any more. Nothing is computed or renamed: the
 * values of T are bit-identical to what the whole graph gives.
 *
 * `planSubgraph` answers the same questions without changing the graph (what
 * findHead reports as "the head"); `extractSubgraph` applies them.
 */
import type { Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import { ancestors } from './traverse.js';
import type { Value } from './value.js';

export interface SubgraphPlan {
  readonly outputs: readonly Value[];
  /** Nodes needed for the outputs, and the rest (both in graph order). */
  readonly kept: ReadonlySet<Node>;
  readonly dropped: readonly Node[];
  /** Values the kept nodes read, and the outputs. */
  readonly needed: ReadonlySet<Value>;
  /** Graph inputs no kept node reads. */
  readonly inputsDropped: readonly Value[];
  /** Initializers read by dropped nodes and by no kept node. */
  readonly constsDropped: readonly Value[];
}

export function planSubgraph(g: Graph, outputs: readonly Value[]): SubgraphPlan {
  const kept = ancestors(g, outputs);
  const needed = new Set<Value>(outputs);
  for (const n of kept) for (const v of [...n.inputs, ...n.implicitInputs]) if (v) needed.add(v);
  const dropped = g.nodes.filter((n) => !kept.has(n));
  const consts = new Set<Value>();
  for (const n of dropped) for (const v of n.inputs) if (v?.const && !needed.has(v)) consts.add(v);
  return { outputs, kept, dropped, needed, inputsDropped: g.inputs.filter((v) => !needed.has(v)), constsDropped: [...consts] };
}

export interface ExtractReport {
  readonly nodesRemoved: number;
  readonly initializersRemoved: number;
  /** Bytes of the initializers only the dropped nodes read (now gone). */
  readonly bytesRemoved: number;
  readonly inputsRemoved: readonly string[];
  readonly outputsRemoved: readonly string[];
}

/** Cut `model` (in place) down to what `outputs` need; see the module comment. */
export function extractSubgraph(model: Model | Graph, outputs: readonly (Value | string)[]): ExtractReport {
  const g = 'graph' in model ? model.graph : model;
  const targets = outputs.map((o) => (typeof o === 'string' ? g.requireValue(o) : o));
  const plan = planSubgraph(g, targets);
  const outputsRemoved = g.outputs.filter((v) => !targets.includes(v)).map((v) => v.name);
  g.inputs = g.inputs.filter((v) => plan.needed.has(v));
  g.outputs = [...targets];
  const c = g.cleanup();
  const gone = plan.constsDropped.filter((v) => g.value(v.name) !== v);
  return {
    nodesRemoved: c.nodesRemoved,
    initializersRemoved: c.initializersRemoved,
    bytesRemoved: gone.reduce((s, v) => s + v.const!.byteLength, 0),
    inputsRemoved: plan.inputsDropped.map((v) => v.name),
    outputsRemoved,
  };
}
