/**
 * cleanup: remove what inference does not need and fold what is constant.
 *
 * Before                                   After
 *   x -> Identity -> y -> Conv               x -> Conv
 *   x -> Dropout(ratio) -> y                 x                  (inference: Dropout is identity)
 *   x[N,D] -> Flatten(axis=1) -> y           x                  (already 2-D)
 *   x[N,D] -> Reshape([0,-1]) -> y           x                  (same shape)
 *   x -> Reshape(s1) -> Reshape(s2) -> y     x -> Reshape(s2)   (s2 has no 0 that would copy a dim of the middle)
 *   Constant(value) -> v                     v is an initializer
 *   Shape(x[N,3,112,112]) -> Gather(1)       initializer [3]    (static dims only; N stays dynamic)
 *   op(const, const, ...)                    initializer        (safe list, evaluated exactly: const-eval.ts)
 *   two initializers with equal bytes        one
 *   nodes/initializers nothing reads         gone (graph.cleanup), then toposort
 *
 * Preconditions, each checked per place (a place that fails is listed in
 * `skipped` with the reason, and left alone):
 *  - removing a node must not rename a graph output: an Identity/Dropout/no-op
 *    Reshape whose output is a graph output and whose input is a graph input,
 *    initializer or another output stays;
 *  - Dropout is removed only in inference form: no training_mode input (or a
 *    constant false one), opset <= 6 only with is_test=1, and no used mask;
 *  - constant folding only for ops whose JS evaluation is bit-exact (see
 *    const-eval.ts), only when every input is an initializer that is not also a
 *    graph input (those can be overridden at run time), and only when the result
 *    is not bigger than max(1024 elements, the largest input): folding an Expand
 *    must not blow up the file;
 *  - Shape(x) folds only for the static dims of x: Shape(x) with a symbolic
 *    batch is not constant, but Shape(x) -> Gather(1..3) or Slice(1:4) of static
 *    dims is. When the image input has a fixed batch, dim 0 of a computed tensor
 *    counts as symbolic too: the shapes pass makes that batch symbolic, and a
 *    folded 1 would hard-code it.
 * Duplicate initializers are found by dtype+dims, then the first 64 bytes, then
 * TensorData.digest() (sha256, streamed in chunks), so large weights are read
 * (64 bytes of each) and hashed only when they could be equal.
 */
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shape-infer.js';
import type { Value } from '../ir/value.js';
import { isConstDerived } from '../analysis/graph-queries.js';
import { canEvaluate, evaluate, fromTensorData, NotFoldable, sliceRanges, toTensorData, type CTensor } from './const-eval.js';
import type { Pass, PassReport } from './pass.js';
import { isOnnxDomain, ReportBuilder } from './util.js';

const COUNTS = [
  'identityRemoved', 'dropoutRemoved', 'flattenRemoved', 'reshapeRemoved', 'reshapeCollapsed',
  'constantsToInitializers', 'shapeFolded', 'folded', 'initializersDeduped', 'nodesRemoved',
  'initializersRemoved', 'initializerBytesRemoved', 'inputsRemoved',
] as const;

/** Largest folded result allowed regardless of input sizes. */
const FOLD_SMALL = 1024;
const MAX_ROUNDS = 16;

interface Cx {
  readonly g: Graph;
  readonly opset: number;
  /** Nodes removed during the current sweep. */
  readonly removed: Set<Node>;
  /** The image input has a fixed batch (made symbolic later by the shapes pass). */
  readonly fixedBatch: boolean;
}

/** A rule's answer: not applicable (undefined), applied (count key), or left alone with a reason. */
type Outcome = undefined | { readonly applied: (typeof COUNTS)[number] } | { readonly skip: string };
type Rule = (n: Node, cx: Cx) => Outcome;

/** Would bypassing `n` (output 0 -> `input`) rename a graph output? */
function renamesOutput(n: Node, input: Value): boolean {
  const out = n.outputs[0]!;
  return out.isGraphOutput && (input.isGraphInput || input.isGraphOutput || input.isConst || input.uses.some((u) => u.index < 0));
}

function bypass(n: Node, cx: Cx, input: Value): void {
  cx.g.bypass(n, input);
  cx.removed.add(n);
}

