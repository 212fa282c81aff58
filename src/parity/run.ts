/**
 * Parity end to end for one bundle folder: load the references, run the
 * engine, write parity-report.{json,html,md} into the folder. Used by the
 * export pipeline (src/pipeline/parity-step.ts) and by `sf2-export parity`.
 */
import type { Logger } from '../cli/log.js';
import { silentLogger } from '../cli/log.js';
import type { ModelContract } from '../pipeline/contract.js';
import type { Precision } from '../pipeline/precision.js';
import type { BundleFile } from '../targets/target.js';
import { failingRows, runParity } from './engine.js';
import { loadReferences, type ReferenceSet } from './references.js';
import { writeReports } from './report-json.js';
import { REPORT_JSON, resultLabel, type ParityReport } from './report.js';
import type { DeviceChoice, RuntimeEntry } from './runtimes/registry.js';
import type { ThresholdOverrides } from './thresholds.js';

export interface BundleParityOptions {
  readonly reference?: string;
  readonly inputs?: string;
  readonly images?: string;
  /** The original (head-on) model: references for images/synthetic, and flip references. */
  readonly originalModel?: string;
  readonly embedding?: string;
  readonly device?: DeviceChoice;
  readonly thresholds?: ThresholdOverrides;
  readonly precisions?: readonly Precision[];
  /** Use only the first N reference rows (and the pairs among them): for slow software adapters. */
  readonly rows?: number;
  readonly batch?: number;
  readonly runtimes?: readonly RuntimeEntry[];
  readonly syntheticCount?: number;
  readonly seed?: number;
  readonly log?: Logger;
}

export interface BundleParityResult {
  readonly report: ParityReport;
  /** Bundle-relative paths of the reports written. */
  readonly reportFiles: readonly string[];
  /** One line per failing result (empty when the report passes). */
  readonly failing: readonly string[];
}

/**
 * A subset of `rows` reference rows that keeps pair metrics possible: rows are
 * taken pair by pair, alternating same-identity and different-identity pairs,
 * while they fit; then the lowest unused rows fill the rest. The kept rows stay
 * in their original order; the pairs among them are kept and re-indexed.
 */
export function limitReferences(ref: ReferenceSet, rows: number): ReferenceSet {
  const [n, c, h, w] = ref.dims;
  if (!(rows > 0) || rows >= n) return ref;
  const d = ref.dim, per = c * h * w;
  const keep = new Set<number>();
  if (ref.pairs && ref.issame) {
    const pos: number[] = [], neg: number[] = [];
    ref.issame.forEach((s, k) => (s ? pos : neg).push(k));
    const order: number[] = [];
    for (let k = 0; k < Math.max(pos.length, neg.length); k++) {
      if (k < pos.length) order.push(pos[k]!);
      if (k < neg.length) order.push(neg[k]!);
    }
    for (const k of order) {
      const a = ref.pairs[2 * k]!, b = ref.pairs[2 * k + 1]!;
      const need = (keep.has(a) ? 0 : 1) + (keep.has(b) || a === b ? 0 : 1);
      if (keep.size + need <= rows) { keep.add(a); keep.add(b); }
      if (keep.size >= rows) break;
    }
  }
  for (let r = 0; r < n && keep.size < rows; r++) keep.add(r);
  const kept = [...keep].sort((x, y) => x - y);
  const index = new Map(kept.map((r, i) => [r, i]));
  const inputs = new Float32Array(kept.length * per);
  const embeddings = new Float32Array(kept.length * d);
  const flip = ref.flipEmbeddings ? new Float32Array(kept.length * d) : undefined;
  kept.forEach((r, i) => {
    inputs.set(ref.inputs.subarray(r * per, (r + 1) * per), i * per);
    embeddings.set(ref.embeddings.subarray(r * d, (r + 1) * d), i * d);
    flip?.set(ref.flipEmbeddings!.subarray(r * d, (r + 1) * d), i * d);
  });
  let pairs: Int32Array | undefined, issame: Uint8Array | undefined;
  if (ref.pairs && ref.issame) {
    const p: number[] = [], s: number[] = [];
    for (let k = 0; k < ref.issame.length; k++) {
      const a = index.get(ref.pairs[2 * k]!), b = index.get(ref.pairs[2 * k + 1]!);
      if (a !== undefined && b !== undefined) { p.push(a, b); s.push(ref.issame[k]!); }
    }
    if (s.length) { pairs = Int32Array.from(p); issame = Uint8Array.from(s); }
  }
  return {
    ...ref,
    description: `${ref.description}; ${kept.length} of ${n} rows used (--rows)`,
    inputs,
    dims: [kept.length, c, h, w],
    embeddings,
    ...(flip ? { flipEmbeddings: flip } : {}),
    pairs,
    issame,
  };
}

export async function parityForBundle(bundleDir: string, files: readonly BundleFile[], contract: ModelContract, options: BundleParityOptions = {}): Promise<BundleParityResult> {
  const log = options.log ?? silentLogger;
  let references = await loadReferences({
    reference: options.reference,
    inputs: options.inputs,
    images: options.images,
    originalModel: options.originalModel,
    embedding: options.embedding,
    contract,
    syntheticCount: options.syntheticCount,
    seed: options.seed,
    log,
  });
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
    log,
  });
  const reportFiles = writeReports(bundleDir, report);
  return { report, reportFiles, failing: failingRows(report) };
}

/** The summary the pipeline's manifest and --json output carry. */
export function paritySummary(report: ParityReport): {
  pass: boolean;
  reportPath: string;
  failures: string[];
  skipped: string[];
  skippedRuntimes: { runtime: string; reason: string }[];
  results: { target: string; precision: string; runtime: string; device: string; minCosine: number | null; maxAbsDiff: number | null; rows: number; pass: boolean }[];
} {
  return {
    pass: report.pass,
    reportPath: REPORT_JSON,
    failures: failingRows(report),
    skipped: report.skipped.map((s) => `${s.runtime}: ${s.reason}`),
    skippedRuntimes: report.skipped.map((s) => ({ runtime: s.runtime, reason: s.reason })),
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

export { resultLabel };
