/**
 * A small graph builder: add inputs, constants and nodes in forward order and
 * get the output Value back, with shapes known to the caller. Names are made
 * unique by the Graph; initializers keep the names given (state_dict keys).
 * `model(opset)` wraps the graph as a Model importing the default ONNX domain.
 * Used by the .pth importer (src/pth/) and the tests' small graphs.
 *
 *   const b = new GraphBuilder();
 *   const x = b.input('x', ['N', 3, 8, 8]);
 *   const y = b.node('Conv', [x, b.floats('w', [4, 3, 3, 3], w)], { kernel_shape: attr.ints([3, 3]) });
 *   b.output(y);
 *   const model = b.model(13);
 */
import type { AttributeWithDoc } from './attribute.js';
import { DType } from './dtype.js';
import { Graph, type NodeSpec } from './graph.js';
import { Model } from './model.js';
import { TensorData } from './tensor.js';
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

  /** A float32 initializer of shape `dims`. */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): Value {
    return this.constant(name, TensorData.float32(dims, values));
  }

  /** An int64 initializer of shape `dims` (default: a 1-D list of `values`). */
  int64s(name: string, values: readonly (number | bigint)[], dims: readonly number[] = [values.length]): Value {
    return this.constant(name, TensorData.int64(dims, values));
  }

  /**
   * One node as Graph.addNode adds it (outputs `<node name>_out` unless named in
   * `spec.outputs`, shapes left to inference); returns its first output.
   */
  node(op: string, inputs: readonly (Value | null)[], attrs: Readonly<Record<string, AttributeWithDoc>> = {}, spec: Omit<NodeSpec, 'op' | 'inputs' | 'attrs'> = {}): Value {
    return this.graph.addNode({ ...spec, op, inputs, attrs }).output(0);
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

  /** The graph as a new Model importing the default ONNX domain at `opset`. */
  model(opset = 17): Model {
    const m = new Model(this.graph);
    m.opsetImports = [{ domain: '', version: opset }];
    return m;
  }
}