const passThrough = (what: string, key: 'identityRemoved' | 'dropoutRemoved' | 'flattenRemoved' | 'reshapeRemoved', n: Node, cx: Cx): Outcome => {
  const x = n.inputs[0];
  if (!x) return undefined;
  if (renamesOutput(n, x)) return { skip: `${what} maps ${x.isConst ? 'an initializer' : x.isGraphInput ? 'a graph input' : 'a graph output'} straight to graph output ${n.outputs[0]!.name}; removing it would rename the output` };
  bypass(n, cx, x);
  return { applied: key };
};

function constInts(v: Value | null | undefined): number[] | undefined {
  if (!v?.const) return undefined;
  try {
    return v.const.numbers();
  } catch {
    return undefined;
  }
}

// ---- rules, in the order they are tried -------------------------------------------

/** Identity(x) -> x */
const identity: Rule = (n, cx) => (n.op === 'Identity' ? passThrough('Identity', 'identityRemoved', n, cx) : undefined);

/** Dropout(x) -> x in inference (no training_mode, or a constant false one; mask unused) */
const dropout: Rule = (n, cx) => {
  if (n.op !== 'Dropout') return undefined;
  if (n.outputs.slice(1).some((m) => m.uses.length > 0 || m.isGraphOutput)) return { skip: 'its mask output is used' };
  if (cx.opset <= 6 && n.attrInt('is_test', 0) !== 1) return { skip: `opset ${cx.opset} Dropout without is_test=1 runs in training mode` };
  const tm = n.inputs[2];
  if (tm) {
    const v = constInts(tm);
    if (!v) return { skip: 'its training_mode input is not a constant' };
    if (v.some((b) => b !== 0)) return { skip: 'training_mode is true' };
  }
  return passThrough('Dropout', 'dropoutRemoved', n, cx);
};

/** Flatten(x[N,D], axis=1) -> x */
const flattenNoop: Rule = (n, cx) => {
  if (n.op !== 'Flatten') return undefined;
  const s = n.inputs[0]?.shape;
  if (s?.length !== 2) return undefined;
  const axis = n.attrInt('axis', 1);
  if (axis !== 1 && axis !== -1) return undefined;
  return passThrough('Flatten of a 2-D tensor', 'flattenRemoved', n, cx);
};

/** Reshape(x, s) -> x when s keeps every dim (0 copies, one -1 fills, numbers match) */
const reshapeNoop: Rule = (n, cx) => {
  if (n.op !== 'Reshape' || cx.opset < 5) return undefined;
  const target = constInts(n.inputs[1]);
  const s = n.inputs[0]?.shape;
  if (!target || !s || s.length !== target.length) return undefined;
  const allowZero = n.attrInt('allowzero', 0) === 1;
  let minusOnes = 0;
  const same = target.every((d, i) => {
    if (d === 0 && !allowZero) return true;
    if (d === -1) return ++minusOnes === 1;
    return typeof s[i] === 'number' && s[i] === d;
  });
  return same ? passThrough('Reshape to the same shape', 'reshapeRemoved', n, cx) : undefined;
};

/** Reshape(Reshape|Flatten(x), s2) -> Reshape(x, s2) when s2 has no 0 */
const reshapeCollapse: Rule = (n) => {
  if (n.op !== 'Reshape') return undefined;
  const inner = n.inputs[0]?.producer;
  if (!inner || !isOnnxDomain(inner) || (inner.op !== 'Reshape' && inner.op !== 'Flatten') || !inner.inputs[0]) return undefined;
  const target = constInts(n.inputs[1]);
  if (!target || target.includes(0)) return undefined;
  n.setInput(0, inner.inputs[0]);
  return { applied: 'reshapeCollapsed' };
};

/** Known dims of a Shape node's output (null where symbolic or unknown). */
function partialShape(v: Value | null, cx: Cx): (number | null)[] | undefined {
  const p = v?.producer;
  if (!p || p.op !== 'Shape' || !isOnnxDomain(p)) return undefined;
  const x = p.inputs[0];
  const s = x?.shape;
  if (!x || !s) return undefined;
  const r = s.length;
  const norm = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  // With a fixed batch, dim 0 of a computed tensor is the batch the shapes pass will
  // make symbolic: never bake it into a constant.
  const batchLike = cx.fixedBatch && !isConstDerived(x);
  const dims = s.map((d, i) => (typeof d === 'number' && !(i === 0 && batchLike) ? d : null));
  return dims.slice(norm(p.attrInt('start', 0)), norm(p.attrInt('end', r)));
}

