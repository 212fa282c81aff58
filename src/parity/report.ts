/**
 * The parity report's shape (parity-report.json; JSON Schema in
 * docs/parity-report.schema.json). Everything in it is deterministic for the
 * same bundle, references, options and machine: no timestamps, no timings.
 */
import type { RuntimeInfo } from './runtime.js';
import type { ParityMetrics, ParitySeries } from '../metrics/parity.js';
import type { Thresholds } from '../metrics/thresholds.js';

export const PARITY_REPORT_SCHEMA_VERSION = 1;
export const REPORT_JSON = 'parity-report.json';
export const REPORT_HTML = 'parity-report.html';
export const REPORT_MD = 'parity-report.md';

export interface MeasuredFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly target: string;
  readonly precision: string;
  readonly role: string;
}

/** A runtime as the report records it: its registry id and what it said about itself. */
export interface RuntimeEnvironment extends RuntimeInfo {
  readonly id: string;
}

export interface Environment {
  readonly tool: { readonly name: string; readonly version: string };
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpu: { readonly model: string; readonly count: number };
  /** Every runtime that ran, with its versions and adapter. */
  readonly runtimes: readonly RuntimeEnvironment[];
}

export interface ReferenceSummary {
  readonly kind: 'npz' | 'npy' | 'images' | 'synthetic';
  readonly description: string;
  readonly rows: number;
  readonly dim: number;
  readonly inputShape: readonly number[];
  /** sha256 of the reference file, or of the sorted "sha256  name" lines of several files. */
  readonly sha256: string;
  readonly files: readonly { readonly name: string; readonly sha256: string; readonly bytes: number }[];
  /** Where the flip-TTA reference came from, or null when there is none (no flip metric). */
  readonly flip: string | null;
  readonly pairs: number;
  /** Reference pair scores and labels, in pair order (for plots); empty without pairs. */
  readonly pairScores: readonly number[];
  readonly issame: readonly number[];
  readonly warnings: readonly string[];
}

export interface ParityResult {
  readonly target: string;
  readonly precision: string;
  /** Runtime id, e.g. "onnxruntime-node/webgpu". */
  readonly runtime: string;
  readonly device: 'cpu' | 'gpu';
  readonly backend: string;
  /** The model file run (bundle-relative). */
  readonly file: string;
  /** 'error': the runtime was available but the bundle did not run on it (a failure, not a skip). */
  readonly status: 'pass' | 'fail' | 'error';
  readonly pass: boolean;
  readonly thresholds: Thresholds;
  readonly metrics: ParityMetrics | null;
  readonly failures: readonly string[];
  readonly series: ParitySeries | null;
  /**
   * Set when this result ran a subset of the reference (a GPU runtime on a
   * software adapter, src/parity/row-subset.ts): the indices, in the reference,
   * of the rows and pairs it ran; its series are in that order.
   */
  readonly subset?: { readonly rows: readonly number[]; readonly pairs: readonly number[]; readonly reason: string };
}

export interface SkippedRun {
  readonly runtime: string;
  readonly target: string;
  readonly device: 'cpu' | 'gpu';
  readonly reason: string;
  /** Set when the skip concerns one model file only (e.g. fp16 on an adapter without shader-f16). */
  readonly file?: string;
  /** The one command or flag that fixes it (src/parity/fixes.ts), when known. */
  readonly fix?: string;
}

/** A model file that no runtime ran: why (the skips of its target) and the fix. */
export interface UnverifiedFile {
  readonly file: string;
  readonly target: string;
  readonly precision: string;
  /** "runtime[, runtime]: reason", grouped by reason. */
  readonly reasons: readonly string[];
  readonly fix: string | null;
}

export interface ParityReport {
  readonly schemaVersion: number;
  readonly pass: boolean;
  readonly environment: Environment;
  readonly reference: ReferenceSummary;
  /** Every file measured (model files and what they load), hashed before the runs. */
  readonly files: readonly MeasuredFile[];
  readonly results: readonly ParityResult[];
  readonly skipped: readonly SkippedRun[];
  /** Model files no runtime could run (the report fails when any, unless allowUnverified). */
  readonly uncovered: readonly string[];
  /** Why each uncovered file was not run, and the fix (same order as uncovered). */
  readonly unverified?: readonly UnverifiedFile[];
  /** --allow-unverified: uncovered files do not fail the report (they stay listed). */
  readonly allowUnverified?: boolean;
}

/**
 * The report's verdict: every result passes, and either every model file was
 * run (with at least one result) or the unverified files were accepted.
 * One definition, used by the engine and recomputed by verify.
 */
export function reportPasses(r: Pick<ParityReport, 'results' | 'uncovered' | 'allowUnverified'>): boolean {
  if (!r.results.every((x) => x.pass)) return false;
  return r.uncovered.length ? r.allowUnverified === true : r.results.length > 0;
}

/** "onnx fp32 onnxruntime-node/cpu" */
export function resultLabel(r: Pick<ParityResult, 'target' | 'precision' | 'runtime'>): string {
  return `${r.target} ${r.precision} ${r.runtime}`;
}
