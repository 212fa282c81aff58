/**
 * int8 ONNX graphs, two flavours (schemes.ts has the arithmetic).
 *
 * Weight-only (per output channel, symmetric):
 *   Before:  x -> Conv(W:f32[O,I,k,k], b) -> y
 *   After:   Wq:int8, s:f32[O], z:int8[O]=0 -> DequantizeLinear{axis=0} -> W~
 *            x -> Conv(W~, b) -> y                  (activations stay float32)
 * Gemm: axis 0 with transB=1 ([N, K]), 1 without ([K, N]); MatMul: the last axis.
 *
 * Static QDQ (per-channel weights, per-tensor activations):
 *   x -> QuantizeLinear(s_x, z_x) -> DequantizeLinear -> Conv(W~, b~) -> y
 *   with W~ as above and the bias as int32, b_q = round(b / (s_x s_w[c])),
 *   dequantized with scale s_x s_w[c] (what QLinearConv adds inside its int32
 *   accumulator; a bias that would not fit in int32 stays float32).
 *   Activations are uint8, asymmetric, one (scale, zero point) per tensor:
 *   onnxruntime's x86 kernels are u8s8 (uint8 activations, int8 weights).
 * A "unit" is one node whose inputs get quantized (table QDQ_UNITS); a unit
 * kept in float32 reads the float tensors while its neighbours read the
 * dequantized copies, so mixed precision is a set of node names.
 *   Relu absorption: Q(Relu(a)) = Q(a) when the zero point is 0 (the uint8
 *   range of a ReLU output is [0, hi], and Q clamps negatives to 0), so a ReLU
 *   whose output is quantized for every reader is dropped and its input
 *   quantized instead (onnxruntime then fuses Conv + Q into QLinearConv).
 *
 * Both need opset 13 (per-axis DequantizeLinear): opset.ts raises it.
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
import { activationParams, quantizeWeightPerChannel, roundHalfEven, type AffineParams } from './schemes.js';
import { int8PerChannelOf } from './streamed.js';
import { upgradeOpset, type OpsetUpgrade } from './opset.js';
import type { TensorRange } from './calibrate.js';

export const INT8_OPSET = 13;

interface WeightRule {
  readonly weight: number;
  readonly bias?: number;
  /** Output-channel axis of the weight. */
  readonly axis: (n: Node, w: TensorData) => number;
}

/** Ops with a constant weight quantized per output channel. */
export const WEIGHT_OPS: Readonly<Record<string, WeightRule>> = {
  Conv: { weight: 1, bias: 2, axis: () => 0 },
  ConvTranspose: { weight: 1, axis: () => 1 },
  Gemm: { weight: 1, bias: 2, axis: (n) => (n.attrInt('transB', 0) === 1 ? 0 : 1) },
  MatMul: { weight: 1, axis: (_n, w) => w.dims.length - 1 },
};

/** Static QDQ: nodes whose activation inputs (slots) are quantized. */
export const QDQ_UNITS: Readonly<Record<string, readonly number[] | 'all'>> = {
  Conv: [0], ConvTranspose: [0], Gemm: [0], MatMul: [0, 1],
  Add: 'all', Mul: 'all', Concat: 'all',
  PRelu: [0], LeakyRelu: [0], Sigmoid: [0],
  MaxPool: [0], AveragePool: [0], GlobalAveragePool: [0],
  Flatten: [0], Reshape: [0], Transpose: [0], Squeeze: [0], Unsqueeze: [0],
};

export type Int8Scheme = 'weight-only' | 'qdq';

export interface Int8BuildOptions {
  /** Node names kept in float32. */
  readonly keep?: ReadonlySet<string>;
  /** QDQ: drop a Relu whose output is quantized with zero point 0 (exact; default true). */
  readonly absorbRelu?: boolean;
}

