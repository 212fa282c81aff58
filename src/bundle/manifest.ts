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
import type { PassReport, StripHeadDetails } from '../passes/pass.js';
import { PRECISIONS, type Precision } from '../ir/precision.js';
import { TARGET_NAMES, type BundleFile, type TargetName } from './bundle-file.js';
import type { GoldenSetDetails } from './golden-set.js';
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

/** manifest.head: what strip-head cut (its details, ../passes/pass.ts); empty when it did not run. */
export type ManifestHead = Partial<StripHeadDetails>;

/** manifest.source.checkpoint: what a .pth source was imported as (written by ../pth/import.ts checkpointSource; docs/pth.md). */
export interface ManifestCheckpoint {
  /** The architecture the graph was built as: family, name (e.g. "iresnet18"), depths, widths, block, forced by --arch. */
  readonly arch?: { readonly family: string; readonly name: string; readonly depths: readonly number[]; readonly widths: readonly number[]; readonly block: string; readonly forced: boolean };
  /** The rest of what the importer recorded (layout, parameters, the head left out, ...). */
  readonly [fact: string]: unknown;
}

/** A key of manifest.targets: "<target>/<precision>", one per bundle written. */
export type ManifestTargetKey = `${TargetName}/${Precision}`;

/**
 * manifest.targets["<target>/<precision>"]: the writer's details. Each target
 * adds its own facts (what stayed in higher precision and why, tfjs op counts,
 * the WebGPU kernel plan: src/targets/<target>/target.ts); what every target
 * writes, and what a reader may use, is typed here.
 */
export interface ManifestTargetDetails {
  /** The bundle's golden set (./golden-set.ts); absent when none was written. */
  readonly goldenSet?: GoldenSetDetails;
}

export type ManifestTargets = Readonly<Partial<Record<ManifestTargetKey, ManifestTargetDetails>>>;

export interface Manifest {
  readonly schemaVersion: number;
  readonly tool: { name: string; version: string };
  /** checkpoint: for a .pth source, what was imported (layout, architecture, the head left out); docs/pth.md. */
  readonly source: { path: string; sha256: string; bytes: number; checkpoint?: ManifestCheckpoint };
  readonly model: {
    embeddingDim: number;
    output: string;
    input: ModelContract['input'];
    flipTTA: 'sum';
  };
  readonly head: ManifestHead;
  readonly passes: readonly PassReport[];
  readonly targets: ManifestTargets;
  /** unverified: model files no runtime ran (present only when some were, and accepted with --allow-unverified or not). */
  readonly parity: { pass: boolean; report: string | null; failures: string[]; skipped: string[]; unverified?: string[] } | null;
  readonly files: readonly ManifestFile[];
  /**
   * The seal (./seal.ts), on a manifest read back from a bundle; never built
   * here. Not shape-checked: verify says what is wrong with a missing or bad one.
   */
  readonly integrity?: unknown;
}

