/**
 * The parity engine: every model file of the bundle (target x precision) on
 * every runtime registered for its target (src/parity/runtimes/registry.ts)
 * that --device selects, against the references.
 *
 *   for each model file f (target, precision), in table order:
 *     for each runtime r of f's target:
 *       not selected by --device, opt-in, does not load, or probe says no
 *                           -> skipped, with the reason and its fix (listed, never dropped)
 *       else open f on r; run the inputs in batches (and the width-flipped
 *       inputs when the references have flip embeddings); metrics; pass/fail
 *       by the precision's thresholds. A GPU runtime on a software adapter
 *       (isFallbackAdapter), and a runtime marked slow in the registry, run
 *       a small row budget unless --rows was given (budgetRows in
 *       src/parity/row-subset.ts: 4 rows, fewer for a model whose FLOPs per
 *       image would take minutes on a CPU-emulated GPU); the result records which.
 *       An error while opening or running that says the runtime cannot run
 *       here (src/parity/fixes.ts: a missing feature, no adapter, a lost
 *       device, a missing package) is a skip; any other error is a FAILED
 *       result (status 'error').
 *   a model file that no runtime ran is "uncovered" (unverified: exit 7, not a
 *   parity failure), with its target's skip reasons and the fix; the report
 *   fails unless allowUnverified (--allow-unverified).
 *
 * Browser runtimes marked onWithHardwareAdapter are opt-in on a software
 * adapter and on by default when a hardware WebGPU adapter is found. On a
 * software adapter, a GPU runtime is also skipped (unless selected with
 * --runtime) for a file that another runtime already ran and passed: the
 * onnx bundle on onnxruntime webgpu after onnxruntime cpu, the webgpu bundle
 * on Chromium after Dawn. So each file of a GPU-only target (webgpu) runs
 * once on a software adapter, with the row budget.
 *
 * Files are hashed before the runs, so the report says exactly what was measured.
 */
import { filesDigest, sha256FileSync } from '../data/sha256.js';
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, basename } from 'node:path';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { runPaddedBatches } from '../data/padded-batches.js';
import type { ModelContract } from '../analysis/contract.js';
import { PRECISIONS, type Precision } from '../ir/precision.js';
import { TARGET_NAMES, type BundleFile } from '../targets/target.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { flipWidth, type ReferenceSet } from '../data/references.js';
import { budgetRows, subsetReferences, type ReferenceSubset } from './row-subset.js';
import { cannotRunHere, fixFor } from './fixes.js';
import { mark } from '../log.js';
import { normalizeRows, pairMetrics, pairScores, rowMetrics, ttaEmbeddings, ttaMetrics, type ParityMetrics } from '../metrics/parity.js';
import { failures as thresholdFailures, resolveThresholds, type ThresholdOverrides, type Thresholds } from '../metrics/thresholds.js';
import { RUNTIMES, type DeviceChoice, type RuntimeEntry } from './runtimes/registry.js';
import type { ParityRuntime, RuntimeInfo } from './runtime.js';
import { PARITY_REPORT_SCHEMA_VERSION, resultLabel, type MeasuredFile, type ParityReport, type ParityResult, type ReferenceSummary, type RuntimeEnvironment, type SkippedRun, type UnverifiedFile, reportPasses } from './report.js';

export interface ParityInput {
  readonly bundleDir: string;
  readonly files: readonly BundleFile[];
  readonly contract: ModelContract;
  readonly references: ReferenceSet;
  /** Only these precisions (default: every precision in `files`). */
  readonly precisions?: readonly Precision[];
  readonly device?: DeviceChoice;
  /** Overrides of the default thresholds, or a full table. */
  readonly thresholds?: ThresholdOverrides;
  /** Runtimes to consider instead of the registry (tests, a --runtime filter); opt-in entries given here run. */
  readonly runtimes?: readonly RuntimeEntry[];
  /**
   * A runtime table used instead of the registry, with the registry's defaults:
   * opt-in entries stay opt-in and the software-adapter and slow-runtime skips
   * apply (`runtimes`, by contrast, is a selection: everything in it runs).
   */
  readonly table?: readonly RuntimeEntry[];
  /** Rows per run (default 8). */
  readonly batch?: number;
  /** The references were limited with --rows: no software-adapter budget on top. */
  readonly rowsGiven?: boolean;
  /** Rows a GPU runtime on a software adapter runs (default: budgetRows of flopsPerImage). */
  readonly fallbackRows?: number;
  /** The model's FLOPs per image (src/analysis/flops.ts), which sizes the software-adapter row budget. */
  readonly flopsPerImage?: number;
  /** Uncovered (unverified) files do not fail the report; they stay listed. */
  readonly allowUnverified?: boolean;
  /** Progress per runtime and per batch goes through log.progress (a bar on a terminal, quiet with --json). */
  readonly log?: Logger;
}

