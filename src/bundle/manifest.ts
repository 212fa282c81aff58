/**
 * manifest.json: what a bundle is, where it came from, what was done to it and
 * the sha256 of every file in it (except manifest.json itself and a detached
 * signature). Keys sorted and files in path order, so the same export gives
 * byte-identical manifests. Schema: docs/manifest.md.
 *
 * Reading one back (pack, parity DIR, verify) goes through `manifestProblems`
 * / `readManifest` here, the only manifest reader: every field a reader uses is
 * checked for presence and type once, so a hand-made or truncated manifest is a
 * one-line error naming the file and the field, never a crash further on.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { PassReport } from '../passes/pass.js';
import type { BundleFile } from './bundle-file.js';
import type { ModelContract } from '../analysis/contract.js';
import { InputError } from '../errors.js';
import { listFiles, sha256FileSync } from './bundle-dir.js';
import { stableStringify } from './stable-json.js';
import { readText } from './text-files.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export const MANIFEST_SCHEMA_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
/** Files never listed in the manifest: itself and detached signatures. */
export const UNLISTED = new Set([MANIFEST_FILE, 'SIGNATURE', 'manifest.sig']);

export interface ManifestFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  /** onnx | tfjs | webgpu, or 'report' for parity reports. */
  readonly target: string;
  readonly precision: string | null;
  readonly role: string;
}

export interface Manifest {
  readonly schemaVersion: number;
  readonly tool: { name: string; version: string };
  /** checkpoint: for a .pth source, what was imported (layout, architecture, the head left out); docs/pth.md. */
  readonly source: { path: string; sha256: string; bytes: number; checkpoint?: Readonly<Record<string, unknown>> };
  readonly model: {
    embeddingDim: number;
    output: string;
    input: ModelContract['input'];
    flipTTA: 'sum';
  };
  readonly head: Readonly<Record<string, unknown>>;
  readonly passes: readonly PassReport[];
  readonly targets: Readonly<Record<string, unknown>>;
  /** unverified: model files no runtime ran (present only when some were, and accepted with --allow-unverified or not). */
  readonly parity: { pass: boolean; report: string | null; failures: string[]; skipped: string[]; unverified?: string[] } | null;
  readonly files: readonly ManifestFile[];
}

export interface ManifestInput {
  readonly source: Manifest['source'];
  readonly contract: ModelContract;
  readonly head: Readonly<Record<string, unknown>>;
  readonly passes: readonly PassReport[];
  readonly targets: Readonly<Record<string, unknown>>;
  readonly bundleFiles: readonly BundleFile[];
  readonly parity: Manifest['parity'];
}

/** Hash every file under `dir` and build the manifest. Files no target claimed are reports or extras. */
export async function buildManifest(dir: string, input: ManifestInput): Promise<Manifest> {
  const claimed = new Map(input.bundleFiles.map((f) => [f.path, f]));
  const files: ManifestFile[] = [];
  for (const path of listFiles(dir)) {
    if (UNLISTED.has(path)) continue;
    const abs = join(dir, path);
    const f = claimed.get(path) ?? claimedByPrefix(input.bundleFiles, path);
    files.push({
      path,
      sha256: sha256FileSync(abs),
      bytes: statSync(abs).size,
      target: f?.target ?? (path.startsWith('parity-report') ? 'report' : 'bundle'),
      precision: f?.precision ?? null,
      role: claimed.get(path)?.role ?? (f ? 'weights' : path.startsWith('parity-report') ? 'report' : 'other'),
    });
  }
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    source: input.source,
    model: { embeddingDim: input.contract.embeddingDim, output: input.contract.output, input: input.contract.input, flipTTA: input.contract.flipTTA },
    head: input.head,
    passes: input.passes,
    targets: input.targets,
    parity: input.parity,
    files,
  };
}

/** A file written beside a claimed one (external data, weight shards) belongs to the same target and precision. */
function claimedByPrefix(files: readonly BundleFile[], path: string): BundleFile | undefined {
  const dir = path.slice(0, path.lastIndexOf('/') + 1);
  return files.find((f) => path.startsWith(f.path + '.') || (dir && f.path.startsWith(dir) && f.path.slice(dir.length).indexOf('/') < 0 && f.role === 'model'));
}

