/**
 * int8 mixed precision decided per target (src/quantize/target-int8.ts) on a real
 * PyTorch export (insightface's MobileFaceNet, fixtures/families), against its
 * PyTorch references:
 *   - the simulation (the target's dequantized weights in a float32 model on
 *     onnxruntime) predicts the real bundle's min cosine on the target's own
 *     runtime (tfjs wasm; sf2.js on Dawn), with and without kept layers;
 *   - the kept units stay float32 in the written bundle (tfjs: the kernel is a
 *     float32 entry; WebGPU: the layer's weight tensor is f32) and nowhere else;
 *   - a stricter threshold makes the decision keep the fewest worst units that
 *     hold it (bisection), and the real runtime agrees that they do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { Model } from '../../src/ir/model.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { readNpz, toFloat32 } from '../../src/data/npy.js';
import { openTfjsModel } from '../../src/parity/runtimes/tfjs-node.js';
import { optimize } from '../../src/passes/index.js';
import { contractOf } from '../../src/pipeline/export.js';
import { decideTargetInt8 } from '../../src/quantize/target-int8.js';
import { buildTfjsBundle, writeTfjsBundle } from '../../src/targets/tfjs/bundle.js';
import { readFileSync } from 'node:fs';
import { tfjsTarget } from '../../src/targets/tfjs/target.js';
import { webgpuTarget } from '../../src/targets/webgpu/target.js';
import { TFJS_INT8_SCHEME, tfjsInt8Weight } from '../../src/targets/tfjs/int8.js';
import { buildBundle } from '../../src/targets/webgpu/program.js';
import { WEBGPU_INT8_SCHEME, webgpuInt8Weight } from '../../src/targets/webgpu/int8.js';
import { minRowCosine } from '../helpers/ort.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { DawnHarness, dawnUnavailable, writeBundle } from '../targets/webgpu/harness.js';

const ROWS = 8;
const tmp = mkdtempSync(join(tmpdir(), 'sf2-target-int8-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(name = 'mfn_insight'): { model: Model; data: Float32Array; dims: number[]; reference: Float32Array; d: number } {
  const model = loadOnnx(join(FIXTURES, `families/${name}.fixed1.onnx`));
  optimize(model, {}, { log: silentLogger });
  const z = readNpz(join(FIXTURES, `families/${name}.npz`));
  const x = z.get('inputs')!, e = z.get('embeddings')!;
  const rowX = x.shape.slice(1).reduce((a, b) => a * b, 1), d = e.shape[1]!;
  return { model, data: toFloat32(x).slice(0, ROWS * rowX), dims: [ROWS, ...x.shape.slice(1)], reference: toFloat32(e).slice(0, ROWS * d), d };
}

// Weight-only int8 with float32 arithmetic on both sides: the simulation and the runtime
// differ only by summation order (relative ~1e-6 per output), far below the 1e-3 to 1e-2
// that int8 rounding costs, so the min cosines agree to 1e-4.
const AGREE = 1e-4;

describe('tfjs int8 decided for its own kernels', () => {
  test.each([
    ['default thresholds (0.99)', 0.99],
    ['a stricter threshold (0.9985) keeps the worst kernels', 0.9985],
  ])('%s: the simulation predicts tfjs wasm, kept kernels are float32', async (_name, minCosine) => {
    const f = fixture();
    const dec = await decideTargetInt8(f.model, { data: f.data, dims: f.dims, reference: f.reference }, tfjsInt8Weight, { target: 'tfjs', scheme: TFJS_INT8_SCHEME, thresholds: { minCosine, maxFlips: 0 } });
    const d = dec.details;
    expect(d.pass).toBe(true);
    expect(d.result.minCosine).toBeGreaterThanOrEqual(minCosine);
    if (minCosine > 0.99) {
      expect(d.allQuantized.pass).toBe(false);
      expect(dec.keep.size).toBeGreaterThan(0);
      expect(d.higherPrecision.map((h) => h.node).sort()).toEqual([...dec.keep].sort());
    } else expect(dec.keep.size).toBe(0);
    const contract = contractOf(f.model);
    const b = buildTfjsBundle(f.model, contract, 'int8', { keepFloat32: dec.keep });
    const floats = (b.details.kernels ?? []).filter((k) => k.stored === 'float32');
    expect(floats.length).toBe(dec.keep.size);
    const dir = join(tmp, `tfjs-${minCosine}`);
    const p = writeTfjsBundle(dir, b, 'int8');
    const s = await openTfjsModel(join(dir, p.model), 'wasm', contract);
    try {
      const got = await s.run(f.data, ROWS);
      const real = minRowCosine(got, f.reference, f.d);
      expect(Math.abs(real - d.result.minCosine)).toBeLessThan(AGREE);
    } finally {
      await s.close();
    }
  });
});

const why = await dawnUnavailable();
describe.skipIf(!!why)('WebGPU int8 decided for its per-channel scheme', () => {
  test('a stricter threshold (0.9985): kept layers have f32 weights and sf2.js on Dawn matches the simulation', async () => {
    const f = fixture();
    const dec = await decideTargetInt8(f.model, { data: f.data, dims: f.dims, reference: f.reference }, webgpuInt8Weight, { target: 'webgpu', scheme: WEBGPU_INT8_SCHEME, thresholds: { minCosine: 0.9985, maxFlips: 0 } });
    expect(dec.details.allQuantized.pass).toBe(false);
    expect(dec.details.pass).toBe(true);
    expect(dec.keep.size).toBeGreaterThan(0);
    const built = buildBundle(f.model.graph, { precision: 'int8', contract: contractOf(f.model), generatedBy: 'test', keepFloat32: dec.keep });
    const m = built.manifest;
    const f32Layers = m.layers.filter((l) => l.weights.some((t) => m.weights.tensors[t]!.dtype === 'f32' && m.weights.tensors[t]!.name.endsWith('.w')));
    expect(f32Layers.flatMap((l) => l.nodes.filter((n) => dec.keep.has(n))).sort()).toEqual([...dec.keep].sort());
    expect(f32Layers.length).toBe(dec.keep.size);
    // The real bundle (webgpuTarget.write decides with the default thresholds: nothing kept here),
    // so write this decision's bundle through the same harness.
    const h = await DawnHarness.start();
    const w = await writeBundle(f.model, ['fp32']);
    try {
      const { writeFileSync } = await import('node:fs');
      const { stableStringify } = await import('../../src/bundle/stable-json.js');
      writeFileSync(join(w.dir, 'webgpu/fp32/model.json'), stableStringify(m));
      writeFileSync(join(w.dir, 'webgpu/fp32/weights.bin'), built.weights);
      const { id } = await h.load(w.dir, 'fp32');
      const got = await h.embed(id, f.data);
      await h.dispose(id);
      expect(Math.abs(minRowCosine(got, f.reference, f.d) - dec.details.result.minCosine)).toBeLessThan(AGREE);
    } finally {
      w.cleanup();
      await h.close();
    }
  });
});

describe('the targets decide and report with the default thresholds (FaceNet InceptionResnetV1 at 160x160)', () => {
  // All int8 this fixture misses min cosine 0.99 on both targets (0.98933 measured); keeping
  // the stem conv in float32 brings it to 0.99619 (docs/quantization.md).
  test.each([
    ['tfjs', tfjsTarget],
    ['webgpu', webgpuTarget],
  ] as const)('%s: higherPrecision names what stayed float32 and the bundle stores it so', async (name, target) => {
    const f = fixture('facenet160');
    const outDir = join(tmp, `write-${name}`);
    const r = await target.write({ model: f.model, contract: contractOf(f.model), precision: 'int8', outDir, log: silentLogger, options: {}, calibration: { data: f.data, dims: f.dims, embeddings: f.reference, source: 'facenet160.npz' } });
    const d = r.details as unknown as { allQuantized: { pass: boolean }; result: { minCosine: number; pass: boolean }; higherPrecision: { node: string; why: string }[]; scheme: string };
    expect(d.allQuantized.pass).toBe(false);
    expect(d.result.pass).toBe(true);
    expect(d.higherPrecision.length).toBeGreaterThan(0);
    for (const h of d.higherPrecision) expect(h.why).toMatch(new RegExp(`^sensitivity: ${name} int8 alone gives min cosine`));
    const kept = new Set(d.higherPrecision.map((h) => h.node));
    if (name === 'tfjs') {
      const kernels = (r.details as unknown as { kernels: { stored: string; reason?: string }[] }).kernels;
      expect(kernels.filter((k) => k.stored === 'float32').length).toBe(kept.size);
    } else {
      const m = JSON.parse(readFileSync(join(outDir, 'webgpu/int8/model.json'), 'utf8')) as { layers: { nodes: string[]; weights: number[] }[]; weights: { tensors: { dtype: string; name: string }[] } };
      const f32 = m.layers.filter((l) => l.weights.some((t) => m.weights.tensors[t]!.dtype === 'f32' && m.weights.tensors[t]!.name.endsWith('.w')));
      expect(f32.flatMap((l) => l.nodes.filter((x) => kept.has(x))).sort()).toEqual([...kept].sort());
    }
  });
});
