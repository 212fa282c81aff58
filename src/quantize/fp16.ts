/**
 * float32 model -> float16 weights and activations, float32 graph input and
 * output.
 *
 * Before:   x:f32 -> Conv(W:f32) -> PRelu -> ... -> Gemm -> BN1d -> e:f32
 * After:    x:f32 -> Cast(f16) -> Conv(W:f16) -> PRelu -> ... -> Gemm
 *                 -> Cast(f32) -> BN1d -> e:f32          (BN1d: block list)
 *
 * Each node is classified (fp16-ops.ts):
 *   fp16  its op has a float16 rule, is not on the block list, is not kept by
 *         the caller (sensitivity) or the runtime (islands), and all its T
 *         inputs are float32 (and its constant T inputs fit in float16);
 *   fp32  it touches float32 values but one of the above fails (the reason is
 *         reported);
 *   none  it touches no float32 value (shape arithmetic): left alone.
 * Exact ops (data movement, Relu, Max...) then follow their inputs: float16
 * only when an input comes from a float16 node.
 * Then every edge whose producer and consumer disagree gets ONE Cast per
 * (value, type): a value read by ten fp32 nodes is cast once. Constants are
 * converted instead of cast (round to nearest even). The graph input gets one
 * Cast, each graph output one Cast back, under the output's own name. Finally
 * `simplifyCasts` removes Cast pairs and chains (see there), so no Cast reads a
 * Cast.
 *
 * Emulation (`emulate: true`): the same classification, but everything stays
 * float32: fp16 nodes read weights rounded to float16 and every fp16 node's
 * output goes through Cast(f16) -> Cast(f32). onnxruntime's cpu EP computes a
 * real float16 model in float32 (fp16-ops.ts), so this is what measures the
 * rounding of activations that a float16 GPU kernel performs.
 */
