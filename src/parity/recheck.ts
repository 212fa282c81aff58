/**
 * `sf2-export parity DIR` as a re-check: judge only what was asked, and never
 * leave a bundle that verified before in a state that does not.
 *
 *   scope    the bundle's model files of the --precision list whose target has
 *            at least one runtime that --runtime and --device select. Files out
 *            of scope are not run and not judged (they are not "uncovered").
 *   verdict  from the fresh results alone (exit 0, 5 or 7 by them).
 *   report   where the fresh results go:
 *              full re-check (every model file, on runtimes that include every
 *                runtime the old report has results of): they replace the
 *                bundle's report, whatever references it used;
 *              partial re-check, same references as the bundle's report (same
 *                sha256, rows, shape and pairs): MERGED into it: a fresh result
 *                replaces the old one of the same file and runtime, every other
 *                old result stays; skips and the environment likewise;
 *              partial re-check, other references (e.g. --rows 8 against a
 *                report of 32 rows): the results cannot share that report, so
 *                they are written BESIDE the bundle (DIR.recheck/).
 *            And whichever it is: when the bundle verified before the re-check
 *            and the new bundle report would not pass, the bundle is left as it
 *            was and the report goes beside it instead.
 */
import type { ParityReport, ParityResult, RuntimeEnvironment, SkippedRun } from './report.js';
import { reportPasses } from './report.js';
import type { BundleFile } from '../targets/target.js';
import type { DeviceChoice, RuntimeEntry } from './runtimes/registry.js';
import type { Precision } from '../ir/precision.js';

/** The model files a re-check runs (see the module comment), and whether that is the whole bundle. */
export function recheckScope(
  files: readonly BundleFile[],
  opts: { runtimes?: readonly RuntimeEntry[]; registry: readonly RuntimeEntry[]; device: DeviceChoice; precisions?: readonly Precision[] },
): { files: BundleFile[]; full: boolean; outOfScope: string[]; pool: string[] } {
  const pool = (opts.runtimes ?? opts.registry).filter((r) => opts.device === 'all' || r.device === opts.device);
  const targets = new Set(pool.map((r) => r.target));
  const inScope = (f: BundleFile) => f.role !== 'model' || (targets.has(f.target) && (!opts.precisions || opts.precisions.includes(f.precision)));
  const models = files.filter((f) => f.role === 'model');
  const outOfScope = models.filter((f) => !inScope(f)).map((f) => f.path);
  return { files: files.filter(inScope), full: outOfScope.length === 0, outOfScope, pool: pool.map((r) => r.id) };
}

/** Same references: the same file(s), rows, input shape and pairs. Results measured on one can share a report. */
export function sameReferences(a: ParityReport['reference'], b: ParityReport['reference']): boolean {
  return a.sha256 === b.sha256 && a.rows === b.rows && a.dim === b.dim && a.pairs === b.pairs && a.flip === b.flip
    && a.inputShape.length === b.inputShape.length && a.inputShape.every((v, i) => v === b.inputShape[i]);
}

const key = (r: Pick<ParityResult, 'file' | 'runtime'>) => `${r.file}\u0000${r.runtime}`;

/**
 * The bundle's report with a partial re-check merged in: fresh results replace
 * the old ones of the same (file, runtime); a file the re-check ran (or found
 * unrunnable) takes its fresh coverage; everything else is kept. The caller
 * checks sameReferences first. Thresholds stay per result, as measured.
 */
export function mergeReports(old: ParityReport, fresh: ParityReport): ParityReport {
  const rerun = new Set(fresh.results.map(key));
  const freshRuntimes = new Set([...fresh.results.map((r) => r.runtime), ...fresh.skipped.map((s) => s.runtime)]);
  const freshFiles = new Set([...fresh.results.map((r) => r.file), ...fresh.uncovered]);
  const results = [...old.results.filter((r) => !rerun.has(key(r))), ...fresh.results];
  const order = (r: ParityResult) => `${r.file}\u0000${r.runtime}`;
  results.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));

  const skipped: SkippedRun[] = [...old.skipped.filter((s) => !freshRuntimes.has(s.runtime)), ...fresh.skipped];
  const env = new Map<string, RuntimeEnvironment>(old.environment.runtimes.map((r) => [r.id, r]));
  for (const r of fresh.environment.runtimes) env.set(r.id, r);
  const used = new Set(results.map((r) => r.runtime));

  const files = new Map(old.files.map((f) => [f.path, f]));
  for (const f of fresh.files) files.set(f.path, f);

  const covered = new Set(results.map((r) => r.file));
  const uncovered = [...new Set([...old.uncovered.filter((u) => !freshFiles.has(u)), ...fresh.uncovered])].filter((u) => !covered.has(u)).sort();
  const why = new Map([...(old.unverified ?? []), ...(fresh.unverified ?? [])].map((u) => [u.file, u]));
  const unverified = uncovered.map((u) => why.get(u)).filter((u) => u !== undefined);
  const allowUnverified = !!fresh.allowUnverified;
  const merged: ParityReport = {
    ...old,
    environment: { ...fresh.environment, runtimes: [...env.values()].filter((r) => used.has(r.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) },
    files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    results,
    skipped,
    uncovered,
    ...(old.unverified || fresh.unverified ? { unverified } : {}),
    ...(old.allowUnverified !== undefined || fresh.allowUnverified !== undefined ? { allowUnverified } : {}),
    pass: false,
  };
  return { ...merged, pass: reportPasses(merged) };
}

export type RecheckWrite =
  | { readonly where: 'bundle'; readonly report: ParityReport; readonly how: 'replaced' | 'merged' }
  | { readonly where: 'beside'; readonly report: ParityReport; readonly why: string };

/** Where a re-check's report goes (the module comment's rules). */
export function placeRecheck(input: { fresh: ParityReport; old: ParityReport | undefined; full: boolean; pool: readonly string[]; verifiedBefore: boolean }): RecheckWrite {
  const { fresh, old, verifiedBefore } = input;
  // Full: every model file, on runtimes that include every runtime the old report has results of (nothing it holds is lost).
  const full = input.full && (!old || old.results.every((r) => input.pool.includes(r.runtime)));
  let candidate: { report: ParityReport; how: 'replaced' | 'merged' } | undefined;
  let why = '';
  if (full || !old) candidate = { report: fresh, how: 'replaced' };
  else if (sameReferences(old.reference, fresh.reference)) candidate = { report: mergeReports(old, fresh), how: 'merged' };
  else why = `a partial re-check on other references than the bundle's report (${describeRef(fresh.reference)}, the report: ${describeRef(old.reference)}) cannot be merged into it`;
  if (candidate && verifiedBefore && !candidate.report.pass) {
    why = 'the bundle verified before this re-check, and its report would no longer pass';
    candidate = undefined;
  }
  return candidate ? { where: 'bundle', ...candidate } : { where: 'beside', report: fresh, why };
}

function describeRef(r: ParityReport['reference']): string {
  return `${r.rows} rows, sha256 ${r.sha256.slice(0, 12)}..., ${r.flip ? 'with' : 'no'} flip references${r.flip ? '' : ' (pass --model ORIGINAL.onnx for them)'}`;
}
