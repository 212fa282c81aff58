/**
 * A value (ONNX "tensor name"): produced by at most one node or given as a
 * graph input or initializer, consumed by any number of nodes. The links are
 * kept in sync by Node.setInput and Graph: never edit `uses` or `producer` by hand.
 */
import type { Node } from './node.js';
import type { Graph } from './graph.js';
import type { TensorData } from './tensor.js';

/** A dimension: a number, a symbolic name ("N"), or null when unknown. */
export type Dim = number | string | null;

export interface Use {
  readonly node: Node;
  /** Input slot, or -1 for an implicit use from inside a subgraph attribute. */
  readonly index: number;
}

export class Value {
  readonly graph: Graph;
  /** Unique within the graph; rename only through Graph.rename. */
  name: string;
  dtype: number | undefined;
  shape: Dim[] | undefined;
  docString = '';
  /** An omitted optional output (written as '' in ONNX) while nothing uses it. */
  placeholder = false;
  /** Set for initializers (constant data). */
  const: TensorData | null = null;
  producer: Node | null = null;
  readonly uses: Use[] = [];

  /** @internal created by Graph only */
  constructor(graph: Graph, name: string) {
    this.graph = graph;
    this.name = name;
  }

  get isConst(): boolean {
    return this.const !== null;
  }
  get isGraphInput(): boolean {
    return this.graph.inputs.includes(this);
  }
  get isGraphOutput(): boolean {
    return this.graph.outputs.includes(this);
  }
  /** Consumer nodes, each once. */
  get consumers(): Node[] {
    return [...new Set(this.uses.map((u) => u.node))];
  }
  /** The single consumer node, or undefined when there are none or several, or the value is a graph output. */
  get onlyConsumer(): Node | undefined {
    const c = this.consumers;
    return c.length === 1 && !this.isGraphOutput ? c[0] : undefined;
  }

  /** Point every use (and graph output slot) of this value at `other`. */
  replaceAllUsesWith(other: Value): void {
    if (other === this) return;
    for (const u of [...this.uses]) {
      if (u.index >= 0) u.node.setInput(u.index, other);
      else u.node.replaceImplicit(this, other);
    }
    const outs = this.graph.outputs;
    for (let i = 0; i < outs.length; i++) if (outs[i] === this) outs[i] = other;
  }

  toString(): string {
    return `%${this.name}`;
  }
}
