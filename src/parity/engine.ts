/**
 * The parity engine: every model file of the bundle (target x precision) on
 * every runtime registered for its target (src/parity/runtimes/registry.ts)
 * that --device selects, against the references.
 *
 *   for each model file f (target, precision), in table order:
 *     for each runtime r of f's target:
 *       not selected by --device, does not load, or probe says no
 *                           -> skipped, with the reason (listed, never dropped)
 *       else open f on r; run the inputs in batches (and the width-flipped
 *       inputs when the references have flip embeddings); metrics; pass/fail
 *       by the precision's thresholds. An error while opening or running is a
 *       FAILED result (status 'error'), not a skip.
 *   a model file that no runtime ran is "uncovered", and fails the report.
 *
 * Files are hashed before the runs, so the report says exactly what was measured.
 */
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, basename } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../cli/log.js';
import { silentLogger } from '../cli/log.js';
import type { ModelContract } from '../pipeline/contract.js';
import { PRECISIONS, type Precision } from '../pipeline/precision.js';
import { TARGET_NAMES, type BundleFile } from '../targets/target.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { flipWidth, type ReferenceSet } from './references.js';
import { normalizeRows, pairMetrics, pairScores, rowMetrics, ttaEmbeddings, ttaMetrics, type ParityMetrics } from './metrics.js';
import { failures as thresholdFailures, resolveThresholds, type ThresholdOverrides, type Thresholds } from './thresholds.js';
import { RUNTIMES, type DeviceChoice, type RuntimeEntry } from './runtimes/registry.js';
import type { ParityRuntime, RuntimeInfo } from './runtime.js';
import { PARITY_REPORT_SCHEMA_VERSION, resultLabel, type MeasuredFile, type ParityReport, type ParityResult, type ReferenceSummary, type RuntimeEnvironment, type SkippedRun } from './report.js';

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
  /** Rows per run (default 8). */
  readonly batch?: number;
  /** Progress per runtime and per batch goes through log.progress (a bar on a terminal, quiet with --json). */
  readonly log?: Logger;
}

