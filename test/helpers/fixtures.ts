/** The committed fixtures (fixtures/README.md): models, their meta.json and references. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures');

export interface FixtureMeta {
  readonly [key: string]: unknown;
}

/** fixtures/*.onnx (the main models), sorted. */
export function mainFixtures(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(FIXTURES, f));
}

/** fixtures/variants/*.onnx, sorted. */
export function variantFixtures(): string[] {
  const dir = join(FIXTURES, 'variants');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(dir, f));
}

export function metaOf(onnxPath: string): FixtureMeta | undefined {
  const p = onnxPath.replace(/\.onnx$/, '.meta.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as FixtureMeta) : undefined;
}

/** fixtures/<arch>.npz for fixtures/<arch>.<mode>.onnx. */
export function referenceOf(onnxPath: string): string | undefined {
  const base = onnxPath.replace(/\.[^./]+\.onnx$/, '.npz');
  return existsSync(base) ? base : undefined;
}
