/**
 * The ONNX target: DIR/onnx/model.<precision>.onnx.
 *   fp32  the optimized graph as it is;
 *   fp16  float16 weights and activations, float32 input and output
 *         (src/quantize/fp16.ts), block list + measured sensitivity;
 *   int8  weight-only int8 (default) or static QDQ (option int8Scheme),
 *         opset raised to 13, calibrated on ctx.calibration, measured
 *         sensitivity (src/quantize/int8.ts).
 * Quantized bundles are made from a clone; what stayed in higher precision and
 * why, and the measured embedding metric, go into TargetResult.details.
 * Beside the models: onnx/model.<precision>.golden.bin (the golden set,
 * src/bundle/golden-set.ts) and sf2-ort.js, which runs it on a session.
 */
import { saveOnnx } from '../../onnx/export.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../../errors.js';
import { DType } from '../../ir/dtype.js';
import type { BundleFile, GoldenSetDetails, Target, TargetContext, TargetResult } from '../target.js';
import { goldenPath, MODULE_PACKAGE_JSON, withGoldenRuntime, writeGoldenSet } from '../../bundle/golden-set.js';

/** The golden-set self-test for onnxruntime-web and -node sessions (src/targets/onnx/runtime/sf2-ort.js). */
export const HELPER = 'sf2-ort.js';
export const HELPER_TYPES = 'sf2-ort.d.ts';
import type { Model } from '../../ir/model.js';
import type { Precision } from '../../ir/precision.js';
import { opsetProblems } from '../../quantize/opset.js';
import { INT8_OPSET } from '../../quantize/int8.js';
import { quantizeFloat16, quantizeInt8, syntheticInputs, DEFAULT_INT8_SCHEME, DEFAULT_CALIBRATION_METHOD, type MeasureInputs, type QuantizeDetails } from '../../quantize/index.js';

/** The manifest facts of an ONNX bundle: fp32 only the golden set; fp16 / int8 the quantizer's measurement too. */
export type OnnxDetails = { readonly goldenSet?: GoldenSetDetails } | (QuantizeDetails & { readonly goldenSet?: GoldenSetDetails });

export const onnxTarget: Target<OnnxDetails> = {
  name: 'onnx',
  check(model: Model, precision: Precision) {
    if (precision === 'fp32') return;
    const problems: string[] = [];
    const inputs = model.graph.realInputs();
    if (inputs.length !== 1 || inputs[0]!.dtype !== DType.FLOAT) problems.push('the model must have one float32 input');
    if (model.graph.outputs.length !== 1 || model.graph.outputs[0]!.dtype !== DType.FLOAT) problems.push('the model must have one float32 output (the embedding)');
    if (precision === 'int8') {
      const bad = opsetProblems(model, INT8_OPSET);
      if (bad.length) problems.push(`int8 needs opset ${INT8_OPSET} (per-channel DequantizeLinear) and these nodes of the opset-${model.opset('')} model cannot be converted: ${bad.join(', ')}`);
    }
    if (problems.length) throw new UnsupportedError('onnx-precision', `--precision ${precision} for the onnx target: ${problems.join('; ')}`, 're-export the model at opset 13 or later, or leave this precision out');
  },
  async write(ctx: TargetContext): Promise<TargetResult<OnnxDetails>> {
    const dir = join(ctx.outDir, 'onnx');
    mkdirSync(dir, { recursive: true });
    const rel = `onnx/model.${ctx.precision}.onnx`;
    const files: BundleFile[] = [{ path: rel, target: 'onnx', precision: ctx.precision, role: 'model' }];
    if (ctx.precision === 'fp32') {
      saveOnnx(ctx.model, join(ctx.outDir, rel), { externalData: 'auto' });
      const goldenSet = writeSelfTest(ctx, rel, files);
      return { files, ...(goldenSet ? { details: { goldenSet } } : {}) };
    }
    const inputs = measureInputs(ctx);
    const common = { log: ctx.log, sensitivity: ctx.options.sensitivity ?? 'auto' } as const;
    const end = ctx.log.step(`quantizing to ${ctx.precision}`);
    const res = ctx.precision === 'fp16'
      ? await quantizeFloat16(ctx.model, inputs, { ...common, islands: ctx.options.fp16Islands ?? 'none' })
      : await quantizeInt8(ctx.model, inputs, { ...common, scheme: ctx.options.int8Scheme ?? DEFAULT_INT8_SCHEME, method: ctx.options.calibrationMethod ?? DEFAULT_CALIBRATION_METHOD });
    const d = res.details;
    end(`min cosine ${d.result.minCosine.toFixed(6)}${d.result.flips !== null ? `, ${d.result.flips} flips` : ''}; ${d.higherPrecision.length} nodes in float32`);
    if (!d.pass) ctx.log.warn(`onnx ${ctx.precision}: ${d.failure ?? 'thresholds not met'} (see the manifest's target details)`);
    saveOnnx(res.model, join(ctx.outDir, rel), { externalData: 'auto' });
    const goldenSet = writeSelfTest(ctx, rel, files);
    return { files, details: goldenSet ? { ...d, goldenSet } : d };
  },
};

/** The golden set of this precision and (once) sf2-ort.js + package.json; returns the golden set's manifest details. Nothing without golden rows. */
function writeSelfTest(ctx: TargetContext, rel: string, files: BundleFile[]): GoldenSetDetails | undefined {
  if (!ctx.golden) return undefined;
  const dir = join(ctx.outDir, 'onnx');
  if (!existsSync(join(dir, HELPER))) {
    writeFileSync(join(dir, HELPER), withGoldenRuntime(new URL(`../../../src/targets/onnx/runtime/${HELPER}`, import.meta.url)));
    writeFileSync(join(dir, 'package.json'), MODULE_PACKAGE_JSON);
    writeFileSync(join(dir, HELPER_TYPES), readFileSync(new URL(`../../../src/targets/onnx/runtime/${HELPER_TYPES}`, import.meta.url)));
    files.push(
      { path: `onnx/${HELPER}`, target: 'onnx', precision: ctx.precision, role: 'runtime' },
      { path: `onnx/${HELPER_TYPES}`, target: 'onnx', precision: ctx.precision, role: 'types' },
      { path: 'onnx/package.json', target: 'onnx', precision: ctx.precision, role: 'runtime' },
    );
  }
  // The weights are in the model file and its external data (<model>.data), if any.
  const name = rel.slice('onnx/'.length);
  const weights = readdirSync(dir).filter((f) => f === name || f.startsWith(`${name}.`)).sort().map((f) => `onnx/${f}`);
  const g = writeGoldenSet({ source: ctx.golden, target: 'onnx', precision: ctx.precision, outDir: ctx.outDir, path: goldenPath('onnx', ctx.precision), weights });
  files.push(g.file);
  return g.details;
}

function measureInputs(ctx: TargetContext): MeasureInputs {
  const c = ctx.calibration;
  if (!c) {
    const s = syntheticInputs(ctx.model);
    ctx.log.warn(`onnx ${ctx.precision}: no calibration data; measuring on ${s.source}`);
    return s;
  }
  const pairs = c.pairs && c.issame && c.issame.length ? { pairs: c.pairs, issame: c.issame } : undefined;
  return { data: c.data, dims: c.dims, reference: c.embeddings, pairs, source: c.source };
}
