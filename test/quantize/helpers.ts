/**
 * Test helpers: fixtures, their references, and the optimized float32 model
 * the targets receive.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadOnnx } from '../../src/onnx/import.js';
import { findHead } from '../../src/analysis/head.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import type { Model } from '../../src/ir/model.js';
import { readNpz, toFloat32 } from '../../src/data/npy.js';
import type { Pairs } from '../../src/quantize/metric.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures');

export interface Reference {
  readonly inputs: Float32Array;
  readonly inputDims: readonly number[];
  readonly embeddings: Float32Array;
  readonly dim: number;
  readonly pairs: Pairs;
}

/** fixtures/<arch>.eval.onnx with fixtures/<arch>.npz, for each arch present. */
export function fixtureArchs(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.eval.onnx'))
    .map((f) => f.slice(0, -'.eval.onnx'.length))
    .filter((a) => existsSync(join(FIXTURES, `${a}.npz`)))
    .sort();
}

/**
 * Every model with references: fixtures/<arch>.<mode>.onnx (eval and preserve)
 * and fixtures/variants/<arch>.<variant>.onnx, each with its <arch>.npz.
 */
export function fixtureModels(): { name: string; path: string; npz: string; variant: boolean }[] {
  const out: { name: string; path: string; npz: string; variant: boolean }[] = [];
  for (const [dir, variant] of [[FIXTURES, false], [join(FIXTURES, 'variants'), true]] as const) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.onnx')).sort()) {
      const npz = join(dir, `${f.split('.')[0]}.npz`);
      if (existsSync(npz)) out.push({ name: `${variant ? 'variants/' : ''}${f}`, path: join(dir, f), npz, variant });
    }
  }
  return out;
}

export function loadReference(arch: string): Reference {
  const path = arch.endsWith('.npz') ? arch : join(FIXTURES, `${arch}.npz`);
  const z = readNpz(path);
  // An npz with embeddings only takes its inputs (and pairs) from the npz its meta names
  // (variants/resbn4.npz: "inputsFrom": "variants/sfnet4.npz").
  const from = z.has('inputs') ? z : readNpz(join(FIXTURES, inputsFrom(path)));
  const inputs = from.get('inputs')!, emb = z.get('embeddings')!, pairs = from.get('pairs')!, issame = from.get('issame')!;
  return {
    inputs: toFloat32(inputs),
    inputDims: inputs.shape,
    embeddings: toFloat32(emb),
    dim: emb.shape[1]!,
    pairs: { pairs: Int32Array.from(toFloat32(pairs)), issame: Uint8Array.from(toFloat32(issame), (x) => (x ? 1 : 0)) },
  };
}

/**
 * The optimized float32 model the targets get. Until src/passes lands in
 * full this is the minimal stand-in: cut at the embedding, clean up, shapes.
 */
export async function optimizedModel(path: string): Promise<Model> {
  const m = loadOnnx(path);
  const passes = await import('../../src/passes/index.js').catch(() => null);
  if (passes && typeof passes.optimize === 'function') {
    const { silentLogger } = await import('../../src/log.js');
    passes.optimize(m, {}, { log: silentLogger });
    return m;
  }
  const head = findHead(m.graph);
  if (!head.embedding) throw new Error(`no embedding in ${path}: ${head.reason}`);
  const e = m.graph.requireValue(head.embedding);
  m.graph.outputs = [e];
  m.graph.inputs = m.graph.inputs.filter((v) => !head.headInputs.includes(v.name));
  m.graph.cleanup();
  inferShapes(m.graph);
  return m;
}

function inputsFrom(npz: string): string {
  const dir = dirname(npz);
  const arch = basename(npz, '.npz');
  for (const f of readdirSync(dir).filter((x) => x.startsWith(`${arch}.`) && x.endsWith('.meta.json'))) {
    const meta = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { reference?: { inputsFrom?: string } };
    if (meta.reference?.inputsFrom) return meta.reference.inputsFrom;
  }
  throw new Error(`${npz} has no inputs and no meta.json naming where they are`);
}
