/**
 * `pack`: a release tarball of a bundle that is byte-for-byte reproducible.
 *
 * Determinism: entries sorted by path, every mtime fixed (2000-01-01, as the
 * epoch is refused by some unpackers), mode 0644/0755 normalized, owner and
 * group 0 with no user or group names (tar `portable`), and gzip without a
 * timestamp or file name in its header. Two packs of one bundle are identical.
 *
 * Contents, under one top folder `<name>/`: every file of the bundle
 * (manifest.json, the parity reports, the target folders), plus a generated
 * MODEL_CARD.md and SHA256SUMS (sha256sum format, over every other file).
 */
import { sha256Hex } from '../data/sha256.js';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import * as tar from 'tar';
import { InputError, ParityError, UsageError } from '../errors.js';
import { listFiles } from '../bundle/bundle-dir.js';
import { readManifest, type Manifest } from '../bundle/manifest.js';
import { modelCard, reportLike } from './model-card.js';

export const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

export interface PackOptions {
  /** Output tarball (default <DIR>.tgz beside the bundle). */
  out?: string;
  force?: boolean;
  /** Pack a bundle whose parity failed (refused otherwise, ParityError exit 5); MODEL_CARD.md says so. */
  allowFailed?: boolean;
}

export interface PackResult {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly entries: readonly string[];
  /** With allowFailed on a bundle whose parity failed: what failed (MODEL_CARD.md says it too). */
  readonly parityFailed?: readonly string[];
}

/** DIR/manifest.json, checked field by field (InputError, exit 3): the one reader in ../bundle/manifest.ts. */
export { readManifest };

export async function packBundle(dir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${dir} is not a folder`, 'pass a bundle folder written by sf2-export');
  const name = basename(root);
  const out = resolve(options.out ?? `${root}.tgz`);
  if (out.startsWith(root + '/')) throw new UsageError('--out is inside the bundle folder', 'write the tarball elsewhere');
  if (existsSync(out) && !options.force) throw new UsageError(`${out} already exists`, 'pass --force to replace it');
  if (existsSync(out) && !statSync(out).isFile()) throw new UsageError(`--out ${out} is a folder, not a tarball file`, 'pass a file name such as release/model.tgz; --force replaces only a file');
  if (root === out || root.startsWith(out + '/')) throw new UsageError('--out is the bundle folder or one of its parents', 'write the tarball elsewhere');
  // The command line is checked first (exit 2), then the bundle it names (exit 3).
  const manifest = readManifest(root);
  const reportPath = join(root, 'parity-report.json');
  const report = existsSync(reportPath) ? readReportLoose(reportPath) : undefined;
  // A release of a bundle whose parity failed is refused, naming what failed, unless asked for.
  if (manifest.parity && manifest.parity.pass !== true && !options.allowFailed) {
    const failing = failingResults(manifest, report);
    throw new ParityError(
      `${dir}: parity failed (${failing.join('; ')}); not packed`,
      'fix the bundle and re-export or re-run `sf2-export parity`, or pass --allow-failed to pack it anyway (MODEL_CARD.md then says so)',
    );
  }

  const stage = mkdtempSync(join(tmpdir(), 'sf2-pack-'));
  try {
    const top = join(stage, name);
    const files = listFiles(root);
    for (const f of files) {
      mkdirSync(dirname(join(top, f)), { recursive: true });
      copyFileSync(join(root, f), join(top, f));
    }
    writeFileSync(join(top, 'MODEL_CARD.md'), modelCard(manifest, report, files.map((f) => ({ path: f, bytes: statSync(join(root, f)).size }))));
    const summed = listFiles(top).filter((f) => f !== 'SHA256SUMS');
    const sums = summed.map((f) => `${sha256Hex(readFileSync(join(top, f)))}  ${f}\n`).join('');
    writeFileSync(join(top, 'SHA256SUMS'), sums);
    const entries = listFiles(top).map((f) => `${name}/${f}`);
    const dirs = [...new Set(entries.flatMap((e) => ancestorsOf(e)))].sort();
    const all = [...dirs, ...entries].sort();
    const tmpOut = `${out}.tmp-${process.pid}`;
    try {
      await tar.create(
        {
          file: tmpOut,
          cwd: stage,
          gzip: { level: 9 },
          portable: true,
          mtime: FIXED_MTIME,
          noDirRecurse: true,
          follow: false,
        },
        all,
      );
      renameSync(tmpOut, out);
    } catch (e) {
      rmSync(tmpOut, { force: true }); // never leave a half-written tarball
      throw e;
    }
    const bytes = readFileSync(out);
    void manifest;
    const parityFailed = manifest.parity && manifest.parity.pass !== true ? failingResults(manifest, report) : undefined;
    return { file: out, bytes: bytes.byteLength, sha256: sha256Hex(bytes), entries, ...(parityFailed ? { parityFailed } : {}) };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function readReportLoose(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new InputError('report', `${path} is not valid JSON: ${(e as Error).message}`, 'run `sf2-export parity DIR` to rewrite it');
  }
}

/** "onnx fp16 onnxruntime-node/cpu: min cosine ..." per failing result (from the report), else the manifest's failure lines. */
export function failingResults(manifest: Manifest, report: unknown): string[] {
  const r = reportLike(report);
  const out = (r.results ?? []).filter((x) => x.pass === false).map((x) => `${x.target} ${x.precision} ${x.runtime}: ${(x.failures ?? []).join('; ') || 'failed'}`);
  for (const u of r.uncovered ?? []) out.push(`${u}: run by no runtime`);
  if (!out.length) out.push(...(manifest.parity?.failures ?? []));
  return out.length ? out : ['the manifest records that parity failed'];
}

function ancestorsOf(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