export function manifestJson(m: Manifest): string {
  return stableStringify(m);
}

type Check = (v: unknown) => string | undefined;
const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => (typeof v === 'string' ? undefined : 'a string');
const num: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'a number');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const obj: Check = (v) => (isObj(v) ? undefined : 'an object');
const arr: Check = (v) => (Array.isArray(v) ? undefined : 'an array');
const strOrNull: Check = (v) => (v === null || typeof v === 'string' ? undefined : 'a string or null');
const arrayOf = (each: Check, what: string): Check => (v) => (Array.isArray(v) && v.every((x) => each(x) === undefined) ? undefined : `an array of ${what}`);
const dim: Check = (v) => (v === null || typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? undefined : 'a dim');

/**
 * What is wrong with the shape of a parsed manifest.json, as "field: expected X,
 * got Y" lines (empty when every field the readers use is there with its type).
 * Only the shape: whether the files and reports hold is `verify`'s business.
 */
export function manifestProblems(m: unknown): string[] {
  if (!isObj(m)) return [`expected a JSON object, got ${typeName(m)}`];
  const out: string[] = [];
  const at = (o: Record<string, unknown>, prefix: string, fields: Record<string, Check>): void => {
    for (const [k, check] of Object.entries(fields)) {
      const field = `${prefix}${k}`;
      if (!(k in o) || o[k] === undefined) out.push(`${field}: missing`);
      else {
        const want = check(o[k]);
        if (want) out.push(`${field}: expected ${want}, got ${typeName(o[k])}`);
      }
    }
  };
  at(m, '', { schemaVersion: num, tool: obj, source: obj, model: obj, head: obj, passes: arr, targets: obj, files: arr });
  if (!('parity' in m)) out.push('parity: missing');
  else if (m.parity !== null) {
    if (!isObj(m.parity)) out.push(`parity: expected an object or null, got ${typeName(m.parity)}`);
    else at(m.parity, 'parity.', { pass: bool, report: strOrNull, failures: arrayOf(str, 'strings'), skipped: arrayOf(str, 'strings') });
  }
  if (isObj(m.tool)) at(m.tool, 'tool.', { name: str, version: str });
  if (isObj(m.source)) at(m.source, 'source.', { path: str, sha256: str, bytes: num });
  if (isObj(m.model)) {
    at(m.model, 'model.', { embeddingDim: num, output: str, input: obj, flipTTA: str });
    if (isObj(m.model.input)) at(m.model.input, 'model.input.', { name: str, shape: arrayOf(dim, 'dims (integers, names or null)'), layout: str, colorOrder: str, mean: arrayOf(num, 'numbers'), std: arrayOf(num, 'numbers') });
  }
  if (Array.isArray(m.passes)) {
    m.passes.forEach((p, i) => {
      if (!isObj(p)) out.push(`passes[${i}]: expected an object, got ${typeName(p)}`);
      else at(p, `passes[${i}].`, { pass: str, counts: obj, skipped: arr });
    });
  }
  if (Array.isArray(m.files)) {
    m.files.forEach((f, i) => {
      if (!isObj(f)) out.push(`files[${i}]: expected an object, got ${typeName(f)}`);
      else at(f, `files[${i}].`, { path: str, sha256: str, bytes: num, target: str, precision: strOrNull, role: str });
    });
  }
  return out;
}

/** Parse manifest.json's text: the manifest, or InputError (exit 3) naming `where` and the first field that is wrong. */
export function parseManifest(text: string, where: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new InputError('bundle', `${where}: not valid JSON (${(e as Error).message})`, 'restore the manifest sf2-export wrote, or re-export the bundle');
  }
  const problems = manifestProblems(m);
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new InputError('bundle', `${where}: ${problems[0]}${more}`, 'not a manifest sf2-export wrote (hand-made or edited?): restore it or re-export the bundle');
  }
  return m as Manifest;
}

/** Read and check DIR/manifest.json (InputError, exit 3, when it is missing, not JSON or not the shape sf2-export writes). */
export function readManifest(dir: string): Manifest {
  const p = join(dir, MANIFEST_FILE);
  return parseManifest(readText(p, 'bundle', 'pass a bundle folder written by sf2-export', { missing: true }), p);
}
