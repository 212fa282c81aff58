/**
 * Every fixture through the real pipeline input (optimize: head stripped, BN
 * folded), written as a tfjs bundle in each precision, loaded with nothing but
 * the published tfjs packages through a plain file IOHandler written here,
 * and compared with the PyTorch reference embeddings on the cpu and wasm
 * backends.
 *
 * Thresholds (min cosine over the reference rows):
 *   fp32 >= 0.99999  the same float32 math in another order: measured ~1 - 1e-12
 *   fp16 >= 0.9995   kernels rounded to float16 (relative error <= 2^-11 each)
 *   int8 >= 0.99     kernels on 255 levels
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { silentLogger } from '../../../src/log.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { optimize } from '../../../src/passes/index.js';
import { buildTfjsBundle, writeTfjsBundle } from '../../../src/targets/tfjs/bundle.js';
import type { Precision } from '../../../src/ir/precision.js';
import { archOf, contractFor, fixtureModels, FIXTURES, minCosine, reference } from './helpers.js';

const THRESHOLD: Record<Precision, number> = { fp32: 0.99999, fp16: 0.9995, int8: 0.99 };
/** cpu (plain JS) is ~30x slower than wasm: it runs the first rows only; wasm runs them all. */
const CPU_ROWS = 8;

/** What any user would write to load a bundle from disk in Node. */
function fileIOHandler(modelJson: string): tf.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(readFileSync(modelJson, 'utf8'));
      const buffers = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dirname(modelJson), p))));
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

async function embed(modelJson: string, backend: 'cpu' | 'wasm', inputs: Float32Array, n: number): Promise<Float32Array> {
  expect(await tf.setBackend(backend)).toBe(true);
  const model = await loadGraphModel(fileIOHandler(modelJson));
  const key = Object.keys((model.modelSignature as { inputs: Record<string, unknown> }).inputs)[0]!;
  const y = model.execute({ [key]: tf.tensor4d(inputs.subarray(0, n * 3 * 112 * 112), [n, 3, 112, 112]) }) as tf.Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose(y);
  model.dispose();
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'sf2-tfjs-fixtures-'));
beforeAll(() => {
  setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  tf.env().set('PROD', true);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(fixtureModels())('%s', (file) => {
  const model = loadOnnx(join(FIXTURES, file));
  optimize(model, {}, { log: silentLogger });
  const contract = contractFor(model);
  const ref = reference(archOf(file));

  test.each(['fp32', 'fp16', 'int8'] as const)('%s on cpu and wasm matches PyTorch', async (precision) => {
    const bundle = buildTfjsBundle(model, contract, precision);
    const dir = join(tmp, file, precision);
    const paths = writeTfjsBundle(dir, bundle, precision);
    // NHWC throughout: the one Transpose is where the NCHW input meets the network.
    expect(bundle.details.layoutTransposes).toBe(1);
    expect(bundle.details.tfOps.Transpose).toBe(1);
    expect(bundle.details.tfOps.FusedBatchNormV3).toBeUndefined();
    expect(bundle.modelJson).not.toContain(Buffer.from('NCHW').toString('base64'));
    for (const s of bundle.shards) expect(s.bytes.byteLength).toBeLessThanOrEqual(4 * 1024 * 1024);

    const wasm = await embed(join(dir, paths.model), 'wasm', ref.inputs, ref.n);
    const cpu = await embed(join(dir, paths.model), 'cpu', ref.inputs, CPU_ROWS);
    const cosWasm = minCosine(wasm, ref.embeddings, ref.n, ref.d);
    const cosCpu = minCosine(cpu, ref.embeddings, CPU_ROWS, ref.d);
    console.log(`${file} ${precision}: min cosine wasm ${cosWasm.toFixed(9)} (${ref.n} rows), cpu ${cosCpu.toFixed(9)} (${CPU_ROWS} rows); ${JSON.stringify(bundle.details.kernelsStored)}`);
    expect(cosWasm).toBeGreaterThanOrEqual(THRESHOLD[precision]);
    expect(cosCpu).toBeGreaterThanOrEqual(THRESHOLD[precision]);
  });
});
