/**
 * shape-subgraphs: evaluate the shape arithmetic exporters emit, symbolically,
 * and replace it by what it computes.
 *
 * PyTorch writes `x.view(x.size(0), -1)` as
 *     Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))
 * and `F.interpolate(y, size=x.shape[-2:])` as Resize(y, sizes = Concat(Slice(Shape(y), 0, 2),
 * Cast(Concat(Unsqueeze(Gather(Shape(x), 2)), ...)))). Every such int tensor is a short
 * list whose elements are either numbers or the batch symbol N. This pass infers shapes
 * with the batch dim symbolic, then gives every integer value a symbolic value:
 *
 *   Shape(x)                 -> x's dims, e.g. [N, 16, 7, 7]      (start/end honoured)
 *   Gather(s, k) / Slice / Concat / Unsqueeze / Squeeze / Cast / Identity -> the same list ops
 *   Add / Sub / Mul / Div    -> elementwise on numbers (x * 1, x + 0 keep a symbol)
 *   an int initializer       -> its numbers
 *
 * and rewrites (repeated until nothing changes, since each rewrite makes more shapes known):
 *
 *   int value fully numeric                 -> an initializer (Shape subgraphs of static dims fold)
 *   Reshape(x, [x.dim0, -1]) (or [x.dim0, prod(x.dims[1:])])  -> Flatten(x, axis=1)
 *   Reshape(x, t), t symbolic, every symbol at position i equal to x.dims[i]
 *                                           -> Reshape(x, t with 0 there) (0 copies the dim)
 *   Expand(x, t), t symbolic, each symbol also x's dim there (aligned right)
 *                                           -> Expand(x, t with 1 there) (F.normalize's expand_as)
 *   Resize(x, sizes) with sizes [x.dim0, x.dim1 (or numbers), h', w']
 *                                           -> Resize(x, scales = out / in), when float32
 *                                              scales give exactly these sizes and the
 *                                              same coordinate mapping (see resizeScale)
 *
 * Each round first runs the cleanup pass (./cleanup.ts: Constant nodes become
 * initializers, constant subgraphs such as F.pad's pads arithmetic fold exactly), so the
 * shape rules see constants.
 *
 * A fixed batch (input [1, ...]) is treated as the symbol during this pass, so that
 * nothing folds the batch into a constant (the shapes pass makes it symbolic at the
 * end, and a folded 1 would hard-code it); the input's annotation is restored after.
 * Numbers are exact (integer arithmetic on int64 values within 2^53); nothing numeric
 * of the float data path changes.
 */
import { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shape-infer.js';
import { TensorData } from '../ir/tensor.js';
import type { Dim, Value } from '../ir/value.js';
import { cleanup } from './cleanup.js';
import type { Pass, PassReport } from './pass.js';
import { isOnnxDomain, ReportBuilder } from './util.js';

/** A symbolic 0-D or 1-D integer tensor. */
interface Sym {
  readonly dims: Dim[];
  readonly scalar: boolean;
}

const INT_TYPES: ReadonlySet<number> = new Set([DType.INT64, DType.INT32]);
const MAX_ROUNDS = 32;
const MAX_LEN = 16;

/** An initializer's data, or the value of a Constant node (not yet made an initializer). */
function constOf(v: Value | null | undefined): TensorData | undefined {
  if (!v) return undefined;
  if (v.const) return v.const;
  const p = v.producer;
  if (p?.op !== 'Constant') return undefined;
  const a = p.attr('value');
  if (a?.type === 'TENSOR') return a.value;
  const i = p.attrInt('value_int');
  if (i !== undefined) return TensorData.int64([], [i]);
  const is = p.attrInts('value_ints');
  return is ? TensorData.int64([is.length], is) : undefined;
}

function constSym(v: Value): Sym | undefined {
  const t = constOf(v);
  if (!t || !INT_TYPES.has(t.dtype) || t.dims.length > 1 || t.size > MAX_LEN) return undefined;
  return { dims: t.numbers(), scalar: t.dims.length === 0 };
}

const isNum = (d: Dim): d is number => typeof d === 'number';

function norm(a: number, r: number): number {
  return a < 0 ? a + r : a;
}

function arith(op: string, a: Dim, b: Dim): Dim {
  if (isNum(a) && isNum(b)) {
    switch (op) {
      case 'Add': return a + b;
      case 'Sub': return a - b;
      case 'Mul': return a * b;
      case 'Div': return b === 0 ? null : Math.trunc(a / b);
    }
  }
  if ((op === 'Mul' || op === 'Div') && b === 1) return a;
  if (op === 'Mul' && a === 1) return b;
  if ((op === 'Add' || op === 'Sub') && b === 0) return a;
  if (op === 'Add' && a === 0) return b;
  return null;
}

/** The symbolic value of node n's output from its inputs' symbolic values. */
function evalSym(n: Node, sym: (v: Value | null) => Sym | undefined): Sym | undefined {
  const x = n.inputs[0] ?? null;
  switch (n.op) {
    case 'Shape': {
      const s = x?.shape;
      if (!s) return undefined;
      const r = s.length;
      const start = Math.max(0, Math.min(r, norm(n.attrInt('start', 0)!, r)));
      const end = Math.max(0, Math.min(r, norm(n.attrInt('end', r)!, r)));
      return { dims: s.slice(start, Math.max(start, end)), scalar: false };
    }
    case 'Identity':
      return sym(x);
    case 'Cast': {
      const to = n.attrInt('to');
      return to !== undefined && INT_TYPES.has(to) ? sym(x) : undefined;
    }
    case 'Gather': {
      const s = sym(x), idx = constOf(n.inputs[1]);
      if (!s || s.scalar || !idx || idx.dims.length > 1 || norm(n.attrInt('axis', 0)!, 1) !== 0) return undefined;
      const picked = idx.numbers().map((i) => s.dims[norm(i, s.dims.length)]);
      if (picked.some((d) => d === undefined)) return undefined;
      return { dims: picked as Dim[], scalar: idx.dims.length === 0 };
    }
    case 'Unsqueeze': {
      const s = sym(x);
      return s?.scalar ? { dims: s.dims, scalar: false } : undefined;
    }
    case 'Squeeze': {
      const s = sym(x);
      return s && !s.scalar && s.dims.length === 1 ? { dims: s.dims, scalar: true } : undefined;
    }
    case 'Concat': {
      const parts = n.inputs.map((v) => sym(v));
      if (parts.some((p) => !p || p.scalar)) return undefined;
      return { dims: parts.flatMap((p) => p!.dims), scalar: false };
    }
    case 'Slice': {
      const s = sym(x);
      if (!s || s.scalar) return undefined;
      const ints = (i: number) => constOf(n.inputs[i])?.numbers();
      const starts = n.inputs.length > 1 ? ints(1) : n.attrInts('starts');
      const ends = n.inputs.length > 1 ? ints(2) : n.attrInts('ends');
      const axes = n.inputs.length > 1 ? (n.inputs[3] ? ints(3) : [0]) : n.attrInts('axes') ?? [0];
      const steps = n.inputs[4] ? ints(4) : [1];
      if (!starts || !ends || !axes || !steps || starts.length !== 1 || norm(axes[0]!, 1) !== 0) return undefined;
      const len = s.dims.length, step = steps[0]!;
      if (step === 0) return undefined;
      let b = starts[0]!, e = ends[0]!;
      if (b < 0) b += len;
      if (e < 0) e += len;
      const out: Dim[] = [];
      if (step > 0) {
        b = Math.min(Math.max(b, 0), len);
        e = Math.min(Math.max(e, 0), len);
        for (let i = b; i < e; i += step) out.push(s.dims[i]!);
      } else {
        b = Math.min(Math.max(b, 0), len - 1);
        e = Math.min(Math.max(e, -1), len - 1);
        for (let i = b; i > e; i += step) out.push(s.dims[i]!);
      }
      return { dims: out, scalar: false };
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const a = sym(x), b = sym(n.inputs[1] ?? null);
      if (!a || !b) return undefined;
      if (a.dims.length !== b.dims.length && a.dims.length !== 1 && b.dims.length !== 1) return undefined;
      const len = Math.max(a.dims.length, b.dims.length);
      const at = (s: Sym, i: number) => (s.dims.length === 1 ? s.dims[0]! : s.dims[i]!);
      return { dims: Array.from({ length: len }, (_, i) => arith(n.op, at(a, i), at(b, i))), scalar: a.scalar && b.scalar };
    }
  }
  return undefined;
}

function symbolicValues(g: Graph): Map<Value, Sym> {
  const syms = new Map<Value, Sym>();
  const sym = (v: Value | null): Sym | undefined => {
    if (!v) return undefined;
    const s = syms.get(v);
    if (s) return s;
    const c = constSym(v);
    if (c) syms.set(v, c);
    return c;
  };
  for (const n of g.nodes) {
    if (!isOnnxDomain(n) || n.outputs.length !== 1) continue;
    const out = n.outputs[0]!;
    if (out.dtype !== undefined && !INT_TYPES.has(out.dtype)) continue;
    const s = evalSym(n, sym);
    if (s && s.dims.length <= MAX_LEN) syms.set(out, s);
  }
  return syms;
}

/**
 * A float32 scale for Resize that reproduces what sizes = out gives. With sizes,
 * onnxruntime uses scale s0 = float(out / in) for the coordinate mapping; with
 * scales, it computes the size as (int64)(scale * in), and float32 or double
 * arithmetic may round 3 * fround(7 / 3) down to 6. So: s0 when s0 * in gives out
 * in both float32 and double; else, for nearest with the asymmetric mapping
 * (x_in = nearest(x_out / s), torch's export of mode='nearest'), the next few float32
 * values above s0 that give out and map every x_out in [0, out) to the same x_in as
 * s0 does (checked here, element by element). Anything else: undefined (sizes stay).
 */
export function resizeScale(inp: number, out: number, mode: string, ctm: string, nearestMode: string): number | undefined {
  const s0 = Math.fround(out / inp);
  const sizeOk = (s: number) => Math.trunc(Math.fround(s * inp)) === out && Math.trunc(s * inp) === out;
  if (sizeOk(s0)) return s0;
  if (mode !== 'nearest' || ctm !== 'asymmetric') return undefined;
  const round = (x: number): number => {
    switch (nearestMode) {
      case 'floor': return Math.floor(x);
      case 'ceil': return Math.ceil(x);
      case 'round_prefer_ceil': return Math.floor(x + 0.5);
      default: return Math.ceil(x - 0.5); // round_prefer_floor
    }
  };
  const map = (s: number, x: number) => Math.min(inp - 1, Math.max(0, round(Math.fround(x / s))));
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  f[0] = s0;
  for (let k = 0; k < 8; k++) {
    u[0]! += 1;
    const s = f[0]!;
    if (!sizeOk(s)) continue;
    let same = true;
    for (let x = 0; x < out && same; x++) same = map(s, x) === map(s0, x);
    if (same) return s;
  }
  return undefined;
}

function replaceNode(g: Graph, old: Node, op: string, inputs: (Value | null)[], attrs: Record<string, { type: 'INT'; value: bigint }>): Node {
  const out = old.outputs[0]!;
  const name = old.name;
  const next = old.graph.nodes[old.graph.nodes.indexOf(old) + 1];
  g.removeNode(old);
  return g.addNode({ op, name, inputs, outputs: [out], attrs, ...(next ? { before: next } : {}) });
}

/**
 * Replace the computed shape input (input 1) of Reshape/Expand `n`, whose symbolic
 * value is `t`, by the constant `dims`; a null in `dims` means it cannot be written
 * statically, and `n` is listed as skipped instead. True if replaced.
 */
function setStaticShape(g: Graph, n: Node, t: Sym, dims: readonly (number | null)[], rb: ReportBuilder, count: string): boolean {
  const known = dims.filter((d): d is number => d !== null);
  if (known.length !== dims.length) {
    rb.skip(n.name, `${n.op} target [${t.dims.map((d) => d ?? '?').join(', ')}] is not static enough to replace`);
    return false;
  }
  n.setInput(1, g.addConstant(g.uniqueName(`${n.name}_shape`), TensorData.int64([known.length], known)));
  rb.add(count);
  return true;
}

function rewriteRound(g: Graph, syms: Map<Value, Sym>, rb: ReportBuilder, opset: number): boolean {
  let changed = false;
  for (const n of [...g.nodes]) {
    if (!isOnnxDomain(n)) continue;
    if (n.op === 'Reshape' && n.inputs[1] && !constOf(n.inputs[1])) {
      const x = n.inputs[0], t = syms.get(n.inputs[1]);
      const s = x?.shape;
      if (!x || !t || !s || t.scalar) continue;
      if (t.dims.every(isNum)) continue; // folded below
      const rest = t.dims.slice(1);
      const tailSize = s.slice(1).every(isNum) ? (s.slice(1) as number[]).reduce((a, b) => a * b, 1) : undefined;
      if (t.dims.length === 2 && t.dims[0] === s[0] && typeof s[0] === 'string' && (rest[0] === -1 || rest[0] === tailSize)) {
        replaceNode(g, n, 'Flatten', [x], { axis: { type: 'INT', value: 1n } });
        rb.add('flattens');
        changed = true;
        continue;
      }
      // a symbol equal to x's dim i becomes 0 (copy it), which Reshape reads so only without allowzero, from opset 5
      const zeroCopies = n.attrInt('allowzero', 0) !== 1 && opset >= 5;
      const zeroed = t.dims.map((d, i) => (isNum(d) ? d : zeroCopies && d !== null && d === s[i] ? 0 : null));
      changed = setStaticShape(g, n, t, zeroed, rb, 'reshapesStatic') || changed;
      continue;
    }
    if (n.op === 'Expand' && n.inputs[1] && !constOf(n.inputs[1])) {
      const x = n.inputs[0], t = syms.get(n.inputs[1]);
      const s = x?.shape;
      if (!x || !t || !s || t.scalar || t.dims.every(isNum)) continue;
      // broadcast(x, t): a symbol in t where x (aligned right) has the same symbol can be 1
      const off = t.dims.length - s.length;
      const next = t.dims.map((d, i) => (isNum(d) ? d : d !== null && i >= off && s[i - off] === d ? 1 : null));
      changed = setStaticShape(g, n, t, next, rb, 'expandsStatic') || changed;
      continue;
    }
    if (n.op === 'Resize' && n.inputs[3] && !constOf(n.inputs[3]) && opset >= 11) {
      const x = n.inputs[0], t = syms.get(n.inputs[3]);
      const s = x?.shape;
      if (!x || !t || !s || t.dims.length !== s.length) continue;
      const scales: number[] = [];
      let why: string | undefined;
      for (let i = 0; i < s.length; i++) {
        const d = t.dims[i]!, inp = s[i]!;
        if (d === inp && d !== null) scales.push(1);
        else if (isNum(d) && isNum(inp) && inp > 0) {
          const sc = resizeScale(inp, d, n.attrString('mode', 'nearest')!, n.attrString('coordinate_transformation_mode', 'half_pixel')!, n.attrString('nearest_mode', 'round_prefer_floor')!);
          if (sc === undefined) why = `${inp} -> ${d} has no exact float32 scale`;
          else scales.push(sc);
        } else why = `size ${d ?? '?'} of axis ${i} is not known`;
        if (why) break;
      }
      if (why) {
        rb.skip(n.name, `Resize sizes stay computed: ${why}`);
        continue;
      }
      const roi = n.inputs[1] ?? (opset < 13 ? g.addConstant(g.uniqueName(`${n.name}_roi`), TensorData.float32([0], new Float32Array(0))) : null);
      n.setInput(1, roi);
      n.setInput(2, g.addConstant(g.uniqueName(`${n.name}_scales`), TensorData.float32([scales.length], Float32Array.from(scales))));
      n.truncateInputs(3);
      rb.add('resizesStatic');
      changed = true;
    }
  }
  // fully numeric int values -> initializers
  for (const [v, s] of syms) {
    if (!v.producer || v.const || !s.dims.every(isNum) || v.uses.length === 0) continue;
    if (v.producer.op === 'Constant') continue; // cleanup turns these into initializers
    const dims = s.scalar ? [] : [s.dims.length];
    const vals = s.dims as number[];
    const c = g.addConstant(g.uniqueName(`${v.name}_static`), v.dtype === DType.INT32 ? TensorData.int32(dims, vals) : TensorData.int64(dims, vals));
    if (v.isGraphOutput) continue;
    v.replaceAllUsesWith(c);
    rb.add('folded');
    changed = true;
  }
  return changed;
}

export const shapeSubgraphs: Pass<'shape-subgraphs'> = {
  name: 'shape-subgraphs',
  description: 'evaluate Shape/Gather/Concat/Slice arithmetic with a symbolic batch: dynamic flattens become Flatten, Resize sizes become scales, static parts fold',
  run(model, options, ctx): PassReport<'shape-subgraphs'> {
    const g = model.graph;
    const rb = new ReportBuilder('shape-subgraphs', ['folded', 'constantsFolded', 'flattens', 'reshapesStatic', 'expandsStatic', 'resizesStatic', 'nodesRemoved']);
    const opset = model.opset('') ?? 17;
    const real = g.realInputs();
    const input = real.length === 1 ? real[0]! : undefined;
    const saved = input?.shape;
    const symbol = typeof saved?.[0] === 'string' && saved[0] !== '' ? saved[0] : '__sf2_batch';
    if (input && saved && saved.length >= 1 && typeof saved[0] === 'number') input.shape = [symbol, ...saved.slice(1)];
    const hasShapeOps = g.nodes.some((n) => n.op === 'Shape');
    let changed = false;
    try {
      if (hasShapeOps) {
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const c = cleanup.run(model, options, ctx); // Constant -> initializer, constant subgraphs folded
          rb.add('constantsFolded', (c.counts.folded ?? 0) + (c.counts.shapeFolded ?? 0));
          for (const v of g.allValues()) if (v.producer) v.shape = undefined;
          inferShapes(g);
          const rewrote = rewriteRound(g, symbolicValues(g), rb, opset);
          changed ||= c.changed || rewrote;
          if (!rewrote) break;
          rb.add('nodesRemoved', g.cleanup().nodesRemoved);
        }
      }
    } finally {
      if (input && saved) input.shape = saved;
      if (changed || input?.shape !== saved) {
        for (const v of g.allValues()) if (v.producer) v.shape = undefined;
        inferShapes(g);
      }
    }
    const left = g.nodes.filter((n) => n.op === 'Shape').map((n) => n.name);
    for (const name of left) rb.skip(name, 'Shape stays: its value is needed at run time');
    return rb.build(changed, { shapeOpsLeft: left.length });
  },
};
