/**
 * Quantization entry points used by the targets: float32 model in, quantized
 * model and a report out. Every decision is measured on onnxruntime-node cpu
 * against reference embeddings (the PyTorch references when given, else the
 * float32 model's own embeddings on the same runtime):
 *
 *   quantizeFloat16: float16 weights and activations (fp16.ts), block list,
 *     then the sensitivity pass on the float16 emulation (activations rounded
 *     to float16 after every float16 node) with the fp16 thresholds.
 *   quantizeInt8: weight-only or static QDQ (int8.ts), activation ranges
 *     calibrated on the inputs (calibrate.ts), then the sensitivity pass on
 *     the real int8 model with the int8 thresholds.
 *
 * The returned details go into TargetResult.details (and the manifest): the
 * scheme, what stayed in higher precision and why, the per-layer
 * measurements when they were needed, and the final metric.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Model } from '../ir/model.js';
import { convertToFloat16, float16Units, type KeptNode } from './fp16.js';
import { buildQdq, buildWeightOnly, qdqTensors, qdqUnits, weightUnits, type Int8Scheme } from './int8.js';
import { calibrate, DEFAULT_PERCENTILE, type CalibrationMethod } from './calibrate.js';
import { checkEmbeddings, FP16_THRESHOLDS, INT8_THRESHOLDS, type EmbeddingCheck, type Pairs, type Thresholds } from './metric.js';
import { uniformInputs } from '../data/synthetic.js';
import { loadOrt, openRunner, runEmbeddings, type Batches } from '../data/ort-run.js';
import { decideMixedPrecision, type MixedPrecision, type ScanAlone, type SensitivityMode } from './sensitivity.js';
import { float16SwitchModel, int8SwitchModel, SWITCH_MIN_OPSET, type SwitchModel } from './switches.js';
import { UsageError } from '../errors.js';

export { quantizeWeightPerChannel, dequantizePerChannel, toFloat16, fromFloat16, activationParams, SCALE_FLOOR } from './schemes.js';
export type { PerChannelInt8 } from './schemes.js';
export type { Int8Scheme } from './int8.js';
export type { CalibrationMethod } from './calibrate.js';

/** The default int8 flavour of the ONNX bundle (measured: docs/quantization.md). */
export const DEFAULT_INT8_SCHEME: Int8Scheme = 'weight-only';
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'percentile';

export interface MeasureInputs {
  /** Inputs [N, C, H, W] float32, for calibration and measurement. */
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /** Reference embeddings [N, D] for these rows (PyTorch); default: the float32 model on onnxruntime cpu. */
  readonly reference?: Float32Array;
  /** Verification pairs over these rows (decision flips are checked when given). */
  readonly pairs?: Pairs;
  /** Where the inputs came from, for the report. */
  readonly source?: string;
}

export interface QuantizeOptions {
  readonly thresholds?: Thresholds;
  /** 'auto' (default): per-layer measurements only when the fully quantized model misses a threshold. */
  readonly sensitivity?: SensitivityMode;
  readonly log?: Logger;
  /** fp16: explicit float32 islands for onnxruntime cpu (fp16.ts). */
  readonly islands?: 'none' | 'ort-cpu';
  /** int8 */
  readonly scheme?: Int8Scheme;
  readonly method?: CalibrationMethod;
  readonly percentile?: number;
}

export interface MetricSummary {
  readonly minCosine: number;
  readonly meanCosine: number;
  readonly flips: number | null;
  /** Reference thresholds (best accuracy, FAR 1e-3) the flips are counted at. */
  readonly threshold: number | null;
  readonly thresholdAtFar: number | null;
  readonly pass: boolean;
}

export interface HigherPrecision {
  readonly node: string;
  readonly op: string;
  readonly precision: 'fp32';
  readonly why: string;
}

export interface QuantizeDetails {
  readonly precision: 'fp16' | 'int8';
  readonly scheme: string;
  readonly measuredOn: string;
  readonly inputs: { readonly rows: number; readonly source: string; readonly reference: string; readonly pairs: number };
  readonly thresholds: Thresholds;
  /** float32 model vs the reference (the floor any precision is measured against). */
  readonly float32: MetricSummary;
  /** Every unit quantized, before any mixed-precision decision. */
  readonly allQuantized: MetricSummary;
  /** The model as written. */
  readonly result: MetricSummary;
  /** fp16: the float16 emulation the decisions were made on. */
  readonly emulated?: MetricSummary;
  readonly higherPrecision: readonly HigherPrecision[];
  readonly sensitivity: {
    readonly mode: SensitivityMode;
    readonly measured: boolean;
    readonly evaluations: number;
    /** Rows of the per-layer scan (the inputs the fully quantized model hurts most). */
    readonly scanRows: number;
    /** Per-layer measurements on the scan rows, worst first (at most 20). */
    readonly worst: readonly { node: string; op: string; minCosine: number; meanCosine: number }[];
  };
  readonly pass: boolean;
  /** Why the thresholds do not hold, when they do not. */
  readonly failure?: string;
  readonly [extra: string]: unknown;
}

