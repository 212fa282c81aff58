/**
 * The face-model families of fixtures/families (real PyTorch exports: insightface's
 * MobileFaceNet with groups=64 convs, its depthwise form, squeeze-excite at 80x80,
 * FaceNet InceptionResnetV1 at 160x160, GhostFaceNetV2, an NHWC-input wrapper,
 * opensphere's 2023 sfnet) through the tfjs and WebGPU targets in fp32, against
 * their PyTorch references: tfjs on the wasm backend (all rows), the WebGPU bundle's
 * sf2.js on Dawn (2 rows: SwiftShader is slow). Every op these need is a row of
 * both op tables (docs/targets.md).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { Model } from '../../src/ir/model.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { readNpz, toFloat32 } from '../../src/data/npy.js';
import { openTfjsModel } from '../../src/parity/runtimes/tfjs-node.js';
import { optimize } from '../../src/passes/index.js';
import { contractOf } from '../../src/pipeline/export.js';
import { buildTfjsBundle, writeTfjsBundle } from '../../src/targets/tfjs/bundle.js';
import { minRowCosine } from '../helpers/ort.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { DawnHarness, dawnUnavailable, writeBundle } from './webgpu/harness.js';

const FAMILIES = ['mfn_insight', 'mfn_dw', 'se80', 'facenet160', 'ghostv2', 'nhwc', 'sfnet2023'].filter((f) => existsSync(join(FIXTURES, 'families', `${f}.onnx`)));
const tmp = mkdtempSync(join(tmpdir(), 'sf2-families-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(f: string): { model: Model; x: Float32Array; dims: number[]; ref: Float32Array; d: number } {
  const model = loadOnnx(join(FIXTURES, 'families', `${f}.onnx`));
  optimize(model, {}, { log: silentLogger });
  const z = readNpz(join(FIXTURES, 'families', `${f}.npz`));
  const x = z.get('inputs')!, e = z.get('embeddings')!;
  return { model, x: toFloat32(x), dims: [...x.shape], ref: toFloat32(e), d: e.shape[1]! };
}

// float32 in another summation order than PyTorch: 1 - 1e-9 is far above rounding
// (measured 1e-11 to 1e-12) and far below any wrong op (a wrong index or mode costs > 1e-2).
const FP32_MIN_COSINE = 1 - 1e-9;

describe('families on tfjs (wasm), fp32, against PyTorch', () => {
  test.each(FAMILIES)('%s', async (f) => {
    const { model, x, dims, ref, d } = load(f);
    const contract = contractOf(model);
    const b = buildTfjsBundle(model, contract, 'fp32');
    const p = writeTfjsBundle(join(tmp, f), b, 'fp32');
    const s = await openTfjsModel(join(tmp, f, p.model), 'wasm', contract);
    try {
      const got = await s.run(x, dims[0]!);
      expect(minRowCosine(got, ref, d)).toBeGreaterThanOrEqual(FP32_MIN_COSINE);
    } finally {
      await s.close();
    }
  });
});

const why = await dawnUnavailable();
describe.skipIf(!!why)('families on WebGPU (sf2.js on Dawn), fp32, against PyTorch', () => {
  let h: DawnHarness;
  beforeAll(async () => {
    h = await DawnHarness.start();
  });
  afterAll(async () => h?.close());
  test.each(FAMILIES)('%s', async (f) => {
    const { model, x, dims, ref, d } = load(f);
    const rows = 2, per = x.length / dims[0]!;
    const w = await writeBundle(model, ['fp32']);
    try {
      const { id } = await h.load(w.dir, 'fp32');
      const got = await h.embed(id, x.subarray(0, rows * per));
      await h.dispose(id);
      expect(minRowCosine(got, ref.subarray(0, rows * d), d)).toBeGreaterThanOrEqual(FP32_MIN_COSINE);
    } finally {
      w.cleanup();
    }
  });
});
