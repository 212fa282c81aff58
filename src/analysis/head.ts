/**
 * Finding the SphereFace2 head and the raw embedding it reads.
 *
 * SphereFace2's training head computes, after the backbone's embedding E:
 *     cos    = normalize(E) @ normalize(W)          W: (D x C) or (C x D)
 *     logits = r * (g(cos) [- m ...]) + b          elementwise ops
 * (the SphereFace2 head of the reference code, opensphere's
 * model/head/sphereface2.py; training only). So the head starts at a MatMul or Gemm whose
 * one operand is constant (derived from initializers only) and whose other
 * operand is an L2 normalization of E. Normalization is recognized by what it
 * computes, not how it is spelled: LpNormalization(E, p=2), or a Div(E, s) /
 * Mul(E, s) where s is computed from E alone through a sum-of-squares or L2
 * reduction (ReduceL2; ReduceSumSquare or ReduceSum(E*E) or Pow(E,2) then Sqrt;
 * Clip / Max / Add for the epsilon; Expand; Reciprocal).
 *
 * The embedding is E; the head is every node not needed to compute E. When E is
 * itself a "fusion" of one feature (opensphere 2023: f_fusing = weighted_average of
 * x[:, None, :], i.e. Unsqueeze -> Mul by a constant weight of one element ->
 * ReduceSum over that size-1 axis), the walk goes back through it to the backbone's
 * output: a positive scalar factor does not change the normalized feature, so those ops
 * are head too (fusionSource).
 *
 * What kind of head it is (kind), from what follows the class op:
 *   'sphereface2'  a Pow with a constant exponent t after it (g(cos) = 2((cos+1)/2)^t - 1),
 *                  or one bias b shared by all classes (r * cos + b, baked form);
 *   'cosine'       neither: s * cos, the ArcFace/CosFace (normalized softmax) inference form;
 *   'linear'       no normalization at all: a MatMul/Gemm with a constant (D x C) weight
 *                  reading the output of an embedding layer (BatchNormalization, Gemm or
 *                  MatMul) [N, D], with C >= MIN_LINEAR_CLASSES, and nothing but
 *                  elementwise ops / Softmax after it (facenet-pytorch classify=True).
 * A [N, C] output with fewer classes is not cut (a 3-class live/spoof output is what such
 * a model is for); strip-head warns about it instead (looksLikeClassifier).
 */
import type { Graph } from '../ir/graph.js';
import type { TensorData } from '../ir/tensor.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { planSubgraph } from '../ir/extract.js';
import { constSources, frontier, isConstDerived } from './graph-queries.js';

export type HeadKind = 'sphereface2' | 'cosine' | 'linear';

/** Fewest classes for an unnormalized MatMul/Gemm at the end to count as a classifier head. */
export const MIN_LINEAR_CLASSES = 8;