export interface QuantizeResult {
  readonly model: Model;
  readonly details: QuantizeDetails;
}

export function summary(c: EmbeddingCheck): MetricSummary {
  return { minCosine: c.minCosine, meanCosine: c.meanCosine, flips: c.flips, threshold: c.threshold, thresholdAtFar: c.thresholdAtFar, pass: c.pass };
}

async function runtimeName(): Promise<string> {
  const ort = await loadOrt();
  return `onnxruntime-node ${ort.env.versions.common} cpu`;
}

/** Deterministic synthetic inputs in [-1, 1] (when no calibration data is given). */
export function syntheticInputs(model: Model, rows = 16): MeasureInputs {
  const x = model.graph.realInputs()[0]!;
  const dims = (x.shape ?? [null, 3, 112, 112]).map((d, i) => (typeof d === 'number' ? d : i === 0 ? rows : i === 1 ? 3 : 112));
  dims[0] = rows;
  const data = uniformInputs(dims.reduce((a, b) => a * b, 1)); // src/data/synthetic.ts
  return { data, dims, source: `synthetic: ${rows} rows uniform in [-1, 1] (no calibration data given)` };
}

export interface Context {
  readonly output: string;
  readonly dim: number;
  readonly batches: Batches;
  readonly reference: Float32Array;
  readonly pairs: Pairs | undefined;
  readonly float32: EmbeddingCheck;
  readonly inputsInfo: QuantizeDetails['inputs'];
  readonly measuredOn: string;
}

export async function context(model: Model, inputs: MeasureInputs, thresholds: Thresholds): Promise<Context> {
  const output = model.graph.outputs[0]!.name;
  const batches: Batches = { data: inputs.data, dims: inputs.dims };
  const e32 = await runEmbeddings(model, batches, output);
  const rows = inputs.dims[0]!;
  const dim = e32.length / rows;
  if (inputs.reference && inputs.reference.length !== e32.length) {
    throw new UsageError(`reference embeddings have ${inputs.reference.length} values, the model gives ${e32.length} for ${rows} rows`, 'pass the references of the same inputs');
  }
  const reference = inputs.reference ?? e32;
  return {
    output, dim, batches, reference, pairs: inputs.pairs,
    float32: checkEmbeddings(reference, e32, dim, thresholds, inputs.pairs),
    inputsInfo: {
      rows,
      source: inputs.source ?? 'calibration data',
      reference: inputs.reference ? 'reference embeddings given with the inputs (PyTorch)' : 'the float32 model on onnxruntime-node cpu',
      pairs: inputs.pairs?.issame.length ?? 0,
    },
    measuredOn: await runtimeName(),
  };
}

