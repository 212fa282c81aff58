/**
 * A node: an op with ordered inputs (a missing optional input is null), outputs
 * it produces, and attributes. Input edges go through setInput, which keeps the
 * consumer lists of the values in sync.
 */
import { InputError } from '../errors.js';
import type { Attribute, AttributeWithDoc } from './attribute.js';
import type { Graph } from './graph.js';
import type { Value } from './value.js';

export class Node {
  readonly graph: Graph;
  op: string;
  domain: string;
  name: string;
  docString = '';
  /** Raw `overload` and other fields are not known to onnx-proto; nothing else to keep. */
  readonly attrs = new Map<string, AttributeWithDoc>();
  private readonly _inputs: (Value | null)[] = [];
  private readonly _outputs: Value[] = [];
  /** Outer-scope values read by subgraph attributes (If/Loop/Scan bodies). */
  private readonly _implicit: Value[] = [];

  /** @internal created by Graph.addNode */
  constructor(graph: Graph, op: string, domain: string, name: string) {
    this.graph = graph;
    this.op = op;
    this.domain = domain;
    this.name = name;
  }

  get inputs(): readonly (Value | null)[] {
    return this._inputs;
  }
  get outputs(): readonly Value[] {
    return this._outputs;
  }
  get implicitInputs(): readonly Value[] {
    return this._implicit;
  }

  input(i: number): Value | null {
    return this._inputs[i] ?? null;
  }
  output(i = 0): Value {
    const v = this._outputs[i];
    if (!v) throw new Error(`node ${this.name} (${this.op}) has no output ${i}`);
    return v;
  }

  /** Set input slot i (appending when i equals the count), keeping use lists in sync. */
  setInput(i: number, v: Value | null): void {
    if (i > this._inputs.length) throw new Error(`setInput(${i}) past the end of ${this.name}'s inputs`);
    const old = this._inputs[i];
    if (old) removeUse(old, this, i);
    this._inputs[i] = v;
    if (v) v.uses.push({ node: this, index: i });
  }

  /** Replace all inputs. */
  setInputs(values: readonly (Value | null)[]): void {
    this.clearInputs();
    values.forEach((v, i) => this.setInput(i, v));
  }

  /** Drop trailing inputs from index `count` on. */
  truncateInputs(count: number): void {
    while (this._inputs.length > count) {
      const i = this._inputs.length - 1;
      const old = this._inputs[i];
      if (old) removeUse(old, this, i);
      this._inputs.pop();
    }
  }

  clearInputs(): void {
    this.truncateInputs(0);
    for (const v of this._implicit) removeUse(v, this, -1);
    this._implicit.length = 0;
  }

  addImplicitInput(v: Value): void {
    if (this._implicit.includes(v)) return;
    this._implicit.push(v);
    v.uses.push({ node: this, index: -1 });
  }

  replaceImplicit(from: Value, to: Value): void {
    const k = this._implicit.indexOf(from);
    if (k < 0) return;
    removeUse(from, this, -1);
    this._implicit.splice(k, 1);
    if (from.name !== to.name) {
      throw new Error(`cannot replace ${from.name}: subgraph attributes of ${this.name} refer to it by name`);
    }
    this.addImplicitInput(to);
  }

  /** @internal used by Graph when wiring outputs */
  _addOutput(v: Value): void {
    if (v.producer) throw new InputError('graph-invalid', `value ${v.name} is produced by both ${v.producer.name} and ${this.name}`);
    v.producer = this;
    this._outputs.push(v);
  }

  /** @internal used by Graph.removeNode */
  _detachOutputs(): void {
    for (const v of this._outputs) if (v.producer === this) v.producer = null;
    this._outputs.length = 0;
  }

  // ---- attribute helpers ----------------------------------------------------

  attr(name: string): AttributeWithDoc | undefined {
    return this.attrs.get(name);
  }
  setAttr(name: string, a: Attribute): void {
    this.attrs.set(name, a);
  }

  attrInt(name: string, dflt: number): number;
  attrInt(name: string): number | undefined;
  attrInt(name: string, dflt?: number): number | undefined {
    const a = this.attrs.get(name);
    if (!a) return dflt;
    if (a.type !== 'INT') throw this.attrTypeError(name, 'INT', a.type);
    return safeNumber(a.value, this, name);
  }

  attrInts(name: string, dflt: readonly number[]): number[];
  attrInts(name: string): number[] | undefined;
  attrInts(name: string, dflt?: readonly number[]): number[] | undefined {
    const a = this.attrs.get(name);
    if (!a) return dflt ? [...dflt] : undefined;
    if (a.type !== 'INTS') throw this.attrTypeError(name, 'INTS', a.type);
    return a.value.map((x) => safeNumber(x, this, name));
  }

  attrFloat(name: string, dflt: number): number;
  attrFloat(name: string): number | undefined;
  attrFloat(name: string, dflt?: number): number | undefined {
    const a = this.attrs.get(name);
    if (!a) return dflt;
    if (a.type !== 'FLOAT') throw this.attrTypeError(name, 'FLOAT', a.type);
    return a.value;
  }

  attrFloats(name: string): number[] | undefined {
    const a = this.attrs.get(name);
    if (!a) return undefined;
    if (a.type !== 'FLOATS') throw this.attrTypeError(name, 'FLOATS', a.type);
    return [...a.value];
  }

  attrString(name: string, dflt: string): string;
  attrString(name: string): string | undefined;
  attrString(name: string, dflt?: string): string | undefined {
    const a = this.attrs.get(name);
    if (!a) return dflt;
    if (a.type !== 'STRING') throw this.attrTypeError(name, 'STRING', a.type);
    return new TextDecoder().decode(a.value);
  }

  private attrTypeError(name: string, want: string, got: string): InputError {
    return new InputError('attribute', `node ${this.name} (${this.op}): attribute ${name} is ${got}, expected ${want}`);
  }

  toString(): string {
    const ins = this._inputs.map((v) => (v ? v.name : '')).join(', ');
    const outs = this._outputs.map((v) => v.name).join(', ');
    return `${outs} = ${this.op}(${ins})  # ${this.name}`;
  }
}

function removeUse(v: Value, node: Node, index: number): void {
  const k = v.uses.findIndex((u) => u.node === node && u.index === index);
  if (k >= 0) v.uses.splice(k, 1);
}

function safeNumber(x: bigint, node: Node, name: string): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (x < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  void node;
  void name;
  return Number(x);
}
