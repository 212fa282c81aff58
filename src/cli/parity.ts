/**
 * `sf2-export parity DIR [--reference ...] [--device ...]`: re-run parity on
 * an existing bundle. It judges only what it was asked to run (the model files
 * of --precision whose target a --runtime / --device selection can run), and
 * its results go into the bundle's report (replaced by a full re-check, merged
 * into it by a partial one on the same references) or, when that would leave a
 * bundle that verified in a state that does not, beside it in DIR.recheck/
 * (src/parity/recheck.ts). When the bundle's reports change, each is written
 * through a temporary file and a rename and manifest.json is brought up to
 * date; a SIGNATURE made before no longer matches: it is re-made with
 * --sign-key, removed (with a warning) otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError, ParityError, UnverifiedError, UsageError } from '../errors.js';
import type { ModelContract } from '../analysis/contract.js';
import { embeddingTensorOf, MANIFEST_FILE, readManifest as readBundleManifest, type Manifest } from '../bundle/manifest.js';
import { PRECISIONS, type Precision } from '../ir/precision.js';
import { TARGET_NAMES, type BundleFile, type TargetName } from '../targets/target.js';
import { limitReferences, paritySummary } from '../parity/run.js';
import { readReport, writeAtomic, writeReports } from '../parity/report-json.js';
import { goldenReferenceCheck } from '../bundle/golden-set.js';
import { sealManifest, signBundle } from '../bundle/seal.js';
import { verifyBundleDir } from '../verify/verify.js';
import { failingRows, runParity, unverifiedLines } from '../parity/engine.js';
import { loadReferences } from '../data/references.js';
import { loadOnnx } from '../onnx/import.js';
import { countFlops } from '../analysis/flops.js';
import { placeRecheck, recheckScope } from '../parity/recheck.js';
import { REPORT_JSON, type ParityReport } from '../parity/report.js';
import { emitJson, withJson } from './json-out.js';
import { positiveInt, thresholdsOf } from './flag-values.js';
import type { OptionsOf } from './flags.js';
import { resultLabel } from '../parity/report.js';
import { oneMinus } from '../parity/report-md.js';
import type { Logger } from '../log.js';
import { suggest } from './suggest.js';
import { RUNTIMES, type DeviceChoice, type RuntimeEntry } from '../parity/runtimes/registry.js';

/** The flags of `sf2-export parity` (the flag table, flags.ts). */
export type ParityCommandOptions = OptionsOf<'parity'>;

/** --runtime LIST: runtime ids, or prefixes like "onnxruntime-node" (docs/parity.md lists them). */
export function selectRuntimes(list: string | undefined): RuntimeEntry[] | undefined {
  if (!list) return undefined;
  const wanted = list.split(',').map((s) => s.trim()).filter(Boolean);
  const out: RuntimeEntry[] = [];
  for (const w of wanted) {
    const hit = RUNTIMES.filter((r) => r.id === w || r.id.startsWith(`${w}/`));
    if (!hit.length) throw new UsageError(`--runtime ${w}: no such runtime${suggest(w, RUNTIMES.map((r) => r.id))}`, `known: ${RUNTIMES.map((r) => r.id).join(', ')}`);
    for (const h of hit) if (!out.includes(h)) out.push(h);
  }
  return RUNTIMES.filter((r) => out.includes(r));
}