/** Measure a model on all rows (with pairs) or on a subset of rows (cosines only). */
export function measurer(ctx: Context, thresholds: Thresholds) {
  const rowSize = ctx.batches.data.length / ctx.batches.dims[0]!;
  return async (m: Model, rows?: readonly number[]): Promise<EmbeddingCheck> => {
    const input = m;
    if (!rows) return checkEmbeddings(ctx.reference, await runEmbeddings(input, ctx.batches, ctx.output), ctx.dim, thresholds, ctx.pairs);
    const data = new Float32Array(rows.length * rowSize);
    const ref = new Float32Array(rows.length * ctx.dim);
    rows.forEach((r, i) => {
      data.set(ctx.batches.data.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
      ref.set(ctx.reference.subarray(r * ctx.dim, (r + 1) * ctx.dim), i * ctx.dim);
    });
    const e = await runEmbeddings(input, { data, dims: [rows.length, ...ctx.batches.dims.slice(1)] }, ctx.output);
    return checkEmbeddings(ref, e, ctx.dim, thresholds);
  };
}

/** Each unit alone on the scan rows, through one switch model and one session (switches.ts). */
export function switchScan(ctx: Context, thresholds: Thresholds, build: () => SwitchModel | null, log: Logger): ScanAlone | undefined {
  return async (units, rows) => {
    const sm = build();
    if (!sm) throw new Error('no switch model');
    const rowSize = ctx.batches.data.length / ctx.batches.dims[0]!;
    const pick = rows ?? [...Array(ctx.batches.dims[0]!).keys()];
    const data = new Float32Array(pick.length * rowSize);
    const ref = new Float32Array(pick.length * ctx.dim);
    pick.forEach((r, i) => {
      data.set(ctx.batches.data.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
      ref.set(ctx.reference.subarray(r * ctx.dim, (r + 1) * ctx.dim), i * ctx.dim);
    });
    const input = { data, dims: [pick.length, ...ctx.batches.dims.slice(1)] };
    const runner = await openRunner(sm.model);
    try {
      const off = Object.fromEntries([...sm.switches.values()].map((k) => [k, false]));
      const out: { minCosine: number; meanCosine: number }[] = [];
      for (const u of units) {
        const name = sm.switches.get(u.node);
        if (!name) throw new Error(`unit ${u.node} has no switch`);
        const e = await runner.run(input, ctx.output, { ...off, [name]: true });
        const c = checkEmbeddings(ref, e, ctx.dim, thresholds);
        out.push({ minCosine: c.minCosine, meanCosine: c.meanCosine });
        if (out.length % 20 === 0) log.debug(`sensitivity: ${out.length}/${units.length} units measured`);
      }
      return out;
    } finally {
      await runner.close();
    }
  };
}

export function keptWhy(kind: string, mp: MixedPrecision, thresholds: Thresholds): Map<string, string> {
  const total = mp.layers?.length ?? 0;
  return new Map(mp.kept.map((k, i) => [k.node, `sensitivity: ${kind} alone gives min cosine ${k.minCosine.toFixed(6)} on the ${mp.scanRows} most affected inputs (rank ${i + 1} of ${total}); the ${mp.kept.length} worst stay float32 so that the embedding holds min cosine >= ${thresholds.minCosine} with at most ${thresholds.maxFlips} flips (measured: ${mp.final.minCosine.toFixed(6)}, ${mp.final.flips ?? 'no pairs,'} flips)`]));
}

export function failureText(c: EmbeddingCheck, t: Thresholds, keptAll: boolean): string | undefined {
  if (c.pass) return undefined;
  const parts: string[] = [];
  if (c.minCosine < t.minCosine) parts.push(`min cosine ${c.minCosine.toFixed(6)} < ${t.minCosine}`);
  if (c.flips !== null && c.flips > t.maxFlips) parts.push(`${c.flips} decision flips at the reference thresholds (best accuracy ${c.threshold?.toFixed(4)}, FAR 1e-3 ${c.thresholdAtFar?.toFixed(4)})`);
  return `${parts.join(' and ')}${keptAll ? ' with every measured unit in float32' : ''}`;
}

export async function quantizeFloat16(model: Model, inputs: MeasureInputs, options: QuantizeOptions = {}): Promise<QuantizeResult> {
  const log = options.log ?? silentLogger;
  const thresholds = options.thresholds ?? FP16_THRESHOLDS;
  const mode = options.sensitivity ?? 'auto';
  const islands = options.islands ?? 'none';
  const ctx = await context(model, inputs, thresholds);
  const units = float16Units(model).map((n) => ({ node: n.name, op: n.op }));
  const measure = measurer(ctx, thresholds);
  const scan = (model.opset('') ?? 0) >= SWITCH_MIN_OPSET ? switchScan(ctx, thresholds, () => float16SwitchModel(model), log) : undefined;
  const mp = await decideMixedPrecision(units, (keep, rows) => measure(convertToFloat16(model, { keep, emulate: true }).model, rows), mode, (m) => log.debug(m), scan);
  const why = keptWhy('float16', mp, thresholds);
  const { model: out, report } = convertToFloat16(model, { keep: mp.keep, keepReason: (n) => why.get(n) ?? 'sensitivity', islands });
  const real = await measure(out);
  const pass = real.pass && mp.final.pass;
  return {
    model: out,
    details: {
      precision: 'fp16',
      scheme: 'float16 weights and activations, float32 graph input and output (one Cast at each end)',
      islands,
      measuredOn: ctx.measuredOn,
      inputs: ctx.inputsInfo,
      thresholds,
      float32: summary(ctx.float32),
      allQuantized: summary(mp.initial),
      result: summary(real),
      emulated: summary(mp.final),
      higherPrecision: report.keptFloat32.map((k: KeptNode) => ({ node: k.node, op: k.op, precision: 'fp32' as const, why: `${k.category}: ${k.reason}` })),
      sensitivity: sensitivityInfo(mode, mp),
      casts: report.casts,
      castsRemoved: report.castsRemoved,
      float16Nodes: report.float16Nodes,
      weights: report.weights,
      note: 'onnxruntime-node cpu has no float16 kernels for Conv, Gemm, Add, PRelu... and computes them in float32 (see docs/quantization.md); "emulated" rounds every float16 node\'s output to float16, as a float16 GPU kernel does',
      pass,
      ...(pass ? {} : { failure: failureText(real.pass ? mp.final : real, thresholds, mp.keep.size === units.length) }),
    },
  };
}

export async function quantizeInt8(model: Model, inputs: MeasureInputs, options: QuantizeOptions = {}): Promise<QuantizeResult> {
  const log = options.log ?? silentLogger;
  const thresholds = options.thresholds ?? INT8_THRESHOLDS;
  const mode = options.sensitivity ?? 'auto';
  const scheme = options.scheme ?? DEFAULT_INT8_SCHEME;
  const method = options.method ?? DEFAULT_CALIBRATION_METHOD;
  const ctx = await context(model, inputs, thresholds);
  const measure = measurer(ctx, thresholds);

  let build: (keep: ReadonlySet<string>, absorbRelu?: boolean) => { model: Model; report: Record<string, unknown> };
  let units: { node: string; op: string }[];
  let calibration: Record<string, unknown> | undefined;
  if (scheme === 'weight-only') {
    units = weightUnits(model).map((n) => ({ node: n.name, op: n.op }));
    build = (keep) => buildWeightOnly(model, { keep }) as never;
  } else {
    const end = log.step(`calibrating activations (${method})`);
    const tensors = qdqTensors(model);
    const ranges = await calibrate(model, tensors, ctx.batches, { method, percentile: options.percentile });
    end(`${tensors.length} tensors`);
    units = qdqUnits(model).map((n) => ({ node: n.name, op: n.op }));
    build = (keep, absorbRelu = true) => buildQdq(model, ranges, { keep, absorbRelu }) as never;
    calibration = {
      method,
      ...(method === 'percentile' ? { percentile: options.percentile ?? DEFAULT_PERCENTILE } : {}),
      rows: ctx.inputsInfo.rows,
      tensors: tensors.length,
      clipped: [...ranges].filter(([, r]) => r.lo > r.min || r.hi < r.max).length,
    };
  }
  const scan = switchScan(ctx, thresholds, () => int8SwitchModel(build(new Set(), false).model, model, units.map((u) => u.node)), log);
  const mp = await decideMixedPrecision(units, (keep, rows) => measure(build(keep).model, rows), mode, (m) => log.debug(m), scan);
  const { model: out, report } = build(mp.keep);
  const result = mp.final;
  const why = keptWhy('int8', mp, thresholds);
  return {
    model: out,
    details: {
      precision: 'int8',
      scheme: scheme === 'qdq'
        ? 'static QDQ: int8 weights symmetric per output channel, uint8 activations asymmetric per tensor, int32 biases'
        : 'weight-only: int8 weights symmetric per output channel (DequantizeLinear), float32 activations',
      int8Scheme: scheme,
      measuredOn: ctx.measuredOn,
      inputs: ctx.inputsInfo,
      thresholds,
      float32: summary(ctx.float32),
      allQuantized: summary(mp.initial),
      result: summary(result),
      ...(calibration ? { calibration } : {}),
      higherPrecision: mp.kept.map((k) => ({ node: k.node, op: k.op, precision: 'fp32' as const, why: why.get(k.node)! })),
      sensitivity: sensitivityInfo(mode, mp),
      build: report,
      pass: result.pass,
      ...(result.pass ? {} : { failure: failureText(result, thresholds, mp.keep.size === units.length) }),
    },
  };
}

export function sensitivityInfo(mode: SensitivityMode, mp: MixedPrecision): QuantizeDetails['sensitivity'] {
  return {
    mode,
    measured: mp.layers !== null,
    evaluations: mp.evaluations,
    scanRows: mp.scanRows,
    worst: (mp.layers ?? []).slice(0, 20).map((l) => ({ node: l.node, op: l.op, minCosine: l.minCosine, meanCosine: l.meanCosine })),
  };
}
