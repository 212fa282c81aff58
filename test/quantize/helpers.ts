/**
 * Test helpers: fixtures, their references, and the optimized float32 model
 * the targets receive.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../src/onnx/import.js';
import { findHead } from '../../src/analysis/head.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import type { Model } from '../../src/ir/model.js';
import { readNpz, toFloat32 } from '../../src/parity/npy.js';
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

export function loadReference(arch: string): Reference {
  const z = readNpz(join(FIXTURES, `${arch}.npz`));
  const inputs = z.get('inputs')!, emb = z.get('embeddings')!, pairs = z.get('pairs')!, issame = z.get('issame')!;
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
    const { silentLogger } = await import('../../src/cli/log.js');
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
