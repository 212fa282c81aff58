/**
 * The pipeline's parity step: references (PyTorch .npz, .npy pair, images, or
 * synthetic inputs run through the original model), every bundle on every
 * runtime available (src/parity/engine.ts), the three reports written into the
 * bundle, and a summary for the manifest and --json.
 */
import type { Logger } from '../log.js';
import { parityForBundle, paritySummary } from '../parity/run.js';
import type { ThresholdOverrides } from '../metrics/thresholds.js';
import type { RuntimeEntry } from '../parity/runtimes/registry.js';
import type { ReferenceSet } from '../data/references.js';
import type { BundleFile, CalibrationData, TargetName } from '../targets/target.js';
import type { ModelContract } from '../analysis/contract.js';
import type { Precision } from '../ir/precision.js';

export interface ParityOptions {
  reference?: string;
  inputs?: string;
  images?: string;
  device?: 'cpu' | 'gpu' | 'all';
  /** Per-precision overrides ({ fp32: { minCosine } }), from the config file or flags. */
  thresholds?: Record<string, unknown>;
  signKey?: string;
  calibrationData?: CalibrationData;
  /** Only these runtimes (registry entries); default: every runtime on by default. */
  runtimes?: readonly RuntimeEntry[];
  /** Use only the first N reference rows (software GPU adapters are slow). */
  rows?: number;
  /** Accept model files that no runtime could run (exit 0 instead of 7); the manifest and reports list them. */
  allowUnverified?: boolean;
}

export type ParitySummary = ReturnType<typeof paritySummary>;

export interface ParityStepInput {
  bundleDir: string;
  files: readonly BundleFile[];
  contract: ModelContract;
  originalModelPath: string;
  embedding: string | undefined;
  /** A .pth original model: --arch, --head. */
  arch?: string;
  head?: string;
  /** The references the pipeline loaded once (the golden sets hold their first rows); loaded from `options` when absent. */
  references?: ReferenceSet;
  options: ParityOptions;
  log: Logger;
  precisions: readonly Precision[];
  targets: readonly TargetName[];
  /** The optimized model's FLOPs per image (sizes the software-adapter row budget). */
  flopsPerImage?: number;
}

export async function finishParity(input: ParityStepInput): Promise<ParitySummary> {
  const { options } = input;
  const thresholds: ThresholdOverrides | undefined = options.thresholds as ThresholdOverrides | undefined;
  const res = await parityForBundle(input.bundleDir, input.files, input.contract, {
    reference: options.reference,
    inputs: options.inputs,
    images: options.images,
    originalModel: input.originalModelPath,
    embedding: input.embedding,
    arch: input.arch,
    head: input.head,
    ...(input.references ? { references: input.references } : {}),
    device: options.device ?? 'all',
    thresholds,
    precisions: input.precisions,
    runtimes: options.runtimes,
    rows: options.rows,
    flopsPerImage: input.flopsPerImage,
    allowUnverified: options.allowUnverified,
    log: input.log,
  });
  return paritySummary(res.report);
}
