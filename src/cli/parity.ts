/**
 * `sf2-export parity DIR [--reference ...] [--device ...]`: re-run parity on
 * an existing bundle and rewrite its reports (each through a temporary file
 * and a rename), then bring manifest.json up to date with the new reports.
 * A SIGNATURE made before no longer matches: it is re-made with --sign-key,
 * removed (with a warning) otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, ParityError, UsageError } from '../errors.js';
import type { ModelContract } from '../pipeline/contract.js';
import { MANIFEST_FILE } from '../pipeline/manifest.js';
import { PRECISIONS, type Precision } from '../pipeline/precision.js';
import { TARGET_NAMES, type BundleFile, type TargetName } from '../targets/target.js';
import { parityForBundle, paritySummary } from '../parity/run.js';
import { writeAtomic } from '../parity/report-json.js';
import { sealManifest } from '../parity/verify.js';
import { parseThresholdFlag, thresholdsFromConfig, type ThresholdOverrides } from '../parity/thresholds.js';
import { resultLabel } from '../parity/report.js';
import { oneMinus } from '../parity/report-md.js';
import type { Logger } from './log.js';
import { suggest } from './suggest.js';
import { RUNTIMES, type RuntimeEntry } from '../parity/runtimes/registry.js';

export interface ParityCommandOptions {
  reference?: string;
  inputs?: string;
  images?: string;
  model?: string;
  embedding?: string;
  device?: string;
  precision?: string;
  rows?: string;
  batch?: string;
  minCosine?: string;
  maxFlips?: string;
  thresholds?: string;
  runtime?: string;
  signKey?: string;
  json?: boolean;
}

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

interface ManifestOnDisk {
  source?: { sha256?: string; path?: string };
  model?: { embeddingDim?: number; output?: string; input?: ModelContract['input']; flipTTA?: 'sum' };
  files?: Array<{ path: string; sha256: string; bytes: number; target: string; precision: string | null; role: string }>;
  parity?: unknown;
  [k: string]: unknown;
}

function readManifest(dir: string): ManifestOnDisk {
  const p = join(dir, MANIFEST_FILE);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`, 'pass a bundle folder written by sf2-export');
  let m: ManifestOnDisk;
  try {
    m = JSON.parse(readFileSync(p, 'utf8')) as ManifestOnDisk;
  } catch (e) {
    throw new InputError('bundle', `${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(e as Error).message})`}`, 'pass a bundle folder written by sf2-export');
  }
  if (!m.model || !m.model.input || typeof m.model.embeddingDim !== 'number' || !m.model.output || !Array.isArray(m.files)) {
    throw new InputError('bundle', `${p} lacks model.input, model.embeddingDim, model.output or files`, 'was it written by this version of sf2-export?');
  }
  return m;
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${v}: expected a positive integer`);
  return n;
}

export async function parityCommand(dir: string, opts: ParityCommandOptions, log: Logger): Promise<number> {
  const device = opts.device ?? 'all';
  if (!['cpu', 'gpu', 'all'].includes(device)) throw new UsageError(`--device ${device}: expected cpu, gpu or all`);
  const manifest = readManifest(dir);
  const contract: ModelContract = {
    embeddingDim: manifest.model!.embeddingDim!,
    output: manifest.model!.output!,
    input: manifest.model!.input!,
    flipTTA: manifest.model!.flipTTA ?? 'sum',
  };
  const files: BundleFile[] = manifest.files!
    .filter((f) => (TARGET_NAMES as readonly string[]).includes(f.target) && (PRECISIONS as readonly string[]).includes(String(f.precision)))
    .map((f) => ({ path: f.path, target: f.target as TargetName, precision: f.precision as Precision, role: f.role as BundleFile['role'] }));

  let precisions: Precision[] | undefined;
  if (opts.precision) {
    precisions = opts.precision.split(',').map((s) => s.trim()).filter(Boolean) as Precision[];
    for (const p of precisions) if (!(PRECISIONS as readonly string[]).includes(p)) throw new UsageError(`--precision ${p}: expected ${PRECISIONS.join(', ')}`);
  }
  let thresholds: ThresholdOverrides = {};
  if (opts.thresholds) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(opts.thresholds, 'utf8'));
    } catch (e) {
      throw new UsageError(`--thresholds ${opts.thresholds}: ${(e as Error).message}`);
    }
    thresholds = thresholdsFromConfig(json, opts.thresholds);
  }
  if (opts.minCosine) thresholds = parseThresholdFlag('minCosine', opts.minCosine, thresholds);
  if (opts.maxFlips) thresholds = parseThresholdFlag('maxFlipFraction', opts.maxFlips, thresholds);

  if (opts.model) {
    const want = manifest.source?.sha256;
    const have = createHash('sha256').update(readFileSync(opts.model)).digest('hex');
    if (want && /^[0-9a-f]{64}$/.test(want) && want !== have) {
      throw new UsageError(`--model ${opts.model} is not the model this bundle was exported from (sha256 ${have.slice(0, 12)}..., the manifest says ${want.slice(0, 12)}...)`, `pass the original ${manifest.source?.path ?? 'model'}`);
    }
  } else if (!opts.reference) {
    throw new UsageError('parity needs references: --reference REF.npz, or --model ORIGINAL.onnx (synthetic inputs or --images, references from the original)', 'e.g. sf2-export parity DIR --reference ref.npz');
  }

  const res = await parityForBundle(dir, files, contract, {
    reference: opts.reference,
    inputs: opts.inputs,
    images: opts.images,
    originalModel: opts.model,
    embedding: opts.embedding,
    device: device as 'cpu' | 'gpu' | 'all',
    thresholds,
    precisions,
    rows: positiveInt('--rows', opts.rows),
    batch: positiveInt('--batch', opts.batch),
    runtimes: selectRuntimes(opts.runtime),
    log,
  });

  // manifest.json: the new reports' hashes and the parity summary.
  const summary = paritySummary(res.report);
  const entries = manifest.files!.filter((f) => !res.reportFiles.includes(f.path));
  for (const p of res.reportFiles) {
    const b = readFileSync(join(dir, p));
    entries.push({ path: p, sha256: createHash('sha256').update(b).digest('hex'), bytes: b.length, target: 'report', precision: null, role: 'report' });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const next = { ...manifest, files: entries, parity: { pass: summary.pass, report: summary.reportPath, failures: summary.failures, skipped: summary.skipped } };
  writeAtomic(join(dir, MANIFEST_FILE), sealManifest(next));

  const sig = join(dir, 'SIGNATURE');
  if (opts.signKey) {
    const { signBundle } = await import('../parity/verify.js');
    await signBundle(dir, opts.signKey);
  } else if (existsSync(sig)) {
    rmSync(sig);
    log.warn('removed the old SIGNATURE: it no longer matches the new reports (pass --sign-key KEY.pem to sign again)');
  }

  if (opts.json) {
    process.stdout.write(JSON.stringify({ ok: res.report.pass, out: dir, parity: { pass: summary.pass, results: summary.results, skipped: summary.skippedRuntimes }, reports: res.reportFiles }) + '\n');
  } else {
    for (const r of res.report.results) {
      const m = r.metrics;
      log.info(`${r.pass ? 'pass' : 'FAIL'}  ${resultLabel(r)}${m ? `  1-min cos ${oneMinus(m.rows.cosine.min)}  max |diff| ${m.rows.maxAbsDiff.toExponential(2)}${m.pairs ? `  flips ${m.pairs.flipsAtFar}/${m.pairs.flipsAtBestAccuracy}` : ''}` : ''}`);
    }
    log.info(`wrote ${res.reportFiles.map((p) => join(dir, p)).join(', ')}`);
  }
  if (!res.report.pass) {
    for (const line of res.failing) process.stderr.write(`parity failed: ${line}\n`);
    throw new ParityError(`parity failed for ${res.failing.length} result${res.failing.length === 1 ? '' : 's'}: ${res.failing.join('; ')}`, `see ${join(dir, 'parity-report.md')}`);
  }
  return 0;
}
