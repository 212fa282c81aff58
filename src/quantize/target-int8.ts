/**
 * int8 mixed precision decided for a target's own weight scheme (tfjs: per-tensor
 * uint8 affine or per-channel int8 + scale, chosen per kernel; WebGPU: int8
 * symmetric per output channel), not the ONNX target's.
 *
 * Both targets quantize weights only and compute in float32, so a float32 ONNX
 * model in which each unit's weight W is replaced by W~ (the target's stored
 * weight, dequantized by the target's own code) computes the target's
 * embedding up to summation order. On that model, on onnxruntime-node cpu,
 * against the same references and thresholds as the ONNX target (index.ts),
 * sensitivity.ts decides which units stay float32:
 *   1. every unit as the target stores it; thresholds hold (mode auto): done;
 *   2. each unit alone (one switch model: switches.ts weightSwitchModel);
 *   3. the k worst in float32, the smallest k that holds, by bisection.
 * The target then writes those units' weights in float32 and lists them in its
 * details (`higherPrecision`); the parity step measures the real bundle.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { TensorData } from '../ir/tensor.js';
import { context, failureText, keptWhy, measurer, sensitivityInfo, summary, switchScan, type MeasureInputs, type QuantizeDetails } from './index.js';
import { INT8_THRESHOLDS, type Thresholds } from './metric.js';
import { decideMixedPrecision, type SensitivityMode } from './sensitivity.js';
import { weightSwitchModel } from './switches.js';

/** The target's float32 weight after its int8 round trip, in the ONNX layout of `n`'s input 1; null: not quantized. */
export type TargetWeight = (n: Node) => Float32Array | null;

export interface TargetInt8Options {
  /** e.g. 'tfjs' or 'webgpu', for the report. */
  readonly target: string;
  /** What the target stores, for the report. */
  readonly scheme: string;
  readonly thresholds?: Thresholds;
  readonly sensitivity?: SensitivityMode;
  readonly log?: Logger;
}

export interface TargetInt8Decision {
  /** ONNX node names whose weights stay float32. */
  readonly keep: ReadonlySet<string>;
  readonly details: QuantizeDetails;
}

/** The model with every unit not in `keep` reading W~. */
function simulated(model: Model, approx: ReadonlyMap<string, Float32Array>, keep: ReadonlySet<string>): Model {
  const m = cloneModel(model);
  const g = m.graph;
  for (const n of g.nodes) {
    const a = approx.get(n.name);
    const w = n.inputs[1];
    if (!a || keep.has(n.name) || !w?.const) continue;
    n.setInput(1, g.addConstant(g.uniqueName(`${w.name}_target_int8`), TensorData.float32(w.const.dims, a)));
  }
  return m;
}

export async function decideTargetInt8(model: Model, inputs: MeasureInputs, weight: TargetWeight, options: TargetInt8Options): Promise<TargetInt8Decision> {
  const log = options.log ?? silentLogger;
  const thresholds = options.thresholds ?? INT8_THRESHOLDS;
  const mode = options.sensitivity ?? 'auto';
  const approx = new Map<string, Float32Array>();
  const units: { node: string; op: string }[] = [];
  for (const n of model.graph.nodes) {
    const a = n.inputs[1]?.const ? weight(n) : null;
    if (!a) continue;
    approx.set(n.name, a);
    units.push({ node: n.name, op: n.op });
  }
  const ctx = await context(model, inputs, thresholds);
  const measure = measurer(ctx, thresholds);
  const scan = switchScan(ctx, thresholds, () => weightSwitchModel(model, approx), log);
  const mp = await decideMixedPrecision(units, (keep, rows) => measure(simulated(model, approx, keep), rows), mode, (m) => log.debug(`${options.target} int8 ${m}`), scan);
  const why = keptWhy(`${options.target} int8`, mp, thresholds);
  const result = mp.final;
  return {
    keep: mp.keep,
    details: {
      precision: 'int8',
      scheme: options.scheme,
      measuredOn: `${ctx.measuredOn}, the ${options.target} weights dequantized into a float32 model (weight-only: the target's arithmetic up to summation order)`,
      inputs: ctx.inputsInfo,
      thresholds,
      float32: summary(ctx.float32),
      allQuantized: summary(mp.initial),
      result: summary(result),
      higherPrecision: mp.kept.map((k) => ({ node: k.node, op: k.op, precision: 'fp32' as const, why: why.get(k.node)! })),
      sensitivity: sensitivityInfo(mode, mp),
      units: units.length,
      pass: result.pass,
      ...(result.pass ? {} : { failure: failureText(result, thresholds, mp.keep.size === units.length) }),
    },
  };
}
