/**
 * Building an ONNX bundle by hand for parity tests, independent of the passes
 * under development: the original model cut at its embedding (nothing else
 * changed), output renamed to `embedding`, saved as DIR/onnx/model.fp32.onnx.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../src/onnx/import.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { saveOnnx } from '../../src/onnx/export.js';
import { cutAtEmbedding } from '../../src/data/references.js';
import { SPHEREFACE2_MEAN, SPHEREFACE2_STD, type ModelContract } from '../../src/analysis/contract.js';
import { buildManifest, MANIFEST_FILE, type Manifest } from '../../src/bundle/manifest.js';
import { sealManifest } from '../../src/verify/verify.js';
import type { BundleFile } from '../../src/targets/target.js';

export const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;
export const SFNET10 = join(FIXTURES, 'sfnet10.eval.onnx');
export const SFNET10_NPZ = join(FIXTURES, 'sfnet10.npz');

export interface HandBundle {
  readonly dir: string;
  readonly files: BundleFile[];
  readonly contract: ModelContract;
}

export function buildOnnxBundle(modelPath: string, dir: string, embedding?: string): HandBundle {
  const m = loadOnnx(modelPath);
  cutAtEmbedding(m, embedding);
  const g = m.graph;
  inferShapes(g);
  const out = g.outputs[0]!;
  g.rename(out, 'embedding');
  const d = out.shape?.[1];
  const input = g.realInputs()[0]!;
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  saveOnnx(m, join(dir, 'onnx/model.fp32.onnx'));
  const contract: ModelContract = {
    embeddingDim: typeof d === 'number' ? d : 0,
    output: 'embedding',
    input: { name: input.name, shape: input.shape ?? ['N', 3, 112, 112], layout: 'NCHW', colorOrder: 'RGB', mean: [...SPHEREFACE2_MEAN], std: [...SPHEREFACE2_STD] },
    flipTTA: 'sum',
  };
  return { dir, files: [{ path: 'onnx/model.fp32.onnx', target: 'onnx', precision: 'fp32', role: 'model' }], contract };
}

/** Write manifest.json over everything now in the bundle (as the pipeline does last), sealed with its integrity digest. */
export async function writeManifest(b: HandBundle, source: string, parity: Manifest['parity'] = null): Promise<void> {
  const manifest = await buildManifest(b.dir, {
    source: { path: source.split('/').pop()!, sha256: createHash('sha256').update(readFileSync(source)).digest('hex'), bytes: statSync(source).size },
    contract: b.contract,
    head: {},
    passes: [],
    targets: {},
    bundleFiles: b.files,
    parity,
  });
  writeFileSync(join(b.dir, MANIFEST_FILE), sealManifest(manifest));
}
