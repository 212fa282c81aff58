/**
 * manifest.json: what a bundle is, where it came from, what was done to it and
 * the sha256 of every file in it (except manifest.json itself and a detached
 * signature). Keys sorted and files in path order, so the same export gives
 * byte-identical manifests. Schema: docs/manifest.md.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { PassReport } from '../passes/pass.js';
import type { BundleFile } from '../targets/target.js';
import type { ModelContract } from './contract.js';
import { listFiles, sha256FileSync } from './bundle-dir.js';
import { stableStringify } from './stable-json.js';
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
