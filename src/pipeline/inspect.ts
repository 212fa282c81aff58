/**
 * `inspect`: what a model is, what its head is, and what every BN will become.
 * Works on a copy of the facts; the model is not changed except for shape
 * annotations added to values whose shapes were unknown.
 */
import { cloneModel } from '../ir/clone.js';
import { silentLogger } from '../log.js';
import { shapeSubgraphs } from '../passes/shape-subgraphs.js';
import { dtypeName, isFloat } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { inferShapes } from '../ir/shape-infer.js';
import type { Dim, Value } from '../ir/value.js';
import { classifyBatchNorms, type BnFinding } from '../analysis/batchnorm.js';
import { countFlops } from '../analysis/flops.js';
import { findHead, type HeadInfo } from '../analysis/head.js';

export interface TensorSummary {
  readonly name: string;
  readonly dtype: string;
  readonly shape: Dim[] | null;
}

export interface InspectReport {
  readonly model: { path: string | null; bytes: number; irVersion: number; opset: number | null; producer: string };
  readonly inputs: TensorSummary[];
  readonly outputs: TensorSummary[];
  readonly ops: Record<string, number>;
  readonly nodes: number;
  readonly parameters: number;
  readonly parameterBytes: number;
  readonly batchNorms: BnFinding[];
  readonly head: HeadInfo;
  readonly flops: number;
  readonly warnings: string[];
}

export interface InspectOptions {
  /** Tensor to treat as the embedding instead of detecting the head. */
  embedding?: string;
}

const summary = (v: Value): TensorSummary => ({ name: v.name, dtype: v.dtype === undefined ? 'unknown' : dtypeName(v.dtype), shape: v.shape ?? null });

export function inspect(model: Model, options: InspectOptions = {}): InspectReport {
  const g = model.graph;
  inferShapes(g);
  const ops: Record<string, number> = {};
  for (const n of g.nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.op}` : n.op;
    ops[key] = (ops[key] ?? 0) + 1;
  }
  let parameters = 0;
  let parameterBytes = 0;
  for (const v of g.initializers()) {
    if (isFloat(v.const!.dtype)) parameters += v.const!.size;
    parameterBytes += v.const!.byteLength;
  }
  if (options.embedding && !g.value(options.embedding)) {
    // Reported in head.reason; the CLI turns it into a usage error.
  }
  return {
    model: {
      path: model.path ?? null,
      bytes: model.fileBytes,
      irVersion: model.irVersion,
      opset: model.opset('') ?? null,
      producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    },
    inputs: g.realInputs().map(summary),
    outputs: g.outputs.map(summary),
    ops: Object.fromEntries(Object.entries(ops).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    nodes: g.nodes.length,
    parameters,
    parameterBytes,
    batchNorms: classifyBatchNorms(g),
    head: headOf(model, options.embedding),
    flops: countFlops(g),
    warnings: [...model.warnings],
  };
}

/**
 * The head as the export finds it: on a copy whose shape arithmetic (dynamic flatten,
 * Shape subgraphs) the shape-subgraphs pass has evaluated, so [N, D] shapes are known;
 * node and tensor names are those of the model. The model itself is not changed.
 */
function headOf(model: Model, embedding?: string): HeadInfo {
  if (!model.graph.nodes.some((n) => n.op === 'Shape')) return findHead(model.graph, embedding);
  const copy = cloneModel(model);
  try {
    shapeSubgraphs.run(copy, {}, { log: silentLogger });
  } catch {
    return findHead(model.graph, embedding);
  }
  return findHead(copy.graph, embedding);
}

const fmtShape = (s: Dim[] | null) => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '[?]');
export const fmtBytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`;
};

/** The human-readable form of an inspect report. */
export function formatInspect(r: InspectReport): string {
  const lines: string[] = [];
  lines.push(`${r.model.path ?? '<model>'}  (${fmtBytes(r.model.bytes)}, IR ${r.model.irVersion}, opset ${r.model.opset ?? '?'}${r.model.producer ? `, ${r.model.producer}` : ''})`);
  for (const i of r.inputs) lines.push(`  input   ${i.name}: ${i.dtype}${fmtShape(i.shape)}`);
  for (const o of r.outputs) lines.push(`  output  ${o.name}: ${o.dtype}${fmtShape(o.shape)}`);
  lines.push(`  ${r.nodes} nodes, ${r.parameters.toLocaleString('en-US')} parameters (${fmtBytes(r.parameterBytes)}), ${(r.flops / 1e6).toFixed(1)} MFLOPs per image`);
  lines.push(`  ops: ${Object.entries(r.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const h = r.head;
  if (h.found) {
    lines.push(`head: ${h.description ?? 'classifier'}: ${h.classes} classes x ${h.featureDim}-d (${h.weightLayout}, weight ${h.weight}, ${fmtBytes(h.bytes ?? 0)}), ${h.nodes.length} nodes${h.normalization ? ` after ${h.normalization}` : ''}`);
    lines.push(`  embedding: ${h.embedding}${h.headInputs.length ? `; head-only inputs: ${h.headInputs.join(', ')}` : ''}`);
  } else {
    lines.push(`head: none found (${h.reason ?? 'the graph ends at its embedding'})${h.embedding ? `; embedding: ${h.embedding}` : ''}`);
  }
  if (r.batchNorms.length) {
    const counts = new Map<string, number>();
    for (const b of r.batchNorms) counts.set(`${b.pattern}${b.foldable ? '' : ' (not foldable)'}`, (counts.get(`${b.pattern}${b.foldable ? '' : ' (not foldable)'}`) ?? 0) + 1);
    lines.push(`batch-norms: ${r.batchNorms.length} (${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')})`);
    for (const b of r.batchNorms.filter((x) => !x.foldable)) lines.push(`  ${b.node}: ${b.pattern}: ${b.reason}`);
  } else lines.push('batch-norms: none');
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
