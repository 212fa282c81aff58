/**
 * Switch models for the sensitivity scan: ONE graph in which every unit can be
 * put in lower precision by its own boolean graph input, so that measuring
 * "unit u alone" is one run of one session instead of one session per unit
 * (an iresnet100 has ~200 units and takes seconds to load).
 *
 *   x' = Where(switch_u, lowered(x), x)      for every input x unit u reads
 *
 * int8 (both flavours): lowered(x) is the DequantizeLinear the fully
 * quantized graph already has in front of u (activation, weight or bias); the
 * float original is the QuantizeLinear's input, or the float32 constant of the
 * source model. float16 (the emulation of fp16.ts): lowered(x) rounds through
 * float16 (Cast pair) or is the constant rounded to float16, and u's output
 * is switched the same way. With only switch_u on, the graph computes the
 * model with u alone in lower precision: exactly for weight-only int8 and
 * float16, and as fake quantization in float32 for QDQ (onnxruntime fuses the
 * real model into integer kernels whose requantization rounds slightly
 * differently). The scan only ranks; every decision is measured on the real
 * model.
 */
import { attr } from '../ir/attribute.js';
import { cloneModel } from '../ir/clone.js';
import { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shape-infer.js';
import { TensorData } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { FP16_OPS, slotsOf } from './fp16-ops.js';
import { float16Units } from './fp16.js';
import { roundToFloat16 } from './schemes.js';

export interface SwitchModel {
  readonly model: Model;
  /** Unit node name -> the boolean input that lowers it. */
  readonly switches: ReadonlyMap<string, string>;
}

/** Where needs opset 9. */
export const SWITCH_MIN_OPSET = 9;

function addSwitch(g: Graph, k: number): Value {
  const sw = g.addValue(`sf2_switch_${k}`, { dtype: DType.BOOL, shape: [] });
  g.inputs.push(sw);
  return sw;
}

function where(g: Graph, sw: Value, lowered: Value, original: Value, name: string): Value {
  const w = g.addNode({ op: 'Where', inputs: [sw, lowered, original], outputs: [`${name}_switched`], name: `Where_${name}` }).output(0);
  w.dtype = original.dtype ?? DType.FLOAT;
  w.shape = original.shape ? [...original.shape] : lowered.shape ? [...lowered.shape] : undefined;
  return w;
}

/** `quantized`: built from `original` with every unit quantized (and no Relu absorption). */
export function int8SwitchModel(quantized: Model, original: Model, units: readonly string[]): SwitchModel {
  const out = cloneModel(quantized);
  const g = out.graph;
  const source = new Map(original.graph.nodes.map((n) => [n.name, n]));
  const nodes = new Map(g.nodes.map((n) => [n.name, n]));
  const switches = new Map<string, string>();
  units.forEach((name, k) => {
    const n = nodes.get(name);
    const src = source.get(name);
    if (!n || !src) return;
    const sw = addSwitch(g, k);
    switches.set(name, sw.name);
    n.inputs.forEach((v, i) => {
      const dq = v?.producer;
      if (!v || dq?.op !== 'DequantizeLinear') return;
      const q = dq.inputs[0]?.producer;
      let orig: Value | undefined;
      if (q?.op === 'QuantizeLinear') orig = q.inputs[0]!;
      else {
        const w = src.inputs[i];
        if (!w?.const) return;
        orig = g.value(w.name) ?? g.addConstant(w.name, w.const);
      }
      n.setInput(i, where(g, sw, v, orig, `${name}_${i}`));
    });
  });
  g.toposort();
  return { model: out, switches };
}

/** The float16 emulation with one switch per float16 unit (see the header). */
export function float16SwitchModel(model: Model): SwitchModel {
  const units = float16Units(model).map((n) => n.name);
  const out = cloneModel(model);
  const g = out.graph;
  inferShapes(g);
  const nodes = new Map(g.nodes.map((n) => [n.name, n]));
  const rounded = new Map<Value, Value>();
  const roundTrip = (v: Value): Value => {
    let r = rounded.get(v);
    if (r) return r;
    if (v.const) {
      r = g.addConstant(`${v.name}_r16`, TensorData.float32(v.const.dims, roundToFloat16(v.const.float32())));
    } else {
      const h = g.addNode({ op: 'Cast', inputs: [v], attrs: { to: attr.int(DType.FLOAT16) }, outputs: [`${v.name}_f16`], name: `Round_${v.name}_f16` }).output(0);
      h.dtype = DType.FLOAT16;
      r = g.addNode({ op: 'Cast', inputs: [h], attrs: { to: attr.int(DType.FLOAT) }, outputs: [`${v.name}_r16`], name: `Round_${v.name}_f32` }).output(0);
      r.dtype = DType.FLOAT;
      r.shape = v.shape ? [...v.shape] : undefined;
    }
    rounded.set(v, r);
    return r;
  };
  const switches = new Map<string, string>();
  units.forEach((name, k) => {
    const n: Node | undefined = nodes.get(name);
    if (!n) return;
    const rule = FP16_OPS[n.op]!;
    const sw = addSwitch(g, k);
    switches.set(name, sw.name);
    for (const i of slotsOf(rule.inputs, n.inputs.length, [0])) {
      const v = n.inputs[i];
      if (v && v.dtype === DType.FLOAT) n.setInput(i, where(g, sw, roundTrip(v), v, `${name}_in${i}`));
    }
    for (const j of slotsOf(rule.outputs, n.outputs.length, [0])) {
      const o = n.outputs[j]!;
      if (o.dtype !== DType.FLOAT) continue;
      const readers = [...o.uses];
      const k2 = g.outputs.indexOf(o);
      const finalName = o.name;
      if (k2 >= 0) g.rename(o, g.uniqueName(`${finalName}_unswitched`));
      const r = roundTrip(o);
      const w = where(g, sw, r, o, `${name}_out${j}`);
      for (const u of readers) if (u.index >= 0) u.node.setInput(u.index, w);
      if (k2 >= 0) {
        g.rename(w, finalName);
        g.outputs[k2] = w;
      }
    }
  });
  g.toposort();
  return { model: out, switches };
}

/**
 * Target weight schemes (target-int8.ts): each unit's weight (input 1) becomes
 *   W' = Where(switch_u, W~, W)
 * with W~ the float32 weight as the target stores it (quantized and
 * dequantized by the target's own scheme). Weight-only int8 with float
 * activations, so the switched graph computes the target's numbers exactly,
 * up to summation order.
 */
export function weightSwitchModel(model: Model, approx: ReadonlyMap<string, Float32Array>): SwitchModel {
  const out = cloneModel(model);
  const g = out.graph;
  const switches = new Map<string, string>();
  let k = 0;
  for (const n of g.nodes) {
    const a = approx.get(n.name);
    const w = n.inputs[1];
    if (!a || !w?.const) continue;
    const sw = addSwitch(g, k++);
    switches.set(n.name, sw.name);
    const low = g.addConstant(g.uniqueName(`${w.name}_target_int8`), TensorData.float32(w.const.dims, a));
    n.setInput(1, where(g, sw, low, w, `${n.name}_w`));
  }
  g.toposort();
  return { model: out, switches };
}

