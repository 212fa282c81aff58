/**
 * Finding the SphereFace2 head and the raw embedding it reads.
 *
 * SphereFace2's training head computes, after the backbone's embedding E:
 *     cos    = normalize(E) @ normalize(W)          W: (D x C) or (C x D)
 *     logits = r * (g(cos) [- m ...]) + b          elementwise ops
 * (../shared/docs/sphereface2.md). So the head starts at a MatMul or Gemm whose
 * one operand is constant (derived from initializers only) and whose other
 * operand is an L2 normalization of E. Normalization is recognized by what it
 * computes, not how it is spelled: LpNormalization(E, p=2), or a Div(E, s) /
 * Mul(E, s) where s is computed from E alone through a sum-of-squares or L2
 * reduction (ReduceL2; ReduceSumSquare or ReduceSum(E*E) or Pow(E,2) then Sqrt;
 * Clip / Max / Add for the epsilon; Expand; Reciprocal).
 *
 * The embedding is E; the head is every node not needed to compute E.
 */
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { ancestors } from '../ir/traverse.js';
import { constSources, frontier, isConstDerived } from './graph-queries.js';

export interface HeadInfo {
  readonly found: boolean;
  /** Name of the class-weight initializer (the largest constant feeding the class MatMul/Gemm). */
  readonly weight?: string;
  readonly weightLayout?: 'DxC' | 'CxD';
  readonly featureDim?: number;
  readonly classes?: number;
  /** Bytes of all initializers used only by the head. */
  readonly bytes?: number;
  /** The raw embedding tensor: the cut point. */
  readonly embedding?: string;
  /** The class-weight op (MatMul or Gemm). */
  readonly classifier?: string;
  /** The normalization's form, e.g. "LpNormalization" or "Div(ReduceL2)". */
  readonly normalization?: string;
  /** Head nodes (everything not needed for the embedding), in graph order. */
  readonly nodes: readonly string[];
  /** Graph inputs that only the head reads (a training export's label). */
  readonly headInputs: readonly string[];
  /** Why nothing was found, when found is false. */
  readonly reason?: string;
}

const REDUCTIONS = new Set(['ReduceL2', 'ReduceSumSquare', 'ReduceSum', 'LpNormalization', 'ReduceMean']);
const NORM_PATH_OPS = new Set([...REDUCTIONS, 'Sqrt', 'Pow', 'Mul', 'Clip', 'Max', 'Add', 'Expand', 'Reciprocal', 'Div', 'Cast', 'Identity', 'Unsqueeze', 'Squeeze', 'Reshape', 'Abs', 'Shape', 'Gather', 'Concat', 'Constant', 'ConstantOfShape', 'Sum']);

/** If `x` is an L2 normalization of some value E, return E and a description. */
export function matchL2Normalize(x: Value): { source: Value; form: string; nodes: Node[] } | undefined {
  const n = x.producer;
  if (!n) return undefined;
  if (n.op === 'LpNormalization' && n.attrInt('p', 2) === 2 && n.inputs[0]) {
    return { source: n.inputs[0], form: 'LpNormalization', nodes: [n] };
  }
  if ((n.op === 'Div' || n.op === 'Mul') && n.inputs[0] && n.inputs[1]) {
    for (const [e, s] of [[n.inputs[0], n.inputs[1]], [n.inputs[1], n.inputs[0]]] as const) {
      if (n.op === 'Div' && e !== n.inputs[0]) continue; // E / s, not s / E
      if (isConstDerived(e)) continue;
      const f = frontier(s, e);
      if (f.sources.size !== 1 || !f.sources.has(e)) continue;
      if (!f.nodes.every((m) => NORM_PATH_OPS.has(m.op))) continue;
      const reduction = f.nodes.find((m) => REDUCTIONS.has(m.op));
      if (!reduction) continue;
      if (n.op === 'Mul' && !f.nodes.some((m) => m.op === 'Reciprocal' || m.op === 'Div' || (m.op === 'Pow'))) continue;
      return { source: e, form: `${n.op}(${reduction.op})`, nodes: [n, ...f.nodes] };
    }
  }
  return undefined;
}

/** The activation operand and the constant operand of a class-weight MatMul/Gemm. */
function classOperands(n: Node): { act: Value; weight: Value } | undefined {
  if (n.op !== 'MatMul' && n.op !== 'Gemm') return undefined;
  const [a, b] = n.inputs;
  if (!a || !b) return undefined;
  const ca = isConstDerived(a), cb = isConstDerived(b);
  if (cb && !ca) return { act: a, weight: b };
  if (ca && !cb && n.op === 'MatMul') return { act: b, weight: a };
  return undefined;
}