export interface WeightOnlyReport {
  readonly opset: OpsetUpgrade;
  readonly quantizedWeights: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

function isWeightNode(n: Node): boolean {
  const r = WEIGHT_OPS[n.op];
  if (!r || (n.domain !== '' && n.domain !== 'ai.onnx')) return false;
  const w = n.inputs[r.weight];
  return !!w?.const && w.dtype === DType.FLOAT && w.const.dims.length >= 2 && !n.inputs[0]?.const;
}

/** The weight-only units of a model: nodes with a float32 constant weight. */
export function weightUnits(model: Model): Node[] {
  return model.graph.nodes.filter(isWeightNode);
}

class WeightQuantizer {
  private readonly cache = new Map<Value, { dq: Value; scales: Float32Array }>();
  count = 0;
  bytesBefore = 0;
  bytesAfter = 0;
  constructor(private readonly g: Graph) {}
  /** DequantizeLinear(int8 W) for `w`, shared by every node reading it. */
  get(n: Node, w: Value): { dq: Value; scales: Float32Array } {
    const hit = this.cache.get(w);
    if (hit) return hit;
    const rule = WEIGHT_OPS[n.op]!;
    const axis = rule.axis(n, w.const!);
    const q = int8PerChannelOf(w.const!, axis); // int8 computed chunk by chunk when written
    const g = this.g;
    const qv = g.addConstant(`${w.name}_int8`, q.data);
    const sv = g.addConstant(`${w.name}_scale`, TensorData.float32([q.scales.length], q.scales));
    const zv = g.addConstant(`${w.name}_zero_point`, TensorData.int8([q.scales.length], new Int8Array(q.scales.length)));
    const dq = g.addNode({ op: 'DequantizeLinear', inputs: [qv, sv, zv], attrs: { axis: attr.int(axis) }, outputs: [`${w.name}_dequantized`], name: `DequantizeLinear_${w.name}` }).output(0);
    dq.dtype = DType.FLOAT;
    dq.shape = [...q.dims];
    this.count++;
    this.bytesBefore += w.const!.byteLength;
    this.bytesAfter += qv.const!.byteLength + sv.const!.byteLength + zv.const!.byteLength;
    const res = { dq, scales: q.scales };
    this.cache.set(w, res);
    return res;
  }
}

/** Weight-only int8 on a copy of `model`. */
export function buildWeightOnly(model: Model, o: Int8BuildOptions = {}): { model: Model; report: WeightOnlyReport } {
  const out = cloneModel(model);
  const opset = upgradeOpset(out, INT8_OPSET);
  const g = out.graph;
  const wq = new WeightQuantizer(g);
  for (const n of [...g.nodes]) {
    if (!isWeightNode(n) || o.keep?.has(n.name)) continue;
    const slot = WEIGHT_OPS[n.op]!.weight;
    n.setInput(slot, wq.get(n, n.inputs[slot]!).dq);
  }
  g.cleanup();
  g.toposort();
  inferShapes(g);
  return { model: out, report: { opset, quantizedWeights: wq.count, bytesBefore: wq.bytesBefore, bytesAfter: wq.bytesAfter } };
}

function unitSlots(n: Node): number[] {
  const spec = QDQ_UNITS[n.op];
  if (!spec || (n.domain !== '' && n.domain !== 'ai.onnx')) return [];
  const slots = spec === 'all' ? [...n.inputs.keys()] : spec.filter((i) => i < n.inputs.length);
  return slots.filter((i) => {
    const v = n.inputs[i];
    return !!v && !v.const && v.dtype === DType.FLOAT;
  });
}

/** The QDQ units of a model: nodes with at least one float32 activation input to quantize. */
export function qdqUnits(model: Model): Node[] {
  return model.graph.nodes.filter((n) => unitSlots(n).length > 0);
}

/** Tensors whose ranges static QDQ needs (before Relu absorption, which only reuses them). */
export function qdqTensors(model: Model): string[] {
  const out = new Set<string>();
  for (const n of qdqUnits(model)) for (const i of unitSlots(n)) out.add(n.inputs[i]!.name);
  return [...out].sort();
}

export interface QdqReport {
  readonly opset: OpsetUpgrade;
  readonly activationType: 'uint8';
  readonly quantizedTensors: number;
  readonly quantizedWeights: number;
  readonly int32Biases: number;
  readonly floatBiases: readonly string[];
  readonly absorbedRelus: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** Static QDQ on a copy of `model`, with calibrated `ranges` (by tensor name). */
export function buildQdq(model: Model, ranges: ReadonlyMap<string, TensorRange>, o: Int8BuildOptions = {}): { model: Model; report: QdqReport } {
  const out = cloneModel(model);
  const opset = upgradeOpset(out, INT8_OPSET);
  const g = out.graph;
  const units = qdqUnits(out).filter((n) => !o.keep?.has(n.name));
  const unitSet = new Set(units);

  // Which (tensor -> consumers) get the dequantized copy.
  const readers = new Map<Value, { node: Node; slot: number }[]>();
  for (const n of units) {
    for (const i of unitSlots(n)) {
      const v = n.inputs[i]!;
      if (!readers.has(v)) readers.set(v, []);
      readers.get(v)!.push({ node: n, slot: i });
    }
  }
  const params = new Map<Value, AffineParams>();
  for (const v of readers.keys()) {
    const r = ranges.get(v.name);
    if (!r) throw new Error(`no calibrated range for ${v.name}`);
    params.set(v, activationParams(r.lo, r.hi, 'uint8'));
  }

  // Relu absorption (see the header): quantize the Relu's input with the Relu output's parameters.
  let absorbedRelus = 0;
  for (const [v, rs] of o.absorbRelu === false ? [] : [...readers]) {
    const relu = v.producer;
    const p = params.get(v)!;
    if (!relu || relu.op !== 'Relu' || p.zeroPoint !== 0 || v.isGraphOutput) continue;
    if (rs.length !== v.uses.length) continue; // a float32 reader still needs the Relu
    const a = relu.inputs[0];
    if (!a || a.uses.length !== 1 || a.isGraphOutput || a.isGraphInput || readers.has(a)) continue;
    readers.delete(v);
    params.delete(v);
    readers.set(a, rs);
    params.set(a, p);
    absorbedRelus++;
  }

  let quantizedTensors = 0;
  for (const [v, rs] of readers) {
    const p = params.get(v)!;
    const base = v.name;
    const s = g.addConstant(`${base}_scale`, TensorData.float32([], [p.scale]));
    const z = g.addConstant(`${base}_zero_point`, TensorData.fromBytes(DType.UINT8, [], Uint8Array.of(p.zeroPoint)));
    const q = g.addNode({ op: 'QuantizeLinear', inputs: [v, s, z], outputs: [`${base}_quantized`], name: `QuantizeLinear_${base}` }).output(0);
    q.dtype = DType.UINT8;
    q.shape = v.shape ? [...v.shape] : undefined;
    const dq = g.addNode({ op: 'DequantizeLinear', inputs: [q, s, z], outputs: [`${base}_dequantized`], name: `DequantizeLinear_${base}` }).output(0);
    dq.dtype = DType.FLOAT;
    dq.shape = v.shape ? [...v.shape] : undefined;
    for (const r of rs) r.node.setInput(r.slot, dq);
    quantizedTensors++;
  }
  // A Relu whose output nobody reads any more goes with cleanup.

  const wq = new WeightQuantizer(g);
  let int32Biases = 0;
  const floatBiases: string[] = [];
  for (const n of units) {
    if (!isWeightNode(n)) continue;
    const rule = WEIGHT_OPS[n.op]!;
    const w = n.inputs[rule.weight]!;
    const { dq, scales } = wq.get(n, w);
    n.setInput(rule.weight, dq);
    const b = rule.bias !== undefined ? n.inputs[rule.bias] : null;
    const xDq = n.inputs[0];
    const xQ = xDq?.producer?.op === 'DequantizeLinear' ? xDq.producer : undefined;
    if (!b?.const || b.dtype !== DType.FLOAT || !xQ || b.const.size !== scales.length) {
      if (b?.const) floatBiases.push(`${n.name}: ${!xQ ? 'its input is not quantized' : 'bias shape does not match the weight channels'}`);
      continue;
    }
    const sx = xQ.inputs[1]!.const!.float32()[0]!;
    const bias = b.const.float32();
    const bs = new Float32Array(scales.length);
    const bq = new Int32Array(scales.length);
    let fits = true;
    for (let c = 0; c < scales.length; c++) {
      bs[c] = sx * scales[c]!;
      const qv = roundHalfEven(bias[c]! / bs[c]!);
      if (!Number.isFinite(qv) || Math.abs(qv) > 2 ** 31 - 1) fits = false;
      bq[c] = qv;
    }
    if (!fits) {
      floatBiases.push(`${n.name}: the int32 bias would overflow`);
      continue;
    }
    const bqv = g.addConstant(`${b.name}_int32`, TensorData.int32([bq.length], bq));
    const bsv = g.addConstant(`${b.name}_scale`, TensorData.float32([bs.length], bs));
    const bzv = g.addConstant(`${b.name}_zero_point`, TensorData.int32([bq.length], new Int32Array(bq.length)));
    const bdq = g.addNode({ op: 'DequantizeLinear', inputs: [bqv, bsv, bzv], attrs: { axis: attr.int(0) }, outputs: [`${b.name}_dequantized`], name: `DequantizeLinear_${b.name}_${n.name}` }).output(0);
    bdq.dtype = DType.FLOAT;
    bdq.shape = [bq.length];
    n.setInput(rule.bias!, bdq);
    int32Biases++;
  }
  void unitSet;
  g.cleanup();
  g.toposort();
  inferShapes(g);
  return {
    model: out,
    report: { opset, activationType: 'uint8', quantizedTensors, quantizedWeights: wq.count, int32Biases, floatBiases, absorbedRelus, bytesBefore: wq.bytesBefore, bytesAfter: wq.bytesAfter },
  };
}
