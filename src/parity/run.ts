/**
 * Parity end to end for one bundle folder: load the references, run the
 * engine, write parity-report.{json,html,md} into the folder. Used by the
 * export pipeline (src/pipeline/parity-step.ts) and by `sf2-export parity`.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { ModelContract } from '../analysis/contract.js';
import type { Precision } from '../ir/precision.js';
import type { BundleFile } from '../targets/target.js';
import { failingRows, runParity, unverifiedLines } from './engine.js';
import { addFlipReferences, loadReferences, type ReferenceSet, type ReferenceSource } from '../data/references.js';
import { limitReferences } from './row-subset.js';
import { writeReports } from './report-json.js';
import { REPORT_JSON, resultLabel, type ParityReport } from './report.js';
import type { DeviceChoice, RuntimeEntry } from './runtimes/registry.js';
import type { ThresholdOverrides } from '../metrics/thresholds.js';

export interface BundleParityOptions extends ReferenceSource {
  /**
   * References already loaded by the caller (the export pipeline loads them once,
   * for the golden sets and for parity); the options above that load them are then
   * unused, except originalModel for flip references the set lacks.
   */
  readonly references?: ReferenceSet;
  readonly device?: DeviceChoice;
  readonly thresholds?: ThresholdOverrides;
  readonly precisions?: readonly Precision[];
  /** Use only the first N reference rows (and the pairs among them): for slow software adapters. */
  readonly rows?: number;
  readonly batch?: number;
  /** The model's FLOPs per image: sizes the row budget of GPU runtimes on a software adapter (row-subset.ts). */
  readonly flopsPerImage?: number;
  /** Files run by no runtime do not fail the report (--allow-unverified); they stay listed. */
  readonly allowUnverified?: boolean;
  readonly runtimes?: readonly RuntimeEntry[];
  readonly syntheticCount?: number;
  readonly seed?: number;
  readonly log?: Logger;
}

export interface BundleParityResult {
  readonly report: ParityReport;
  /** Bundle-relative paths of the reports written. */
  readonly reportFiles: readonly string[];
  /** One line per failing result (numbers outside the thresholds, or an error). */
  readonly failing: readonly string[];
  /** One short line per model file that no runtime ran (unverified). */
  readonly unverified: readonly string[];
}

export async function parityForBundle(bundleDir: string, files: readonly BundleFile[], contract: ModelContract, options: BundleParityOptions = {}): Promise<BundleParityResult> {
  const log = options.log ?? silentLogger;
  const load = { originalModel: options.originalModel, embedding: options.embedding, arch: options.arch, head: options.head, log };
  let references = options.references
    ? await addFlipReferences(options.references, load)
    : await loadReferences({ ...load, reference: options.reference, inputs: options.inputs, images: options.images, contract, syntheticCount: options.syntheticCount, seed: options.seed });
  if (options.rows) references = limitReferences(references, options.rows);
  const report = await runParity({
    bundleDir,
    files,
    contract,
    references,
    precisions: options.precisions,
    device: options.device,
    thresholds: options.thresholds,
    runtimes: options.runtimes,
    batch: options.batch,
    rowsGiven: !!options.rows,
    flopsPerImage: options.flopsPerImage,
    allowUnverified: options.allowUnverified,
    log,
  });
  const reportFiles = writeReports(bundleDir, report);
  return { report, reportFiles, failing: failingRows(report), unverified: unverifiedLines(report) };
}

/** The summary the pipeline's manifest and --json output carry. */
export function paritySummary(report: ParityReport): {
  pass: boolean;
  reportPath: string;
  failures: string[];
  /** One short line per model file no runtime ran: why, and the fix. */
  unverified: string[];
  /** The unverified files' paths. */
  unverifiedFiles: string[];
  allowUnverified: boolean;
  skipped: string[];
  skippedRuntimes: { runtime: string; reason: string; fix?: string }[];
  results: { target: string; precision: string; runtime: string; device: string; minCosine: number | null; maxAbsDiff: number | null; rows: number; pass: boolean }[];
} {
  return {
    pass: report.pass,
    reportPath: REPORT_JSON,
    failures: failingRows(report),
    unverified: unverifiedLines(report),
    unverifiedFiles: [...report.uncovered],
    allowUnverified: !!report.allowUnverified,
    skipped: report.skipped.map((s) => `${s.runtime}: ${s.reason}`),
    skippedRuntimes: report.skipped.map((s) => ({ runtime: s.runtime, reason: s.reason, ...(s.fix ? { fix: s.fix } : {}) })),
    results: report.results.map((r) => ({
      target: r.target,
      precision: r.precision,
      runtime: r.runtime,
      device: r.device,
      minCosine: r.metrics ? r.metrics.rows.cosine.min : null,
      maxAbsDiff: r.metrics ? r.metrics.rows.maxAbsDiff : null,
      rows: r.metrics ? r.metrics.rows.rows : 0,
      pass: r.pass,
    })),
  };
}

export { resultLabel, limitReferences };
