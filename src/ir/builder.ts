/**
 * A small graph builder: add inputs, constants and nodes in forward order and
 * get the output Value back, with shapes known to the caller. Names are made
 * unique by the Graph; initializers keep the names given (state_dict keys).
 */
import type { AttributeWithDoc } from './attribute.js';
import { DType } from './dtype.js';
import { Graph } from './graph.js';
import type { TensorData } from './tensor.js';
import type { Dim, Value } from './value.js';

export class GraphBuilder {
  constructor(readonly graph: Graph = new Graph()) {}

  input(name: string, shape: Dim[], dtype: number = DType.FLOAT): Value {
    const v = this.graph.addValue(name, { dtype, shape, exact: true });
    this.graph.inputs.push(v);
    return v;
  }

  constant(name: string, data: TensorData): Value {
    return this.graph.addConstant(name, data);
  }

  /** One node with one output of the given shape; `name` is the node name (the output is `<name>_output_0`). */
  op(op: string, inputs: readonly (Value | null)[], shape: Dim[] | undefined, name: string, attrs: Readonly<Record<string, AttributeWithDoc>> = {}, dtype: number = DType.FLOAT): Value {
    const out = this.graph.addValue(`${name}_output_0`, { dtype, shape });
    this.graph.addNode({ op, inputs, outputs: [out], attrs, name });
    return out;
  }

  /** Make `v` a graph output under `name` (renamed when the name is free). */
  output(v: Value, name?: string): Value {
    if (name && v.name !== name && !this.graph.value(name)) this.graph.rename(v, name);
    this.graph.outputs.push(v);
    return v;
  }
}