export interface HeadInfo {
  readonly found: boolean;
  /** What the head computes (see the module comment). */
  readonly kind?: HeadKind;
  /** One line naming the head, e.g. "SphereFace2 head: r * g(cos) + b, t = 3". */
  readonly description?: string;
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

function constData(v: Value | null | undefined): TensorData | undefined {
  if (!v) return undefined;
  if (v.const) return v.const;
  const p = v.producer;
  const a = p?.op === 'Constant' ? p.attr('value') : undefined;
  return a?.type === 'TENSOR' ? a.value : undefined;
}

function numel(v: Value): number | undefined {
  const dims = constData(v)?.dims ?? v.shape;
  if (!dims || dims.some((d) => typeof d !== 'number')) return undefined;
  return (dims as number[]).reduce((a, b) => a * b, 1);
}

function reduceAxesOf(n: Node, rank: number): number[] | undefined {
  const axes = n.attrInts('axes') ?? constData(n.inputs[1])?.numbers();
  return axes?.map((a) => (a < 0 ? a + rank : a));
}

/**
 * Go back from E through a fusion of one observation: Unsqueeze/Squeeze/Identity,
 * Mul or Div by a constant of one element, ReduceSum/ReduceMean over axes of size 1.
 * Returns the 2-D [N, D] value it starts from (same D), or E itself.
 */
export function fusionSource(e: Value): Value {
  const d = e.shape?.[e.shape.length - 1];
  let v = e;
  let best = e;
  const memo = new Map<Value, boolean>();
  for (let i = 0; i < 16; i++) {
    const p = v.producer;
    if (!p) break;
    const x = p.inputs[0];
    let next: Value | null | undefined;
    if ((p.op === 'ReduceSum' || p.op === 'ReduceMean') && x?.shape) {
      const axes = reduceAxesOf(p, x.shape.length);
      if (axes && axes.length > 0 && axes.every((a) => x.shape![a] === 1)) next = x;
    } else if (p.op === 'Mul' || p.op === 'Div') {
      const [a, b] = p.inputs;
      if (a && b && isConstDerived(b, memo) && !isConstDerived(a, memo) && numel(b) === 1) next = a;
      else if (p.op === 'Mul' && a && b && isConstDerived(a, memo) && !isConstDerived(b, memo) && numel(a) === 1) next = b;
    } else if (p.op === 'Unsqueeze' || p.op === 'Squeeze' || p.op === 'Identity') next = x;
    if (!next) break;
    v = next;
    if (v.shape?.length === 2 && v.shape[1] === d) best = v;
  }
  return best;
}

function scalarOf(v: Value | null | undefined): number | undefined {
  const t = constData(v);
  if (!t || t.size === 0) return undefined;
  const xs = t.numbers();
  return xs.every((x) => x === xs[0]) ? xs[0] : undefined;
}

/** Nodes downstream of n (up to 256), in graph order. */
function downstream(n: Node): Node[] {
  const seen = new Set<Node>();
  const stack = [...n.outputs];
  while (stack.length && seen.size < 256) {
    const v = stack.pop()!;
    for (const u of v.uses) {
      if (u.index < 0 || seen.has(u.node)) continue;
      seen.add(u.node);
      stack.push(...u.node.outputs);
    }
  }
  return n.graph.nodes.filter((m) => seen.has(m));
}

function headKind(cls: Node): { kind: HeadKind; description: string } {
  const down = downstream(cls);
  const memo = new Map<Value, boolean>();
  const pow = down.find((m) => m.op === 'Pow' && m.inputs[1] && isConstDerived(m.inputs[1], memo));
  const t = pow ? scalarOf(pow.inputs[1]) : undefined;
  const fmt = (x: number) => String(Number(x.toPrecision(6)));
  if (pow) return { kind: 'sphereface2', description: `SphereFace2 head: r * g(cos) + b with g(z) = 2((z + 1) / 2)^t - 1${t !== undefined ? `, t = ${fmt(t)}` : ''}` };
  const biasOf = (m: Node): number | undefined => {
    if (m.op === 'Gemm' && m === cls) return scalarOf(m.inputs[2]);
    if (m.op !== 'Add') return undefined;
    return scalarOf(m.inputs[1]) ?? scalarOf(m.inputs[0]);
  };
  for (const m of [cls, ...down]) {
    const b = biasOf(m);
    if (b !== undefined && b !== 0) return { kind: 'sphereface2', description: `SphereFace2 head: r * cos + b (one bias for all classes, b = ${fmt(b)})` };
  }
  const sc = down.map((m) => (m.op === 'Mul' ? scalarOf(m.inputs[1]) ?? scalarOf(m.inputs[0]) : undefined)).find((x) => x !== undefined);
  return { kind: 'cosine', description: `cosine classifier (ArcFace/CosFace kind): s * cos${sc !== undefined ? `, s = ${fmt(sc)}` : ''}` };
}

const LINEAR_FEEDS = new Set(['BatchNormalization', 'Gemm', 'MatMul']);
const AFTER_LINEAR = new Set(['Add', 'Mul', 'Softmax', 'LogSoftmax', 'Sigmoid', 'Identity']);

/** A plain linear classifier at the end of the graph (see the module comment), or undefined. */
function linearClassifier(g: Graph): { node: Node; act: Value; weight: Value } | undefined {
  const found: { node: Node; act: Value; weight: Value; size: number }[] = [];
  for (const n of g.nodes) {
    const ops = classOperands(n);
    if (!ops || !ops.act.producer || !LINEAR_FEEDS.has(ops.act.producer.op) || ops.act.shape?.length !== 2) continue;
    const w = constSources(ops.weight).sort((x, y) => y.const!.size - x.const!.size)[0];
    if (!w || w.const!.dims.length !== 2) continue;
    const d = ops.act.shape[1];
    const [a, b] = w.const!.dims as [number, number];
    const c = a === d ? b : b === d ? a : Math.max(a, b);
    if (c < MIN_LINEAR_CLASSES) continue;
    const down = downstream(n);
    if (!down.every((m) => AFTER_LINEAR.has(m.op))) continue;
    if (![n, ...down].some((m) => m.outputs.some((v) => v.isGraphOutput))) continue;
    found.push({ ...ops, node: n, size: w.const!.size });
  }
  found.sort((x, y) => y.size - x.size);
  return found[0];
}

/** Layout, feature dim and classes of a class weight as the class op reads it. */
function weightFacts(node: Node, act: Value, weight: Value, weightInit: Value, d: number | undefined): { layout?: 'DxC' | 'CxD'; featureDim?: number; classes?: number } {
  const dims = weightInit.const!.dims;
  if (dims.length !== 2) return {};
  const transB = node.op === 'Gemm' && node.attrInt('transB', 0) === 1;
  let kFirst = !transB;
  if (weight !== weightInit && weight.producer && hasTranspose(weight, weightInit)) kFirst = !kFirst;
  if (act === node.inputs[1]) kFirst = !kFirst; // W @ x^T form
  let featureDim = kFirst ? dims[0] : dims[1];
  let classes = kFirst ? dims[1] : dims[0];
  if (d !== undefined && featureDim !== d && (dims[0] === d || dims[1] === d)) {
    featureDim = d;
    classes = dims[0] === d ? dims[1] : dims[0];
    kFirst = dims[0] === d;
  }
  return { layout: kFirst ? 'DxC' : 'CxD', featureDim, classes };
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
      ? { kind: auto.kind, description: auto.description, weight: auto.weight, weightLayout: auto.weightLayout, classes: auto.classes, classifier: auto.classifier, normalization: auto.normalization }
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
    const lin = linearClassifier(g);
    if (lin) {
      const wInit = constSources(lin.weight).sort((x, y) => y.const!.size - x.const!.size)[0]!;
      const d0 = lin.act.shape?.[1];
      const f = weightFacts(lin.node, lin.act, lin.weight, wInit, typeof d0 === 'number' ? d0 : undefined);
      return headFromEmbedding(g, lin.act.name, {
        kind: 'linear',
        description: `plain linear classifier: ${lin.node.op} with a ${f.classes ?? '?'}-class weight on the unnormalized embedding`,
        weight: wInit.name, weightLayout: f.layout, featureDim: f.featureDim, classes: f.classes, classifier: lin.node.name,
      });
    }
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
  const e = fusionSource(best.norm.source);
  const weightInit = constSources(best.weight).sort((x, y) => y.const!.size - x.const!.size)[0]!;
  const d = typeof e.shape?.[e.shape.length - 1] === 'number' ? (e.shape![e.shape!.length - 1] as number) : undefined;
  const { layout, featureDim, classes } = weightFacts(best.node, best.act, best.weight, weightInit, d);
  const kind = headKind(best.node);
  return headFromEmbedding(g, e.name, {
    ...kind,
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
  const cut = planSubgraph(g, [e]);
  const head = cut.dropped;
  const headInputs = cut.inputsDropped.filter((v) => !v.isConst).map((v) => v.name);
  const bytes = cut.constsDropped.reduce((s, v) => s + v.const!.byteLength, 0);
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
