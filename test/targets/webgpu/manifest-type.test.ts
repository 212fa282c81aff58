/**
 * One model.json type: program.ts's WebGpuManifest (what the exporter writes) and
 * the shipped runtime/sf2.d.ts's Sf2Manifest (what a bundle's users compile
 * against) must describe the same fields. sf2.d.ts is copied into every WebGPU
 * bundle, so it is checked, not generated: its bytes stay.
 *
 * The check is at compile time (`npx tsc -p tsconfig.json --noEmit` covers test/):
 *   - every field sf2.d.ts declares exists in WebGpuManifest with the same type,
 *     except the two places where the declaration is deliberately wider
 *     (weights.file: string, weights.tensors: readonly unknown[]);
 *   - every field of WebGpuManifest that sf2.d.ts leaves to its index signature
 *     is listed in UNDECLARED, so a new manifest field is a decision here.
 * Editing either file alone makes one of the `Expect<Equal<...>>` lines below a
 * type error. The test body checks the same key split on a real manifest.
 */
import { describe, expect, it } from 'vitest';
import { contractOf } from '../../../src/pipeline/export.js';
import { buildBundle, type WebGpuManifest } from '../../../src/targets/webgpu/program.js';
import type { Sf2Manifest } from '../../../src/targets/webgpu/runtime/sf2.js';
import { tinyFace } from './models.js';

/** Exact type equality (distinguishes readonly, optional and literal types). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
/** Flattens intersections, so two spellings of one object type compare equal. */
type Norm<T> = T extends readonly (infer E)[] ? readonly Norm<E>[] : T extends object ? { [K in keyof T]: Norm<T[K]> } : T;
/** The declared fields of a type with a string index signature. */
type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

type Declared = Known<Sf2Manifest>;
type Emitted = Pick<WebGpuManifest, keyof Declared & keyof WebGpuManifest>;
/** What sf2.d.ts declares for the emitted fields: weights.file and weights.tensors widened. */
type AsShipped = Omit<Emitted, 'weights'> & {
  readonly weights: Omit<WebGpuManifest['weights'], 'file' | 'tensors'> & { readonly file: string; readonly tensors: readonly unknown[] };
};

const UNDECLARED = ['generatedBy', 'slots', 'values', 'layers', 'steps', 'io', 'variants'] as const;

export type ManifestTypeChecks = [
  Expect<Equal<keyof Declared, keyof Emitted>>,
  Expect<Equal<Norm<Declared>, Norm<AsShipped>>>,
  Expect<Equal<Exclude<keyof WebGpuManifest, keyof Declared>, (typeof UNDECLARED)[number]>>,
];

describe('model.json type', () => {
  it('a written manifest has the declared fields plus exactly the undeclared ones', () => {
    const m = tinyFace();
    const { manifest } = buildBundle(m.graph, { precision: 'fp32', contract: contractOf(m), generatedBy: 'test' });
    const declared: readonly (keyof Declared)[] = ['format', 'version', 'precision', 'input', 'output', 'flipTTA', 'weights'];
    expect(Object.keys(manifest).sort()).toEqual([...declared, ...UNDECLARED].sort());
    // The shipped declaration's value types hold for the written object (a spread: an
    // interface has no implicit index signature).
    const shipped: Sf2Manifest = { ...manifest };
    expect(shipped.weights.file).toBe('weights.bin');
    expect(shipped.input.layout).toBe('NCHW');
  });
});
