/**
 * Deep copy of a model's graph structure. Tensor data is shared (TensorData is
 * immutable; passes replace it, never write into it), so a clone is cheap even
 * for large models.
 */
import { Graph } from './graph.js';
import { Model } from './model.js';
import type { Value } from './value.js';

/** ModelProto fields a clone shares as they are (scalars, and decoded protos sf2-export never edits). */
const SHARED_FIELDS = ['irVersion', 'producerName', 'producerVersion', 'domain', 'modelVersion', 'docString', 'functions', 'trainingInfo', 'path', 'fileBytes'] as const;

export function cloneModel(m: Model): Model {
  const out = new Model(cloneGraph(m.graph));
  const shared: Pick<Model, (typeof SHARED_FIELDS)[number]> = m;
  for (const k of SHARED_FIELDS) Object.assign(out, { [k]: shared[k] });
  out.opsetImports = m.opsetImports.map((o) => ({ ...o }));
  out.metadataProps = m.metadataProps.map((p) => ({ ...p }));
  out.warnings = [...m.warnings];
  return out;
}

export function cloneGraph(g: Graph): Graph {
  const c = new Graph();
  c.name = g.name;
  c.docString = g.docString;
  c.sparseInitializers = g.sparseInitializers;
  c.quantizationAnnotation = g.quantizationAnnotation;
  const map = new Map<Value, Value>();
  for (const v of g.allValues()) {
    const nv = c.addValue(v.name, { exact: true, dtype: v.dtype, shape: v.shape ? [...v.shape] : undefined });
    nv.const = v.const;
    nv.docString = v.docString;
    nv.placeholder = v.placeholder;
    map.set(v, nv);
  }
  for (const n of g.nodes) {
    const nn = c._addImportedNode(n.op, n.domain, n.name);
    nn.docString = n.docString;
    for (const [k, a] of n.attrs) nn.attrs.set(k, a);
    for (const o of n.outputs) nn._addOutput(map.get(o)!);
  }
  g.nodes.forEach((n, k) => {
    const nn = c.nodes[k]!;
    n.inputs.forEach((v, i) => nn.setInput(i, v ? map.get(v)! : null));
    for (const v of n.implicitInputs) nn.addImplicitInput(map.get(v)!);
  });
  c.inputs = g.inputs.map((v) => map.get(v)!);
  c.outputs = g.outputs.map((v) => map.get(v)!);
  return c;
}
