/**
 * Shared helpers for the tfjs target tests: the headless model (a local
 * stand-in for the optimizer until its passes are used here: cut at
 * findHead().embedding, bypass Identity of initializers, clean up, infer shapes; BatchNormalization stays
 * unfolded, which exercises the target's own Mul/Add path), references, and
 * cosine metrics.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findHead } from '../../../src/analysis/head.js';
import { inferShapes } from '../../../src/ir/shape-infer.js';
import type { Model } from '../../../src/ir/model.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { readNpz, toFloat32 } from '../../../src/data/npy.js';
import { contractOf } from '../../../src/pipeline/export.js';
import type { ModelContract } from '../../../src/analysis/contract.js';

export const FIXTURES = join(import.meta.dirname, '../../../fixtures');

/** fixtures/*.onnx (top level: the reference exports with an .npz). */
export function fixtureModels(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort();
}

/** "sfnet10bn.eval.onnx" -> "sfnet10bn". */
export function archOf(file: string): string {
  return file.split('.')[0]!;
}

export function headless(path: string): Model {
  const m = loadOnnx(path);
  const g = m.graph;
  const head = findHead(g);
  if (head.embedding) {
    const e = g.requireValue(head.embedding);
    g.outputs = [e];
  }
  // torch exports shared (deduplicated) initializers through Identity nodes.
  for (const n of [...g.nodes]) if (n.op === 'Identity' && n.inputs[0]?.const) g.bypass(n, n.inputs[0]);
  g.cleanup();
  for (const v of g.realInputs()) if (!g.nodes.some((n) => n.inputs.includes(v))) g.inputs.splice(g.inputs.indexOf(v), 1);
  inferShapes(g);
  return m;
}

export function contractFor(m: Model): ModelContract {
  return contractOf(m);
}

export interface Reference {
  readonly inputs: Float32Array;
  readonly n: number;
  readonly embeddings: Float32Array;
  readonly d: number;
}

export function reference(arch: string): Reference {
  const z = readNpz(join(FIXTURES, `${arch}.npz`));
  const inputs = z.get('inputs')!, emb = z.get('embeddings')!;
  return { inputs: toFloat32(inputs), n: inputs.shape[0]!, embeddings: toFloat32(emb), d: emb.shape[1]! };
}

/** Cosine similarity of each row pair, in float64. */
export function rowCosines(a: ArrayLike<number>, b: ArrayLike<number>, n: number, d: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = 0; j < d; j++) {
      const x = a[r * d + j]!, y = b[r * d + j]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    out.push(ab / Math.sqrt(aa * bb));
  }
  return out;
}

export function minCosine(a: ArrayLike<number>, b: ArrayLike<number>, n: number, d: number): number {
  return Math.min(...rowCosines(a, b, n, d));
}