function int64Const(dims: number[], values: number[]): CTensor {
  return { dtype: 7, dims, v: values.map((x) => BigInt(x)) };
}

/** Shape / Size of static dims, and Gather / Slice of the static part of a Shape. */
function shapeFold(n: Node, cx: Cx): CTensor | undefined {
  if (n.op === 'Shape' || n.op === 'Size') {
    const s = n.inputs[0]?.shape;
    if (!s) return undefined;
    if (n.op === 'Size') {
      const batchLike = cx.fixedBatch && !isConstDerived(n.inputs[0]!);
      return !batchLike && s.every((d) => typeof d === 'number') ? int64Const([], [(s as number[]).reduce((a, b) => a * b, 1)]) : undefined;
    }
    const part = partialShape(n.outputs[0]!, cx);
    return part && part.every((d) => d !== null) ? int64Const([part.length], part as number[]) : undefined;
  }
  if (n.op === 'Gather' || n.op === 'Slice') {
    const part = partialShape(n.inputs[0] ?? null, cx);
    if (!part) return undefined;
    let picked: (number | null)[];
    if (n.op === 'Gather') {
      const idx = constInts(n.inputs[1]);
      if (!idx || n.attrInt('axis', 0) !== 0) return undefined;
      picked = idx.map((i) => part[i < 0 ? i + part.length : i] ?? null);
      if (picked.some((d) => d === null)) return undefined;
      return int64Const([...n.inputs[1]!.const!.dims], picked as number[]);
    }
    const starts = cx.opset < 10 ? n.attrInts('starts') : constInts(n.inputs[1]);
    const ends = cx.opset < 10 ? n.attrInts('ends') : constInts(n.inputs[2]);
    const axes = cx.opset < 10 ? n.attrInts('axes') : n.inputs[3] ? constInts(n.inputs[3]) : undefined;
    const steps = cx.opset < 10 ? undefined : n.inputs[4] ? constInts(n.inputs[4]) : undefined;
    if (!starts || !ends || (cx.opset >= 10 && n.inputs[3] && !axes) || (n.inputs[4] && !steps)) return undefined;
    let r;
    try {
      r = sliceRanges([part.length], starts, ends, axes, steps)[0]!;
    } catch {
      return undefined;
    }
    picked = Array.from({ length: r.count }, (_, k) => part[r.start + k * r.step]!);
    if (picked.some((d) => d === null)) return undefined;
    return int64Const([picked.length], picked as number[]);
  }
  return undefined;
}

/** Any node of the safe list whose inputs are all initializers -> initializers */
const fold: Rule = (n, cx) => {
  if (!isOnnxDomain(n) || n.implicitInputs.length > 0) return undefined;
  if (n.outputs.length === 0) return undefined;
  let results: CTensor[] | undefined;
  let key: 'constantsToInitializers' | 'shapeFolded' | 'folded' = n.op === 'Constant' ? 'constantsToInitializers' : 'folded';
  const shaped = shapeFold(n, cx);
  if (shaped) {
    results = [shaped];
    key = 'shapeFolded';
  } else {
    const ins = n.inputs.filter((v): v is Value => v !== null);
    if (!ins.every((v) => v.isConst && !v.isGraphInput)) return undefined;
    if (n.outputs.some((o) => o.isGraphOutput)) return { skip: `constant ${n.op} computes graph output ${n.outputs.find((o) => o.isGraphOutput)!.name}; kept as a node` };
    if (!canEvaluate(n.op)) return { skip: `all inputs are constant, but ${n.op} is not in the constant-folding list (only ops evaluated bit-exactly are folded)` };
    try {
      results = evaluate(n, n.inputs.map((v) => (v ? fromTensorData(v.const!) : null)), cx.opset);
    } catch (e) {
      if (e instanceof NotFoldable) return { skip: `not folded: ${e.message}` };
      throw e;
    }
    const biggest = Math.max(FOLD_SMALL, ...ins.map((v) => v.const!.size));
    const outSize = Math.max(...results.map((r) => r.v.length));
    if (outSize > biggest) return { skip: `folding would store ${outSize} elements, more than its inputs (${biggest})` };
  }
  if (n.outputs.some((o) => o.isGraphOutput)) return { skip: `constant ${n.op} computes a graph output; kept as a node` };
  const outs = [...n.outputs];
  if (results.length < outs.filter((o) => o.uses.length > 0).length) return { skip: `${n.op} has outputs the evaluator does not compute` };
  cx.g.removeNode(n);
  cx.removed.add(n);
  outs.forEach((o, i) => {
    const r = results![i];
    if (!r) return;
    o.const = toTensorData(r);
    o.dtype = r.dtype;
    o.shape = [...r.dims];
  });
  return { applied: key };
};