export const DEFAULT_BATCH = 8;

/** A bundle file's digest: its writer's (recorded as it was written) or read through one 4 MiB buffer, never the whole file. */
function sha256(path: string): string {
  return sha256FileSync(path);
}

/** The reference part of the report. */
export function summarizeReference(ref: ReferenceSet, refPairScores: readonly number[]): ReferenceSummary {
  const files = ref.files.map((f) => ({ name: basename(f.path), sha256: f.sha256, bytes: f.bytes }));
  const digest = filesDigest(files);
  return {
    kind: ref.kind,
    description: ref.description,
    rows: ref.dims[0],
    dim: ref.dim,
    inputShape: [...ref.dims],
    sha256: digest,
    files,
    flip: ref.flipSource ?? null,
    pairs: ref.pairs ? ref.pairs.length / 2 : 0,
    pairScores: [...refPairScores],
    issame: ref.issame ? Array.from(ref.issame) : [],
    warnings: [...ref.warnings],
  };
}

/**
 * Run `x` ([n, ...] rows) through a session in batches, concatenating the
 * [n, D] outputs. With a fixed batch size (a model whose batch dimension is a
 * number) every run gets exactly that many rows: the last batch is padded with
 * zero rows, whose outputs are dropped (src/data/padded-batches.ts).
 */
function runBatches(session: { run(x: Float32Array, n: number): Promise<Float32Array> }, x: Float32Array, n: number, d: number, batch: number, fixed: boolean, onBatch: (rows: number) => void): Promise<Float32Array> {
  return runPaddedBatches(x, n, batch, fixed, (xb, m) => session.run(xb, m), { dim: d, onBatch });
}