export function findHead(g: Graph, override?: string): HeadInfo {
  if (override) {
    // The user names the cut. The head is whatever the cut removes; when the
    // detected classifier is among it, its facts (classes, weight) still apply.
    const auto = findHead(g);
    if (auto.found && auto.embedding === override) return auto;
    const cut = headFromEmbedding(g, override, {});
    if (!g.value(override)) return cut;
    const e = g.value(override)!;
    const d = typeof e.shape?.[e.shape.length - 1] === 'number' ? (e.shape![e.shape!.length - 1] as number) : undefined;
    const facts: Partial<HeadInfo> = auto.found && auto.classifier && cut.nodes.includes(auto.classifier)
      ? { weight: auto.weight, weightLayout: auto.weightLayout, classes: auto.classes, classifier: auto.classifier, normalization: auto.normalization }
      : {};
    return { ...cut, ...facts, featureDim: d ?? facts.featureDim, found: cut.nodes.length > 0 };
  }
  const candidates: { node: Node; act: Value; weight: Value; norm: NonNullable<ReturnType<typeof matchL2Normalize>> }[] = [];
  for (const n of g.nodes) {
    const ops = classOperands(n);
    if (!ops) continue;
    const norm = matchL2Normalize(ops.act);
    if (norm) candidates.push({ node: n, ...ops, norm });
  }
  if (candidates.length === 0) {
    const reason = 'no MatMul or Gemm with a constant weight reads an L2-normalized tensor';
    // Already head-free: a single 2-D output is the embedding.
    const only = g.outputs.length === 1 ? g.outputs[0]! : undefined;
    if (only?.shape?.length === 2) {
      const d = only.shape[1];
      return { found: false, nodes: [], headInputs: [], reason, embedding: only.name, ...(typeof d === 'number' ? { featureDim: d } : {}) };
    }
    return { found: false, nodes: [], headInputs: [], reason };
  }
  // The class weight is the biggest such matrix (a projection inside the head would be smaller).
  const size = (c: (typeof candidates)[number]) => constSources(c.weight).reduce((s, v) => s + v.const!.size, 0);
  candidates.sort((x, y) => size(y) - size(x));
  const best = candidates[0]!;
  const e = best.norm.source;
  const weightInit = constSources(best.weight).sort((x, y) => y.const!.size - x.const!.size)[0]!;
  const dims = weightInit.const!.dims;
  const d = typeof e.shape?.[e.shape.length - 1] === 'number' ? (e.shape![e.shape!.length - 1] as number) : undefined;
  let layout: 'DxC' | 'CxD' | undefined;
  let featureDim: number | undefined, classes: number | undefined;
  if (dims.length === 2) {
    const transB = best.node.op === 'Gemm' && best.node.attrInt('transB', 0) === 1;
    // Orientation as the op reads the weight, then corrected by a Transpose in between if any.
    let kFirst = !transB;
    if (best.weight !== weightInit && best.weight.producer && hasTranspose(best.weight, weightInit)) kFirst = !kFirst;
    if (best.act === best.node.inputs[1]) kFirst = !kFirst; // W @ x^T form
    featureDim = kFirst ? dims[0] : dims[1];
    classes = kFirst ? dims[1] : dims[0];
    if (d !== undefined && featureDim !== d && (dims[0] === d || dims[1] === d)) {
      featureDim = d;
      classes = dims[0] === d ? dims[1] : dims[0];
      kFirst = dims[0] === d;
    }
    layout = kFirst ? 'DxC' : 'CxD';
  }
  return headFromEmbedding(g, e.name, {
    weight: weightInit.name,
    weightLayout: layout,
    featureDim: featureDim ?? d,
    classes,
    classifier: best.node.name,
    normalization: best.norm.form,
  });
}

function hasTranspose(from: Value, to: Value): boolean {
  let flips = 0;
  const stack: Value[] = [from];
  const seen = new Set<Value>();
  while (stack.length) {
    const v = stack.pop()!;
    if (v === to || seen.has(v)) continue;
    seen.add(v);
    const p = v.producer;
    if (!p) continue;
    if (p.op === 'Transpose') flips++;
    for (const i of p.inputs) if (i) stack.push(i);
  }
  return flips % 2 === 1;
}

function headFromEmbedding(g: Graph, embedding: string, extra: Partial<HeadInfo>): HeadInfo {
  const e = g.value(embedding);
  if (!e) return { found: false, nodes: [], headInputs: [], reason: `no tensor named ${embedding}` };
  const keep = ancestors(g, [e]);
  const head = g.nodes.filter((n) => !keep.has(n));
  const needed = new Set<Value>();
  for (const n of keep) for (const i of n.inputs) if (i) needed.add(i);
  needed.add(e);
  const headInputs = g.realInputs().filter((v) => !needed.has(v)).map((v) => v.name);
  const headInits = new Set<Value>();
  for (const n of head) for (const i of n.inputs) if (i?.const && !needed.has(i)) headInits.add(i);
  const bytes = [...headInits].reduce((s, v) => s + v.const!.byteLength, 0);
  const found = head.length > 0 && extra.classifier !== undefined;
  return {
    found,
    ...extra,
    bytes,
    embedding: e.name,
    nodes: head.map((n) => n.name),
    headInputs,
  };
}

/** Tensors that could serve as the embedding: 2-D float values [N, D] with D > 1, for error messages. */
export function embeddingCandidates(g: Graph): string[] {
  const out: string[] = [];
  for (const n of g.nodes) {
    for (const v of n.outputs) {
      if (v.shape?.length === 2 && typeof v.shape[1] === 'number' && v.shape[1] > 1 && (n.op === 'Gemm' || n.op === 'MatMul' || n.op === 'BatchNormalization' || n.op === 'Add' || n.op === 'Flatten')) {
        out.push(`${v.name} [${v.shape.join(', ')}] from ${n.op}`);
      }
    }
  }
  return out;
}