/** The rule table: tried in order, the first that applies wins for this sweep. */
const RULES: readonly Rule[] = [
  identity, //        Identity(x) -> x (also of an initializer: no copy of its data)
  fold, //            const op(const...) -> initializer; Constant -> initializer; static Shape dims
  dropout, //         Dropout(x) -> x (inference)
  flattenNoop, //     Flatten(x[N,D]) -> x
  reshapeNoop, //     Reshape(x, same shape) -> x
  reshapeCollapse, // Reshape(Reshape(x)) -> Reshape(x)
];

function dedupeInitializers(g: Graph, rb: ReportBuilder): boolean {
  const byShape = new Map<string, Value[]>();
  for (const v of g.initializers()) {
    if (v.isGraphInput || v.isGraphOutput || v.uses.length === 0 || v.uses.some((u) => u.index < 0)) continue;
    if (v.const!.source.kind === 'strings') continue;
    const k = `${v.const!.dtype}|${v.const!.dims.join(',')}`;
    const list = byShape.get(k);
    if (list) list.push(v);
    else byShape.set(k, [v]);
  }
  let changed = false;
  for (const list of byShape.values()) {
    if (list.length < 2) continue;
    const byPrefix = new Map<string, Value[]>();
    for (const v of list) {
      // Only the first 64 bytes are read (a lazy weight is not loaded, nor a folded one computed).
      const b = new Uint8Array(Math.min(64, v.const!.byteLength));
      v.const!.readInto(0, b);
      const k = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
      const l = byPrefix.get(k);
      if (l) l.push(v);
      else byPrefix.set(k, [v]);
    }
    for (const group of byPrefix.values()) {
      if (group.length < 2) continue;
      const first = new Map<string, Value>();
      for (const v of group) {
        const d = v.const!.digest();
        const keep = first.get(d);
        if (!keep) {
          first.set(d, v);
          continue;
        }
        v.replaceAllUsesWith(keep);
        rb.add('initializersDeduped');
        changed = true;
      }
    }
  }
  return changed;
}

export const cleanup: Pass<'cleanup'> = {
  name: 'cleanup',
  description: 'remove Identity, inference Dropout and no-op Reshape/Flatten; fold constants and static shapes; drop unused and duplicate initializers; toposort',
  run(model): PassReport<'cleanup'> {
    const g = model.graph;
    const rb = new ReportBuilder('cleanup', COUNTS);
    const real = g.realInputs();
    const fixedBatch = real.length === 1 && typeof real[0]!.shape?.[0] === 'number';
    const cx: Cx = { g, opset: model.opset('') ?? 17, removed: new Set(), fixedBatch };
    inferShapes(g);
    let changed = false;
    let skips = new Map<string, string>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let roundChanged = false;
      skips = new Map();
      cx.removed.clear();
      for (const n of [...g.nodes]) {
        if (cx.removed.has(n) || !isOnnxDomain(n)) continue;
        for (const rule of RULES) {
          const out = rule(n, cx);
          if (!out) continue;
          if ('skip' in out) {
            skips.set(n.name, out.skip);
            continue;
          }
          rb.add(out.applied);
          skips.delete(n.name);
          roundChanged = true;
          break;
        }
      }
      if (!roundChanged) break;
      changed = true;
      inferShapes(g);
    }
    for (const [node, reason] of skips) rb.skip(node, reason);

    if (dedupeInitializers(g, rb)) changed = true;
    const before = g.inputs.length;
    g.inputs = g.inputs.filter((v) => !(v.isConst && v.uses.length === 0 && !v.isGraphOutput));
    if (g.inputs.length !== before) {
      rb.add('inputsRemoved', before - g.inputs.length);
      changed = true;
    }
    const c = g.cleanup();
    rb.add('nodesRemoved', c.nodesRemoved);
    rb.add('initializersRemoved', c.initializersRemoved);
    rb.add('initializerBytesRemoved', c.initializerBytesRemoved);
    if (c.nodesRemoved || c.initializersRemoved) changed = true;
    g.toposort();
    return rb.build(changed);
  },
};