export async function runParity(input: ParityInput): Promise<ParityReport> {
  const log = input.log ?? silentLogger;
  const ref = input.references;
  const [n] = ref.dims;
  const d = ref.dim;
  // A model with a fixed batch dimension runs exactly that many rows at a time.
  const fixedBatch = typeof input.contract.input.shape[0] === 'number' ? (input.contract.input.shape[0] as number) : undefined;
  const batch = fixedBatch ?? input.batch ?? DEFAULT_BATCH;
  const device = input.device ?? 'all';
  const table = resolveThresholds(input.thresholds);
  const wanted = new Set(input.precisions ?? PRECISIONS);

  const models = input.files
    .filter((f) => f.role === 'model' && wanted.has(f.precision))
    .sort((a, b) => TARGET_NAMES.indexOf(a.target) - TARGET_NAMES.indexOf(b.target) || PRECISIONS.indexOf(a.precision) - PRECISIONS.indexOf(b.precision) || a.path.localeCompare(b.path));

  // Hash what will be measured: each model file and every file of its target and precision.
  const measured: MeasuredFile[] = [];
  const seen = new Set<string>();
  for (const m of models) {
    for (const f of input.files.filter((x) => x.target === m.target && x.precision === m.precision)) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      const abs = join(input.bundleDir, f.path);
      measured.push({ path: f.path, sha256: sha256(abs), bytes: statSync(abs).size, target: f.target, precision: f.precision, role: f.role });
    }
  }
  measured.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // What a run measures against: the full reference, or (a GPU runtime on a
  // software adapter, no --rows) a small subset with pairs of both kinds kept.
  const useTta = !!ref.flipEmbeddings;
  const pairsUsableIn = (r: ReferenceSet) => !!(r.pairs && r.issame && r.issame.some((s) => s === 1) && r.issame.some((s) => s === 0));
  if (ref.pairs && !pairsUsableIn(ref)) log.warn('the reference pairs are all same-identity or all different: no pair metrics');
  const prepare = (r: ReferenceSet, subset?: ReferenceSubset): RefView => {
    const m = r.dims[0];
    const unit = useTta ? ttaEmbeddings(r.embeddings, r.flipEmbeddings!, m, d) : normalizeRows(r.embeddings, m, d);
    const usable = pairsUsableIn(r);
    return { ref: r, n: m, pairsUsable: usable, refScores: usable ? pairScores(unit, d, r.pairs!) : [], flipped: useTta ? flipWidth(r.inputs, r.dims, r.layout) : null, subset };
  };
  const fullView = prepare(ref);
  const refScores = fullView.refScores;
  const fallbackRows = input.fallbackRows ?? budgetRows(input.flopsPerImage, useTta ? 2 : 1);
  let budgetView: RefView | undefined;
  const budgetFor = (): RefView => {
    if (!budgetView) {
      const s = subsetReferences(ref, fallbackRows, `${fallbackRows} of ${n} rows on software adapters`);
      budgetView = prepare(s.ref, s);
    }
    return budgetView;
  };
  const budgetRuntimes: string[] = [];

  // Runtimes: load and probe each once.
  const entries = input.runtimes ?? input.table ?? RUNTIMES;
  const explicit = !!input.runtimes;
  const loaded = new Map<string, { rt?: ParityRuntime; info?: RuntimeInfo; reason?: string }>();
  let hardware: Promise<boolean> | undefined;
  const probeEntry = async (e: RuntimeEntry) => {
    let st = loaded.get(e.id);
    if (st) return st;
    if (device !== 'all' && e.device !== device) st = { reason: `not selected (--device ${device})` };
    else if (e.optIn && !explicit && !(e.onWithHardwareAdapter && (await (hardware ??= hasHardwareAdapter(loaded))))) {
      st = { reason: `opt-in (${e.optIn}${e.onWithHardwareAdapter ? '; on by default with a hardware GPU adapter' : ''}): select it with --runtime ${e.id}` };
    } else {
      try {
        const rt = await e.load();
        const p = await rt.probe();
        st = p.available ? { rt, info: p.info } : { reason: p.reason };
      } catch (err) {
        st = { reason: `does not load: ${(err as Error).message.split('\n')[0]}` };
      }
    }
    loaded.set(e.id, st);
    return st;
  };

  const results: ParityResult[] = [];
  const skipped: SkippedRun[] = [];
  const skippedKeys = new Set<string>();
  const envRuntimes = new Map<string, RuntimeEnvironment>();
  const uncovered: string[] = [];
  const skip = (s: SkippedRun) => {
    const fix = fixFor(s.reason);
    skipped.push({ ...s, ...(fix ? { fix } : {}) });
  };

  for (const file of models) {
    const thresholds: Thresholds = table[file.precision];
    let ran = 0;
    const passedBy: string[] = [];
    for (const e of entries.filter((x) => x.target === file.target)) {
      const st = await probeEntry(e);
      if (!st.rt || !st.info) {
        const key = `${e.id}|${e.target}`;
        if (!skippedKeys.has(key)) {
          skippedKeys.add(key);
          skip({ runtime: e.id, target: e.target, device: e.device, reason: st.reason ?? 'unavailable' });
          const fix = fixFor(st.reason ?? '');
          log.info(`${mark('skip')} ${e.id} (${e.target}): ${st.reason}${fix && !(st.reason ?? '').includes(fix) ? ` (fix: ${fix})` : ''}`);
        }
        continue;
      }
      const info = st.info;
      const soft = info.device === 'gpu' && info.adapter?.isFallbackAdapter === true;
      if (soft && !explicit && passedBy.length) {
        // Another runtime already verified this file: on a CPU-emulated GPU the same run
        // adds little and can take many minutes on a full-size model (measured: over
        // 7 minutes for 4 rows of iresnet-100 on onnxruntime webgpu / SwiftShader, ~45 s
        // an image for sf2.js on Dawn / SwiftShader).
        const why = `software (fallback) adapter, and ${passedBy.join(', ')} already ran this file: select it with --runtime ${e.id}`;
        skip({ runtime: e.id, target: e.target, device: e.device, reason: `${file.precision}: ${why}`, file: file.path });
        log.info(`${mark('skip')} ${e.id} for ${file.path}: ${why}`);
        continue;
      }
      if (e.slow && !explicit && passedBy.length) {
        const why = `slow (${e.slow}), and ${passedBy.join(', ')} already ran this file: select it with --runtime ${e.id}`;
        skip({ runtime: e.id, target: e.target, device: e.device, reason: `${file.precision}: ${why}`, file: file.path });
        log.info(`${mark('skip')} ${e.id} for ${file.path}: ${why}`);
        continue;
      }
      const unsupported = await st.rt.supports?.(file);
      if (unsupported) {
        skip({ runtime: e.id, target: e.target, device: e.device, reason: `${file.precision}: ${unsupported}`, file: file.path });
        log.info(`${mark('skip')} ${e.id} for ${file.path}: ${unsupported}`);
        continue;
      }
      const budget = (soft || !!e.slow) && !input.rowsGiven && n > fallbackRows;
      const budgetWhy = soft ? `software (fallback) adapter ${info.adapter?.description ?? ''}`.trim() : `${e.slow}`;
      const v = budget ? budgetFor() : fullView;
      const label = resultLabel({ target: file.target, precision: file.precision, runtime: e.id });
      const bar = log.progress(`parity ${label}`, v.n, { flips: !!v.flipped });
      const base = { target: file.target, precision: file.precision, runtime: e.id, device: info.device, backend: info.backend, file: file.path, thresholds };
      const env: RuntimeEnvironment = { id: e.id, engine: info.engine, version: info.version, device: info.device, backend: info.backend, ...(info.adapter ? { adapter: info.adapter } : {}), ...(info.notes?.length ? { notes: [...info.notes] } : {}) };
      let session: Awaited<ReturnType<ParityRuntime['open']>> | undefined;
      try {
        session = await st.rt.open(input.bundleDir, file, input.contract);
        const r = v.ref;
        const out = await runBatches(session, r.inputs, v.n, d, batch, !!fixedBatch, (k) => bar.tick(k));
        const outFlip = v.flipped ? await runBatches(session, v.flipped, v.n, d, batch, !!fixedBatch, (k) => bar.tick(k, 'flip')) : null;
        const rows = rowMetrics(out, r.embeddings, v.n, d);
        const metrics: ParityMetrics = {
          rows: rows.metrics,
          ...(outFlip ? { tta: ttaMetrics(out, outFlip, r.embeddings, r.flipEmbeddings!, v.n, d) } : {}),
        };
        let expScores: number[] | undefined;
        let full: ParityMetrics = metrics;
        if (v.pairsUsable) {
          const unit = outFlip ? ttaEmbeddings(out, outFlip, v.n, d) : normalizeRows(out, v.n, d);
          expScores = pairScores(unit, d, r.pairs!);
          full = { ...metrics, pairs: pairMetrics(v.refScores, expScores, r.issame!, useTta ? 'flipTTA' : 'raw') };
        }
        const why = thresholdFailures(full, thresholds);
        const subset = v.subset ? { subset: { rows: [...v.subset.rows], pairs: [...v.subset.pairs], reason: `${budgetWhy}: ${v.n} of ${n} rows (--rows N to choose)` } } : {};
        results.push({ ...base, status: why.length ? 'fail' : 'pass', pass: why.length === 0, metrics: full, failures: why, series: { cosine: rows.cosine, ...(expScores ? { pairScores: expScores } : {}) }, ...subset });
        envRuntimes.set(e.id, env);
        if (budget && !budgetRuntimes.includes(e.id)) budgetRuntimes.push(e.id);
        ran++;
        if (!why.length) passedBy.push(e.id);
        bar.done(`${why.length ? 'FAIL' : 'pass'}: 1 - min cosine ${(1 - rows.metrics.cosine.min).toExponential(2)}, max |diff| ${rows.metrics.maxAbsDiff.toExponential(2)}${budget ? ` (${v.n} of ${n} rows: ${soft ? 'software adapter' : 'slow runtime'})` : ''}${why.length ? `; ${why.join('; ')}` : ''}`, why.length ? 'fail' : 'pass');
      } catch (err) {
        const msg = (err as Error).message.split('\n')[0]!.slice(0, 500);
        if (cannotRunHere(msg)) {
          // The runtime cannot run this file here (a missing feature, a lost device...): a skip, not a failure.
          skip({ runtime: e.id, target: e.target, device: e.device, reason: `${file.precision}: cannot run here: ${msg}`, file: file.path });
          bar.done(`skip: cannot run here: ${msg}`, 'skip');
        } else {
          results.push({ ...base, status: 'error', pass: false, metrics: null, failures: [`did not run: ${msg}`], series: null });
          envRuntimes.set(e.id, env);
          ran++;
          bar.done(`ERROR: ${msg}`, 'error');
        }
      } finally {
        try {
          await session?.close();
        } catch (err) {
          log.warn(`${label}: closing the session failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
    if (ran === 0) uncovered.push(file.path);
  }

  const cpu = cpus();
  const environment = {
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: { model: cpu[0]?.model?.trim() ?? 'unknown', count: cpu.length },
    runtimes: [...envRuntimes.values()],
  };
  const unverified = uncovered.map((path) => unverifiedFile(models.find((m) => m.path === path)!, skipped));
  const allowUnverified = !!input.allowUnverified;
  const pass = reportPasses({ results, uncovered, allowUnverified });
  return {
    schemaVersion: PARITY_REPORT_SCHEMA_VERSION,
    pass,
    environment,
    reference: summarizeReference(ref, refScores),
    files: measured,
    results,
    skipped,
    uncovered,
    unverified,
    allowUnverified,
  };
}

interface RefView {
  readonly ref: ReferenceSet;
  readonly n: number;
  readonly pairsUsable: boolean;
  readonly refScores: number[];
  readonly flipped: Float32Array | null;
  readonly subset?: ReferenceSubset;
}

/**
 * Is there a hardware (non-fallback) WebGPU adapter? From a runtime already
 * probed when one reported its adapter, else asked of Dawn (the webgpu package)
 * in a child process. Only browser runtimes that are opt-in on software
 * adapters ask.
 */
async function hasHardwareAdapter(loaded: ReadonlyMap<string, { info?: RuntimeInfo }>): Promise<boolean> {
  for (const st of loaded.values()) if (st.info?.adapter) return !st.info.adapter.isFallbackAdapter;
  const { gpuEnvCandidates } = await import('./gpu-env.js');
  const { probeAdapter } = await import('./runtimes/ort-node.js');
  for (const env of gpuEnvCandidates()) {
    const a = await probeAdapter(env);
    if (a.adapter) return !a.adapter.isFallbackAdapter;
  }
  return false;
}

const REASON_MAX = 90;
const shorten = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** A skip reason cut to its gist for the one-line summary (the report keeps it whole). */
export function gist(reason: string): string {
  let r = reason.replace(/^(fp32|fp16|int8): /, '').replace(/^cannot run here: /, '');
  if (r.length > 70) r = r.replace(/ \([^()]*\)/g, '').trim();
  const colon = r.indexOf(': ');
  if (r.length > 70 && colon >= 12) r = r.slice(0, colon);
  return shorten(r, REASON_MAX);
}

/** Why a model file was run by no runtime: its target's skips (and its own), grouped by reason, and the fix. */
export function unverifiedFile(file: Pick<BundleFile, 'path' | 'target' | 'precision'>, skipped: readonly SkippedRun[]): UnverifiedFile {
  const mine = skipped.filter((s) => s.target === file.target && (s.file === undefined || s.file === file.path));
  const groups = new Map<string, string[]>();
  for (const s of mine) {
    const reason = gist(s.reason);
    groups.set(reason, [...(groups.get(reason) ?? []), s.runtime]);
  }
  const fixes = mine.map((s) => s.fix).filter((f): f is string => !!f);
  // A command (apt-get, npm install) beats a flag (--runtime, --device): it fixes the machine.
  const fix = fixes.find((f) => !f.startsWith('--')) ?? fixes[0] ?? null;
  return {
    file: file.path,
    target: file.target,
    precision: file.precision,
    reasons: [...groups].map(([reason, rts]) => `${rts.join(', ')}: ${reason}`),
    fix,
  };
}

/** One short line (under 300 characters) per unverified file: what, why, the fix. */
export function unverifiedLine(u: UnverifiedFile): string {
  const why = u.reasons.length ? u.reasons.join('; ') : `no ${u.target} runtime is registered`;
  const fix = u.fix ? `; fix: ${u.fix}` : '';
  const head = `${u.file}: run by no runtime (`;
  const room = 299 - head.length - 1 - fix.length;
  return `${head}${shorten(why, Math.max(40, room))})${fix}`.slice(0, 299);
}

/** One line per failing result (numbers outside the thresholds, or a run that errored), for the ParityError and the console. */
export function failingRows(report: ParityReport): string[] {
  const out = report.results.filter((r) => !r.pass).map((r) => `${resultLabel(r)}: ${r.failures.join('; ')}`);
  if (report.results.length === 0 && report.uncovered.length === 0) out.push('no model file was measured');
  return out;
}

/** One short line per model file that no runtime ran (empty when every file was run). */
export function unverifiedLines(report: ParityReport): string[] {
  const byFile = new Map((report.unverified ?? []).map((u) => [u.file, u]));
  return report.uncovered.map((f) => unverifiedLine(byFile.get(f) ?? { file: f, target: f.split('/')[0] ?? '', precision: '', reasons: [], fix: null }));
}