export const DEFAULT_BATCH = 8;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The reference part of the report. */
export function summarizeReference(ref: ReferenceSet, refPairScores: readonly number[]): ReferenceSummary {
  const files = ref.files.map((f) => ({ name: basename(f.path), sha256: f.sha256, bytes: f.bytes }));
  const digest = files.length === 1 ? files[0]!.sha256 : createHash('sha256').update(files.map((f) => `${f.sha256}  ${f.name}\n`).sort().join('')).digest('hex');
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
 * zero rows, whose outputs are dropped.
 */
async function runBatches(session: { run(x: Float32Array, n: number): Promise<Float32Array> }, x: Float32Array, n: number, d: number, batch: number, fixed: boolean, onBatch: (rows: number) => void): Promise<Float32Array> {
  const per = x.length / n;
  const out = new Float32Array(n * d);
  for (let s = 0; s < n; s += batch) {
    const k = Math.min(batch, n - s);
    const m = fixed ? batch : k;
    // A copy, so no runtime ever sees (or keeps) a view into the reference inputs.
    const xb = new Float32Array(m * per);
    xb.set(x.subarray(s * per, (s + k) * per));
    const y = await session.run(xb, m);
    if (y.length !== m * d) throw new Error(`returned ${y.length} values for ${m} rows, expected ${m * d}`);
    out.set(y.subarray(0, k * d), s * d);
    onBatch(k);
  }
  return out;
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

  // Reference pair scores (flip-TTA when the references have flips).
  const useTta = !!ref.flipEmbeddings;
  const pairsUsable = !!(ref.pairs && ref.issame && ref.issame.some((s) => s === 1) && ref.issame.some((s) => s === 0));
  if (ref.pairs && !pairsUsable) log.warn('the reference pairs are all same-identity or all different: no pair metrics');
  const refUnit = useTta ? ttaEmbeddings(ref.embeddings, ref.flipEmbeddings!, n, d) : normalizeRows(ref.embeddings, n, d);
  const refScores = pairsUsable ? pairScores(refUnit, d, ref.pairs!) : [];
  const flipped = useTta ? flipWidth(ref.inputs, ref.dims) : null;

  // Runtimes: load and probe each once.
  const entries = input.runtimes ?? RUNTIMES;
  const explicit = !!input.runtimes;
  const loaded = new Map<string, { rt?: ParityRuntime; info?: RuntimeInfo; reason?: string }>();
  const probeEntry = async (e: RuntimeEntry) => {
    let st = loaded.get(e.id);
    if (st) return st;
    if (device !== 'all' && e.device !== device) st = { reason: `not selected (--device ${device})` };
    else if (e.optIn && !explicit) st = { reason: `opt-in (${e.optIn}): select it with --runtime ${e.id}` };
    else {
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

  for (const file of models) {
    const thresholds: Thresholds = table[file.precision];
    let ran = 0;
    for (const e of entries.filter((x) => x.target === file.target)) {
      const st = await probeEntry(e);
      if (!st.rt || !st.info) {
        const key = `${e.id}|${e.target}`;
        if (!skippedKeys.has(key)) {
          skippedKeys.add(key);
          skipped.push({ runtime: e.id, target: e.target, device: e.device, reason: st.reason ?? 'unavailable' });
          log.info(`skipped ${e.id} (${e.target}): ${st.reason}`);
        }
        continue;
      }
      const info = st.info;
      const unsupported = await st.rt.supports?.(file);
      if (unsupported) {
        skipped.push({ runtime: e.id, target: e.target, device: e.device, reason: `${file.precision}: ${unsupported}` });
        log.info(`skipped ${e.id} for ${file.path}: ${unsupported}`);
        continue;
      }
      envRuntimes.set(e.id, { id: e.id, engine: info.engine, version: info.version, device: info.device, backend: info.backend, ...(info.adapter ? { adapter: info.adapter } : {}), ...(info.notes?.length ? { notes: [...info.notes] } : {}) });
      const label = resultLabel({ target: file.target, precision: file.precision, runtime: e.id });
      const total = flipped ? 2 * n : n;
      const bar = log.progress(`parity ${label}`, total);
      const end = (msg: string) => bar.done(msg);
      ran++;
      const base = { target: file.target, precision: file.precision, runtime: e.id, device: info.device, backend: info.backend, file: file.path, thresholds };
      let session: Awaited<ReturnType<ParityRuntime['open']>> | undefined;
      try {
        session = await st.rt.open(input.bundleDir, file, input.contract);
        const tick = (k: number) => bar.tick(k);
        const out = await runBatches(session, ref.inputs, n, d, batch, !!fixedBatch, tick);
        const outFlip = flipped ? await runBatches(session, flipped, n, d, batch, !!fixedBatch, tick) : null;
        const rows = rowMetrics(out, ref.embeddings, n, d);
        const metrics: ParityMetrics = {
          rows: rows.metrics,
          ...(outFlip ? { tta: ttaMetrics(out, outFlip, ref.embeddings, ref.flipEmbeddings!, n, d) } : {}),
        };
        let expScores: number[] | undefined;
        let full: ParityMetrics = metrics;
        if (pairsUsable) {
          const unit = outFlip ? ttaEmbeddings(out, outFlip, n, d) : normalizeRows(out, n, d);
          expScores = pairScores(unit, d, ref.pairs!);
          full = { ...metrics, pairs: pairMetrics(refScores, expScores, ref.issame!, useTta ? 'flipTTA' : 'raw') };
        }
        const why = thresholdFailures(full, thresholds);
        results.push({ ...base, status: why.length ? 'fail' : 'pass', pass: why.length === 0, metrics: full, failures: why, series: { cosine: rows.cosine, ...(expScores ? { pairScores: expScores } : {}) } });
        end(`${why.length ? 'FAIL' : 'pass'}: 1 - min cosine ${(1 - rows.metrics.cosine.min).toExponential(2)}, max |diff| ${rows.metrics.maxAbsDiff.toExponential(2)}${why.length ? `; ${why.join('; ')}` : ''}`);
      } catch (err) {
        const msg = (err as Error).message.split('\n')[0]!.slice(0, 500);
        results.push({ ...base, status: 'error', pass: false, metrics: null, failures: [`did not run: ${msg}`], series: null });
        end(`ERROR: ${msg}`);
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
  const pass = results.length > 0 && uncovered.length === 0 && results.every((r) => r.pass);
  return {
    schemaVersion: PARITY_REPORT_SCHEMA_VERSION,
    pass,
    environment,
    reference: summarizeReference(ref, refScores),
    files: measured,
    results,
    skipped,
    uncovered,
  };
}

/** One line per failing result, for the ParityError and the console. */
export function failingRows(report: ParityReport): string[] {
  const out = report.results.filter((r) => !r.pass).map((r) => `${resultLabel(r)}: ${r.failures.join('; ')}`);
  for (const u of report.uncovered) out.push(`${u}: no runtime could run it (${report.skipped.map((s) => `${s.runtime}: ${s.reason}`).join('; ') || 'none registered'})`);
  if (report.results.length === 0 && report.uncovered.length === 0) out.push('no model file was measured');
  return out;
}