export interface ManifestInput {
  readonly source: Manifest['source'];
  readonly contract: ModelContract;
  readonly head: ManifestHead;
  readonly passes: readonly PassReport[];
  readonly targets: ManifestTargets;
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
const numOrNull: Check = (v) => (v === null || num(v) === undefined ? undefined : 'a number or null');
const oneOf = (...values: readonly (string | null)[]): Check => (v) => (values.some((x) => x === v) ? undefined : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
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
  /** Each field of `fields` in `o` has its type; a missing one is a problem unless `optional`. */
  const at = (o: Record<string, unknown>, prefix: string, fields: Record<string, Check>, optional = false): void => {
    for (const [k, check] of Object.entries(fields)) {
      const field = `${prefix}${k}`;
      if (!(k in o) || o[k] === undefined) {
        if (!optional) out.push(`${field}: missing`);
      } else {
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
  if (isObj(m.source)) {
    at(m.source, 'source.', { path: str, sha256: str, bytes: num });
    at(m.source, 'source.', { checkpoint: obj }, true);
    const arch = isObj(m.source.checkpoint) ? m.source.checkpoint.arch : undefined;
    if (isObj(m.source.checkpoint)) at(m.source.checkpoint, 'source.checkpoint.', { arch: obj }, true);
    if (isObj(arch)) at(arch, 'source.checkpoint.arch.', { family: str, name: str, depths: arrayOf(num, 'numbers'), widths: arrayOf(num, 'numbers'), block: str, forced: bool });
  }
  // head: strip-head's details (every field optional: a head-free model or a hand-made bundle records fewer).
  if (isObj(m.head)) {
    at(m.head, 'head.', {
      reason: oneOf('head removed', 'no head'), kind: oneOf('sphereface2', 'cosine', 'linear', null), description: str, embeddingTensor: str,
      featureDim: numOrNull, classes: numOrNull, bytesRemoved: num, nodesRemoved: num, weight: strOrNull, weightLayout: oneOf('DxC', 'CxD', null),
      normalization: strOrNull, inputsRemoved: arrayOf(str, 'strings'), outputsRemoved: arrayOf(str, 'strings'), classifierWarning: str,
    }, true);
  }
  if (isObj(m.targets)) {
    for (const [k, t] of Object.entries(m.targets)) {
      const [target, precision, ...rest] = k.split('/');
      if (rest.length || !TARGET_NAMES.some((x) => x === target) || !PRECISIONS.some((x) => x === precision)) out.push(`targets.${k}: not a "<target>/<precision>" key (${TARGET_NAMES.join(', ')} / ${PRECISIONS.join(', ')})`);
      if (!isObj(t)) out.push(`targets.${k}: expected an object, got ${typeName(t)}`);
      else {
        at(t, `targets.${k}.`, { goldenSet: obj }, true);
        if (isObj(t.goldenSet)) at(t.goldenSet, `targets.${k}.goldenSet.`, { path: str, bytes: num, rows: num, inputEncoding: oneOf('u8', 'f16', 'f32'), minCosine: num, reference: str });
      }
    }
  }
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

/** A parsed manifest.json, checked: the typed manifest when its shape holds (no problems), else the problems. */
export function checkManifest(m: unknown): { readonly manifest: Manifest | undefined; readonly problems: readonly string[] } {
  const problems = manifestProblems(m);
  // The one place that trusts the type: every field declared above was checked just now.
  return { manifest: problems.length ? undefined : (m as Manifest), problems };
}

/** Parse manifest.json's text: the manifest, or InputError (exit 3) naming `where` and the first field that is wrong. */
export function parseManifest(text: string, where: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new InputError('bundle', `${where}: not valid JSON (${(e as Error).message})`, 'restore the manifest sf2-export wrote, or re-export the bundle');
  }
  const { manifest, problems } = checkManifest(m);
  if (!manifest) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new InputError('bundle', `${where}: ${problems[0]}${more}`, 'not a manifest sf2-export wrote (hand-made or edited?): restore it or re-export the bundle');
  }
  return manifest;
}

/** Read and check DIR/manifest.json (InputError, exit 3, when it is missing, not JSON or not the shape sf2-export writes). */
export function readManifest(dir: string): Manifest {
  const p = join(dir, MANIFEST_FILE);
  return parseManifest(readText(p, 'bundle', 'pass a bundle folder written by sf2-export', { missing: true }), p);
}

/** The tensor the export cut the graph at (head.embeddingTensor, before it was renamed "embedding"), when recorded. */
export function embeddingTensorOf(m: Manifest): string | undefined {
  return m.head.embeddingTensor || undefined;
}

/** The architecture a .pth source was built as (source.checkpoint.arch.name); nothing records one for an ONNX source. */
export function architectureOf(m: Manifest): string | undefined {
  return m.source.checkpoint?.arch?.name;
}