function readManifest(dir: string): Manifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`, 'pass a bundle folder written by sf2-export');
  return readBundleManifest(dir); // checked field by field (InputError, exit 3)
}

/** The bundle's report, or undefined when it cannot be read (a re-check then replaces it). */
function tryReadReport(dir: string): ParityReport | undefined {
  try {
    return readReport(dir);
  } catch {
    return undefined;
  }
}

/** DIR.recheck beside the bundle folder: where a re-check that must not touch the bundle writes its reports. */
export function besideDir(dir: string): string {
  const abs = resolve(dir);
  return join(dirname(abs), `${basename(abs)}.recheck`);
}

export async function parityCommand(dir: string, opts: ParityCommandOptions, log: Logger): Promise<number> {
  const device = opts.device ?? 'all';
  if (!['cpu', 'gpu', 'all'].includes(device)) throw new UsageError(`--device ${device}: expected cpu, gpu or all`);
  const manifest = readManifest(dir);
  const contract: ModelContract = {
    embeddingDim: manifest.model.embeddingDim,
    output: manifest.model.output,
    input: manifest.model.input,
    flipTTA: manifest.model.flipTTA,
  };
  const files: BundleFile[] = manifest.files
    .filter((f) => (TARGET_NAMES as readonly string[]).includes(f.target) && (PRECISIONS as readonly string[]).includes(String(f.precision)))
    .map((f) => ({ path: f.path, target: f.target as TargetName, precision: f.precision as Precision, role: f.role as BundleFile['role'] }));

  let precisions: Precision[] | undefined;
  if (opts.precision) {
    precisions = opts.precision.split(',').map((s) => s.trim()).filter(Boolean) as Precision[];
    for (const p of precisions) if (!(PRECISIONS as readonly string[]).includes(p)) throw new UsageError(`--precision ${p}: expected ${PRECISIONS.join(', ')}`);
  }
  const thresholds = thresholdsOf(opts);

  if (opts.model) {
    const want = manifest.source.sha256;
    const have = createHash('sha256').update(readFileSync(opts.model)).digest('hex');
    if (want && /^[0-9a-f]{64}$/.test(want) && want !== have) {
      throw new UsageError(`--model ${opts.model} is not the model this bundle was exported from (sha256 ${have.slice(0, 12)}..., the manifest says ${want.slice(0, 12)}...)`, `pass the original ${manifest.source.path}`);
    }
  } else if (!opts.reference) {
    throw new UsageError('parity needs references: --reference REF.npz, or --model ORIGINAL.onnx (synthetic inputs or --images, references from the original)', 'e.g. sf2-export parity DIR --reference ref.npz');
  }

  // A re-check judges only what it was asked to run (src/parity/recheck.ts).
  const runtimes = selectRuntimes(opts.runtime);
  const scope = recheckScope(files, { runtimes, registry: RUNTIMES, device: device as DeviceChoice, precisions });
  if (!scope.files.some((f) => f.role === 'model')) {
    throw new UsageError(`nothing to re-check: the bundle has no model file that ${[opts.runtime && `--runtime ${opts.runtime}`, device !== 'all' && `--device ${device}`, opts.precision && `--precision ${opts.precision}`].filter(Boolean).join(' and ')} select${opts.runtime || opts.precision ? '' : 's'}`, `its model files: ${files.filter((f) => f.role === 'model').map((f) => f.path).join(', ')}`);
  }
  if (scope.outOfScope.length) log.info(`not re-checked (not selected): ${scope.outOfScope.join(', ')}`);
  const verifiedBefore = verifyBundleDir(dir).ok;
  const old = existsSync(join(dir, REPORT_JSON)) ? tryReadReport(dir) : undefined;

  const rows = positiveInt('--rows', opts.rows);
  let references = await loadReferences({
    reference: opts.reference,
    inputs: opts.inputs,
    images: opts.images,
    originalModel: opts.model,
    // The cut the export used (manifest.head), not a fresh detection on the original.
    embedding: opts.embedding ?? embeddingTensorOf(manifest),
    arch: opts.arch,
    head: opts.head,
    contract,
    log,
  });
  // Each golden set must carry rows of the references it was made from (src/bundle/golden-set.ts).
  const golden = goldenReferenceCheck(dir, files, references);
  for (const n of golden.notes) log.info(`note: ${n}`);
  if (golden.problems.length) throw new ParityError(`golden set does not match the references: ${golden.problems.join('; ')}`, 're-export the bundle (its golden sets were edited or damaged)');
  if (rows) references = limitReferences(references, rows);
  const fresh = await runParity({
    bundleDir: dir,
    files: scope.files,
    contract,
    references,
    precisions,
    device: device as DeviceChoice,
    thresholds,
    runtimes,
    batch: positiveInt('--batch', opts.batch),
    rowsGiven: !!rows,
    flopsPerImage: bundleFlops(dir, files),
    allowUnverified: !!opts.allowUnverified,
    log,
  });
  const failing = failingRows(fresh);
  const unverified = unverifiedLines(fresh);
  const placed = placeRecheck({ fresh, old, full: scope.full, pool: scope.pool, verifiedBefore });

  let reportDir = dir;
  let reportFiles: string[];
  if (placed.where === 'bundle') {
    reportFiles = writeReports(dir, placed.report);
    // manifest.json: the new reports' hashes and the parity summary.
    const summary = paritySummary(placed.report);
    const entries = manifest.files.filter((f) => !reportFiles.includes(f.path));
    for (const p of reportFiles) {
      const b = readFileSync(join(dir, p));
      entries.push({ path: p, sha256: createHash('sha256').update(b).digest('hex'), bytes: b.length, target: 'report', precision: null, role: 'report' });
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const next = { ...manifest, files: entries, parity: { pass: summary.pass, report: summary.reportPath, failures: summary.failures, skipped: summary.skipped, ...(summary.unverifiedFiles.length ? { unverified: summary.unverifiedFiles } : {}) } };
    writeAtomic(join(dir, MANIFEST_FILE), sealManifest(next));

    const sig = join(dir, 'SIGNATURE');
    if (opts.signKey) {
      await signBundle(dir, opts.signKey);
    } else if (existsSync(sig)) {
      rmSync(sig);
      log.warn('removed the old SIGNATURE: it no longer matches the new reports (pass --sign-key KEY.pem to sign again)');
    }
    if (placed.how === 'merged') log.info(`merged ${fresh.results.length} result${fresh.results.length === 1 ? '' : 's'} into ${join(dir, REPORT_JSON)} (${placed.report.results.length} in all)`);
  } else {
    reportDir = besideDir(dir);
    mkdirSync(reportDir, { recursive: true });
    reportFiles = writeReports(reportDir, fresh);
    log.warn(`the bundle is left as it was (${placed.why}); this re-check's reports are in ${reportDir}`);
    if (opts.signKey) log.warn('--sign-key: nothing was re-signed, the bundle did not change');
  }

  const summary = paritySummary(fresh);
  const json = {
    ok: fresh.pass,
    out: dir,
    parity: { pass: summary.pass, results: summary.results, skipped: summary.skippedRuntimes, unverified: summary.unverified },
    reports: reportFiles,
    reportDir,
    written: placed.where === 'bundle' ? placed.how : 'beside',
    notRechecked: scope.outOfScope,
  };
  for (const r of fresh.results) {
    const m = r.metrics;
    log.info(`${r.pass ? 'pass' : 'FAIL'}  ${resultLabel(r)}${m ? `  1-min cos ${oneMinus(m.rows.cosine.min)}  max |diff| ${m.rows.maxAbsDiff.toExponential(2)}${m.pairs ? `  flips ${m.pairs.flipsAtFar}/${m.pairs.flipsAtBestAccuracy}` : ''}` : ''}`);
  }
  log.info(`wrote ${reportFiles.map((p) => join(reportDir, p)).join(', ')}`);
  for (const line of unverified) log.warn(`unverified: ${line}`);
  if (!fresh.pass && !failing.length) {
    throw withJson(new UnverifiedError(`${unverified.length} bundle file(s) run by no runtime (unverified, not a parity failure; the lines above say why and the fix)`, 'fix the runtimes, or pass --allow-unverified to accept'), json);
  }
  if (!fresh.pass) {
    for (const line of failing) process.stderr.write(`parity failed: ${line}\n`);
    throw withJson(new ParityError(`parity failed for ${failing.length} result${failing.length === 1 ? '' : 's'}: ${failing.join('; ')}`, `see ${join(reportDir, 'parity-report.md')}`), json);
  }
  if (opts.json) emitJson(json);
  return 0;
}

/**
 * The bundle's FLOPs per image, which sizes the software-adapter row budget
 * (src/parity/row-subset.ts) as the export did: counted on the bundle's ONNX
 * file (the optimized graph, its shapes annotated; fp32 first). Undefined for a
 * bundle without one (the budget's default then) or one that does not load.
 */
function bundleFlops(dir: string, files: readonly BundleFile[]): number | undefined {
  const onnx = files.filter((f) => f.target === 'onnx' && f.role === 'model').sort((a, b) => PRECISIONS.indexOf(a.precision) - PRECISIONS.indexOf(b.precision))[0];
  if (!onnx) return undefined;
  try {
    return countFlops(loadOnnx(join(dir, onnx.path)).graph) || undefined;
  } catch {
    return undefined;
  }
}
