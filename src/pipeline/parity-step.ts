/**
 * The pipeline's parity step: load references, run every bundle on every
 * runtime, write the reports into the bundle. (Interim: onnxruntime-node cpu
 * on the ONNX bundle only, until src/parity/engine.ts is wired in.)
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Logger } from '../cli/log.js';
import { InputError } from '../errors.js';
import { readNpz, toFloat32 } from '../parity/npy.js';
import type { BundleFile, CalibrationData, TargetName } from '../targets/target.js';
import type { ModelContract } from './contract.js';
import type { Precision } from './precision.js';

export interface ParityOptions {
  reference?: string;
  inputs?: string;
  images?: string;
  device?: 'cpu' | 'gpu' | 'all';
  thresholds?: Record<string, unknown>;
  signKey?: string;
  calibrationData?: CalibrationData;
}

export interface ParityResultRow {
  target: string;
  precision: string;
  runtime: string;
  device: string;
  minCosine: number;
  maxAbsDiff: number;
  rows: number;
  pass: boolean;
}

export interface ParitySummary {
  pass: boolean;
  reportPath: string | null;
  failures: string[];
  skipped: string[];
  skippedRuntimes: { runtime: string; reason: string }[];
  results: ParityResultRow[];
}

export interface ParityStepInput {
  bundleDir: string;
  files: readonly BundleFile[];
  contract: ModelContract;
  originalModelPath: string;
  embedding: string | undefined;
  options: ParityOptions;
  log: Logger;
  precisions: readonly Precision[];
  targets: readonly TargetName[];
}

const MIN_COS: Record<string, number> = { fp32: 0.99999, fp16: 0.9995, int8: 0.99 };

export async function finishParity(input: ParityStepInput): Promise<ParitySummary> {
  if (!input.options.reference) throw new InputError('reference', 'interim parity needs --reference REF.npz');
  const npz = readNpz(input.options.reference);
  const x = toFloat32(npz.get('inputs')!);
  const ref = toFloat32(npz.get('embeddings')!);
  const dims = npz.get('inputs')!.shape;
  const n = dims[0]!;
  const d = input.contract.embeddingDim;
  const results: ParityResultRow[] = [];
  for (const f of input.files.filter((f) => f.role === 'model' && f.target === 'onnx')) {
    const s = await ort.InferenceSession.create(join(input.bundleDir, f.path));
    const out = await s.run({ [input.contract.input.name]: new ort.Tensor('float32', x, [...dims]) });
    const y = out[input.contract.output]!.data as Float32Array;
    await s.release();
    let minCos = 1, maxAbs = 0;
    for (let i = 0; i < n; i++) {
      let dot = 0, na = 0, nb = 0;
      for (let j = 0; j < d; j++) {
        const a = y[i * d + j]!, b = ref[i * d + j]!;
        dot += a * b; na += a * a; nb += b * b;
        maxAbs = Math.max(maxAbs, Math.abs(a - b));
      }
      minCos = Math.min(minCos, dot / Math.sqrt(na * nb));
    }
    results.push({ target: f.target, precision: f.precision, runtime: 'onnxruntime-node/cpu', device: 'cpu', minCosine: minCos, maxAbsDiff: maxAbs, rows: n, pass: minCos >= (MIN_COS[f.precision] ?? 1) });
  }
  const failures = results.filter((r) => !r.pass).map((r) => `${r.target}/${r.precision} on ${r.runtime}: min cosine ${r.minCosine}`);
  return { pass: failures.length === 0, reportPath: null, failures, skipped: [], skippedRuntimes: [], results };
}