import { attr } from '../ir/attribute.js';
import { cloneModel } from '../ir/clone.js';
import { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shape-infer.js';
import type { Value } from '../ir/value.js';
import { FLOAT16_MAX } from './schemes.js';
import { absMaxOf, float16Of } from './streamed.js';
import { FP16_BLOCK_LIST, FP16_OPS, ORT_CPU_FP16_KERNELS, TYPE_AGNOSTIC_OPS, slotsOf } from './fp16-ops.js';
import { simplifyCasts } from './casts.js';

export type KeepCategory = 'block-list' | 'sensitivity' | 'runtime' | 'no-rule' | 'overflow' | 'input-type' | 'follows-float32';

export interface KeptNode {
  readonly node: string;
  readonly op: string;
  readonly category: KeepCategory;
  readonly reason: string;
}

export interface Fp16Options {
  /** Node names to keep in float32 (decided by the sensitivity pass). */
  readonly keep?: ReadonlySet<string>;
  /** Why each `keep` node is kept (reported). */
  readonly keepReason?: (node: string) => string;
  /**
   * 'none' (default): every op with a float16 rule computes in float16 (what a
   * GPU with shader-f16 runs). 'ort-cpu': ops onnxruntime-node's cpu EP has no
   * float16 kernel for become explicit float32 islands (weights still stored in
   * float16, cast once when the session loads).
   */
  readonly islands?: 'none' | 'ort-cpu';
  /** Emulate float16 rounding in a float32 graph (for measurement only). */
  readonly emulate?: boolean;
}

export interface Fp16Report {
  /** Nodes computing in float16. */
  readonly float16Nodes: number;
  /** Nodes that touch float values and stayed float32, with why. */
  readonly keptFloat32: readonly KeptNode[];
  /** Cast nodes in the result (one per graph input/output plus island borders). */
  readonly casts: number;
  readonly castsRemoved: number;
  /** Constant tensors converted to float16 and their bytes before/after. */
  readonly weights: { readonly converted: number; readonly bytesBefore: number; readonly bytesAfter: number };
}

type Mode = 'fp16' | 'fp32' | 'none';

interface Plan {
  readonly mode: Map<Node, Mode>;
  readonly kept: KeptNode[];
}

function isFloat32(v: Value | null): boolean {
  return !!v && v.dtype === DType.FLOAT;
}

/** The float16 units of a model: nodes that would compute in float16 and are not exact there. */
export function float16Units(model: Model, options: Fp16Options = {}): Node[] {
  const plan = classify(model.graph, options);
  return model.graph.nodes.filter((n) => plan.mode.get(n) === 'fp16' && !FP16_OPS[n.op]!.exact);
}

function classify(g: Graph, o: Fp16Options): Plan {
  const mode = new Map<Node, Mode>();
  const kept: KeptNode[] = [];
  for (const n of g.nodes) {
    const touchesFloat = n.inputs.some(isFloat32) || n.outputs.some(isFloat32);
    if (!touchesFloat) {
      mode.set(n, 'none');
      continue;
    }
    const keep = (category: KeepCategory, reason: string) => {
      mode.set(n, 'fp32');
      kept.push({ node: n.name, op: n.op, category, reason });
    };
    const rule = n.domain === '' || n.domain === 'ai.onnx' ? FP16_OPS[n.op] : undefined;
    const blocked = n.domain === '' || n.domain === 'ai.onnx' ? FP16_BLOCK_LIST[n.op] : undefined;
    if (blocked) { keep('block-list', blocked); continue; }
    if (!rule) {
      if (TYPE_AGNOSTIC_OPS.has(n.op)) mode.set(n, 'none');
      else keep('no-rule', `no float16 rule for ${n.domain ? n.domain + '.' : ''}${n.op}`);
      continue;
    }
    const tIn = slotsOf(rule.inputs, n.inputs.length, [0]).map((i) => n.inputs[i]).filter((v): v is Value => !!v);
    if (!tIn.every(isFloat32)) {
      if (tIn.some(isFloat32)) keep('input-type', 'some of its T inputs are not float32 (or their type is unknown)');
      else mode.set(n, 'none');
      continue;
    }
    const big = tIn.find((v) => v.const && absMaxOf(v.const) > FLOAT16_MAX);
    if (big) { keep('overflow', `constant ${big.name} has values beyond float16's range (65504)`); continue; }
    if (o.keep?.has(n.name)) { keep('sensitivity', o.keepReason?.(n.name) ?? 'kept in float32 by the sensitivity pass'); continue; }
    if (o.islands === 'ort-cpu' && !ORT_CPU_FP16_KERNELS.has(n.op)) {
      keep('runtime', `onnxruntime-node cpu has no float16 ${n.op} kernel`);
      continue;
    }
    mode.set(n, 'fp16');
  }
  // Exact ops (data movement, max/min) follow their inputs: float16 only when some T input
  // comes from a float16 node, so a unit kept in float32 keeps its neighbourhood in float32
  // instead of rounding its output on the way into a Relu (nodes are in topological order).
  for (const n of g.nodes) {
    if (mode.get(n) !== 'fp16' || !FP16_OPS[n.op]!.exact) continue;
    const fromHalf = slotsOf(FP16_OPS[n.op]!.inputs, n.inputs.length, [0]).some((i) => {
      const p = n.inputs[i]?.producer;
      return p ? mode.get(p) === 'fp16' : false;
    });
    if (!fromHalf) {
      mode.set(n, 'fp32');
      kept.push({ node: n.name, op: n.op, category: 'follows-float32', reason: 'exact in any precision; its inputs are float32' });
    }
  }
  return { mode, kept };
}

/** Convert a copy of `model` (the input is not modified). */
export function convertToFloat16(model: Model, options: Fp16Options = {}): { model: Model; report: Fp16Report } {
  const out = cloneModel(model);
  const g = out.graph;
  inferShapes(g);
  const plan = classify(g, options);
  const emulate = !!options.emulate;
  const HALF = DType.FLOAT16, FLOAT = DType.FLOAT;

  // Current type of each value after conversion (only values that change are listed).
  const now = new Map<Value, number>();
  const typeOf = (v: Value) => now.get(v) ?? v.dtype;

  // Constants: converted copies, by (value, type).
  const constCache = new Map<Value, Value>();
  let converted = 0, bytesBefore = 0, bytesAfter = 0;
  const halfConst = (v: Value, fp16Uses: number): Value => {
    const hit = constCache.get(v);
    if (hit) return hit;
    const data = float16Of(v.const!, emulate); // lazy: converted chunk by chunk when written

    converted++;
    bytesBefore += v.const!.byteLength;
    bytesAfter += data.byteLength;
    let c: Value;
    if (fp16Uses === v.uses.length && !v.isGraphOutput && !v.isGraphInput) {
      v.const = data; // every reader wants the float16 copy: convert in place, keep the name
      v.dtype = data.dtype;
      c = v;
    } else {
      c = g.addConstant(`${v.name}_fp16`, data);
    }
    constCache.set(v, c);
    return c;
  };

  // Casts: one per (value, target type).
  const castCache = new Map<string, Value>();
  const castOf = (v: Value, to: number): Value => {
    const key = `${v.name}\u0000${to}`;
    const hit = castCache.get(key);
    if (hit) return hit;
    const n = g.addNode({ op: 'Cast', inputs: [v], attrs: { to: attr.int(to) }, outputs: [`${v.name}_${to === HALF ? 'fp16' : 'fp32'}`], name: `Cast_${v.name}_${to === HALF ? 'fp16' : 'fp32'}` });
    const c = n.output(0);
    c.dtype = to;
    c.shape = v.shape ? [...v.shape] : undefined;
    castCache.set(key, c);
    return c;
  };
  /** Emulation: x -> Cast(f16) -> Cast(f32), once per value; `name` names the result exactly. */
  const rounded = new Set<Value>();
  const roundTrip = (v: Value, name?: string): Value => {
    const key = `${v.name}\u0000rt`;
    const hit = castCache.get(key);
    if (hit) return hit;
    const base = name ?? v.name;
    const h = g.addNode({ op: 'Cast', inputs: [v], attrs: { to: attr.int(HALF) }, outputs: [`${base}_f16`], name: `Round_${base}_f16` }).output(0);
    h.dtype = HALF;
    h.shape = v.shape ? [...v.shape] : undefined;
    const backOut = name ? g.addValue(name, { exact: true }) : `${base}_r16`;
    const back = g.addNode({ op: 'Cast', inputs: [h], attrs: { to: attr.int(FLOAT) }, outputs: [backOut], name: `Round_${base}_f32` }).output(0);
    back.dtype = FLOAT;
    back.shape = v.shape ? [...v.shape] : undefined;
    castCache.set(key, back);
    rounded.add(back);
    return back;
  };

  // How many uses of each float32 constant are T slots of fp16 nodes (to convert in place when all are).
  const fp16ConstUses = new Map<Value, number>();
  for (const n of g.nodes) {
    if (plan.mode.get(n) !== 'fp16') continue;
    for (const i of slotsOf(FP16_OPS[n.op]!.inputs, n.inputs.length, [0])) {
      const v = n.inputs[i];
      if (v?.const && v.dtype === FLOAT) fp16ConstUses.set(v, (fp16ConstUses.get(v) ?? 0) + 1);
    }
  }
  const islands = new Set(plan.kept.filter((k) => k.category === 'runtime').map((k) => k.node));

  for (const n of [...g.nodes]) {
    const m = plan.mode.get(n);
    if (m === undefined) continue; // a Cast this loop added
    if (m === 'fp16') {
      const rule = FP16_OPS[n.op]!;
      for (const i of slotsOf(rule.inputs, n.inputs.length, [0])) {
        const v = n.inputs[i];
        if (!v) continue;
        if (v.const && v.dtype === FLOAT) n.setInput(i, halfConst(v, fp16ConstUses.get(v) ?? 0));
        else if (emulate) {
          if (!rounded.has(v)) n.setInput(i, roundTrip(v));
        } else if (typeOf(v) !== HALF) n.setInput(i, castOf(v, HALF));
      }
      // Emulation: an exact op on rounded inputs yields rounded outputs (no second rounding).
      const exactOnRounded = emulate && rule.exact && slotsOf(rule.inputs, n.inputs.length, [0]).every((i) => !n.inputs[i] || rounded.has(n.inputs[i]!) || n.inputs[i]!.const);
      for (const j of slotsOf(rule.outputs, n.outputs.length, [0])) {
        const o = n.outputs[j]!;
        if (o.dtype !== FLOAT) continue;
        if (exactOnRounded && !o.isGraphOutput) {
          rounded.add(o);
          continue;
        }
        if (emulate) {
          // Consumers (and a graph output, under its own name) read the rounded value.
          const k = g.outputs.indexOf(o);
          let r: Value;
          if (k >= 0) {
            const name = o.name;
            g.rename(o, g.uniqueName(`${name}_unrounded`));
            r = roundTrip(o, name);
            g.outputs[k] = r;
          } else r = roundTrip(o);
          const first = r.producer!.inputs[0]!.producer!;
          for (const u of [...o.uses]) if (u.index >= 0 && u.node !== first) u.node.setInput(u.index, r);
        } else {
          o.dtype = HALF;
          now.set(o, HALF);
        }
      }
      continue;
    }
    if (emulate || (m === 'none' && TYPE_AGNOSTIC_OPS.has(n.op))) continue;
    // float32 (or type-neutral) node: float16 values go back to float32.
    const tSlots = new Set(FP16_OPS[n.op] ? slotsOf(FP16_OPS[n.op]!.inputs, n.inputs.length, [0]) : []);
    n.inputs.forEach((v, i) => {
      if (!v) return;
      if (islands.has(n.name) && tSlots.has(i) && v.const && v.dtype === FLOAT && v.const.size >= 16) {
        // Runtime island: the weight stays float16 in the file, cast to float32 once at load.
        n.setInput(i, castOf(halfConst(v, 0), FLOAT));
      } else if (now.has(v)) n.setInput(i, castOf(v, FLOAT));
    });
  }

  // Graph outputs computed in float16: one Cast back, under the output's name.
  if (!emulate) {
    g.outputs.forEach((o, k) => {
      if (typeOf(o) !== HALF) return;
      const name = o.name;
      g.rename(o, g.uniqueName(`${name}_fp16`));
      const n = g.addNode({ op: 'Cast', inputs: [o], attrs: { to: attr.int(FLOAT) }, outputs: [g.addValue(name, { exact: true, dtype: FLOAT, shape: o.shape ? [...o.shape] : undefined })], name: `Cast_${name}_fp32` });
      g.outputs[k] = n.output(0);
    });
  }

  const castsRemoved = simplifyCasts(g);
  g.cleanup();
  g.toposort();
  inferShapes(g);
  const casts = g.nodes.filter((n) => n.op === 'Cast').length;
  const float16Nodes = g.nodes.filter((n) => plan.mode.get(n) === 'fp16').length;
  return {
    model: out,
    report: { float16Nodes, keptFloat32: plan.kept, casts, castsRemoved, weights: { converted, bytesBefore, bytesAfter } },
  };
}
