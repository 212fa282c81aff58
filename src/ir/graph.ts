/**
 * The graph IR, in the spirit of onnx-graphsurgeon: edit freely (add nodes,
 * rewire inputs, replace uses), then `cleanup()` and `toposort()`. Values are
 * objects, never positions; equality is identity, never name.
 *
 * Invariants (checked by `verify`): one producer per value, use lists match node
 * inputs, names unique, acyclic, every input is a graph input, an initializer or
 * a node output.
 */
import type { onnx } from 'onnx-proto';
import type { AttributeWithDoc } from './attribute.js';
import { Node } from './node.js';
import { TensorData } from './tensor.js';
import { Value, type Dim } from './value.js';
import { cleanupGraph, type CleanupReport } from './cleanup.js';
import { toposortGraph } from './traverse.js';
import { verifyGraph } from './verify.js';

export interface NodeSpec {
  op: string;
  inputs: readonly (Value | null)[];
  /** Output values to create (names are made unique) or existing values without a producer. */
  outputs?: readonly (string | Value)[];
  attrs?: Readonly<Record<string, AttributeWithDoc>>;
  name?: string;
  domain?: string;
  /** Insert the node right before this one in the node list (toposort fixes order anyway). */
  before?: Node;
}

export class Graph {
  name = '';
  docString = '';
  nodes: Node[] = [];
  inputs: Value[] = [];
  outputs: Value[] = [];
  /** Kept as decoded: sparse initializers and quantization annotations are not edited. */
  sparseInitializers: onnx.ISparseTensorProto[] = [];
  quantizationAnnotation: onnx.ITensorAnnotation[] = [];
  private readonly byName = new Map<string, Value>();
  private readonly nodeNames = new Set<string>();
  private counter = 0;

  /** Values by name, including those no node uses any more. */
  value(name: string): Value | undefined {
    return this.byName.get(name);
  }

  requireValue(name: string): Value {
    const v = this.byName.get(name);
    if (!v) throw new Error(`no value named ${name}`);
    return v;
  }

  allValues(): IterableIterator<Value> {
    return this.byName.values();
  }

  /** Initializers: values with constant data. */
  initializers(): Value[] {
    return [...this.byName.values()].filter((v) => v.const !== null);
  }

  /** Graph inputs that are not initializers (what a caller must feed). */
  realInputs(): Value[] {
    return this.inputs.filter((v) => v.const === null);
  }

  uniqueName(base: string): string {
    if (!this.byName.has(base) && !this.nodeNames.has(base)) return base;
    for (;;) {
      const n = `${base}_${++this.counter}`;
      if (!this.byName.has(n) && !this.nodeNames.has(n)) return n;
    }
  }

  /** Create a value. With `exact`, the name must be free (as on import). */
  addValue(name: string, opts: { dtype?: number; shape?: Dim[]; exact?: boolean } = {}): Value {
    if (opts.exact && this.byName.has(name)) throw new Error(`value name ${name} is used twice`);
    const v = new Value(this, opts.exact ? name : this.uniqueName(name));
    v.dtype = opts.dtype;
    v.shape = opts.shape;
    this.byName.set(v.name, v);
    return v;
  }

  /** Add an initializer. */
  addConstant(name: string, data: TensorData): Value {
    const v = this.addValue(name, { dtype: data.dtype, shape: [...data.dims] });
    v.const = data;
    return v;
  }

  rename(v: Value, name: string): void {
    if (v.name === name) return;
    if (this.byName.has(name)) throw new Error(`cannot rename ${v.name} to ${name}: the name is taken`);
    for (const u of v.uses) if (u.index < 0) throw new Error(`cannot rename ${v.name}: a subgraph of ${u.node.name} refers to it by name`);
    this.byName.delete(v.name);
    v.name = name;
    this.byName.set(name, v);
  }

  /** Forget a value that nothing produces, uses or lists. */
  deleteValue(v: Value): void {
    if (v.uses.length || v.producer || v.isGraphInput || v.isGraphOutput) {
      throw new Error(`cannot delete ${v.name}: it is still connected`);
    }
    this.byName.delete(v.name);
  }

  addNode(spec: NodeSpec): Node {
    const name = this.uniqueNodeName(spec.name ?? spec.op);
    const node = new Node(this, spec.op, spec.domain ?? '', name);
    for (const [k, a] of Object.entries(spec.attrs ?? {})) node.attrs.set(k, a);
    spec.inputs.forEach((v, i) => node.setInput(i, v));
    for (const o of spec.outputs ?? [`${name}_out`]) node._addOutput(typeof o === 'string' ? this.addValue(o) : o);
    const at = spec.before ? this.nodes.indexOf(spec.before) : -1;
    if (at >= 0) this.nodes.splice(at, 0, node);
    else this.nodes.push(node);
    return node;
  }

  /** @internal for the importer: names kept exactly. */
  _addImportedNode(op: string, domain: string, name: string): Node {
    if (name) this.nodeNames.add(name);
    const node = new Node(this, op, domain, name);
    this.nodes.push(node);
    return node;
  }

  uniqueNodeName(base: string): string {
    let n = base;
    while (this.nodeNames.has(n) || n === '') n = `${base || 'node'}_${++this.counter}`;
    this.nodeNames.add(n);
    return n;
  }

  /** Remove a node: its inputs forget it, its outputs lose their producer. */
  removeNode(node: Node): void {
    const i = this.nodes.indexOf(node);
    if (i < 0) return;
    this.nodes.splice(i, 1);
    node.clearInputs();
    node._detachOutputs();
    this.nodeNames.delete(node.name);
  }

  /**
   * Bypass a single-input-pass-through node (Identity, Dropout, no-op Reshape):
   * consumers of its output read `replacement` instead, then the node goes.
   * If its output is a graph output, the replacement takes the output's name
   * when the replacement itself is not an input or output of the graph.
   */
  bypass(node: Node, replacement: Value): void {
    const out = node.output(0);
    if (out.isGraphOutput && !replacement.isGraphInput && !replacement.isGraphOutput && !replacement.isConst) {
      const keep = out.name;
      out.replaceAllUsesWith(replacement);
      this.removeNode(node);
      this.deleteValue(out);
      if (replacement.uses.every((u) => u.index >= 0)) this.rename(replacement, keep);
      replacement.dtype ??= out.dtype;
      replacement.shape ??= out.shape;
      return;
    }
    out.replaceAllUsesWith(replacement);
    this.removeNode(node);
  }

  toposort(): this {
    toposortGraph(this);
    return this;
  }

  /** Remove dead nodes and unused values/initializers. Never removes a graph output. */
  cleanup(): CleanupReport {
    return cleanupGraph(this);
  }

  /** Throw if an invariant does not hold. */
  verify(): void {
    verifyGraph(this);
  }

  /** Does a path lead from `from` to `to` (through node edges)? */
  reaches(from: Value, to: Value): boolean {
    const seen = new Set<Value>();
    const stack = [from];
    while (stack.length) {
      const v = stack.pop()!;
      if (v === to) return true;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const u of v.uses) stack.push(...u.node.outputs);
    }
    return false;
  }
}
