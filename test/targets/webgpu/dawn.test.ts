/**
 * The WebGPU bundle's own sf2.js on Dawn (Node, the `webgpu` package; on this
 * machine the adapter is Chromium's SwiftShader): the op zoo against
 * onnxruntime-node (CPU, graph optimizations off) in every precision, the input
 * forms, flipTTA and normalization on the GPU, batches split to respect buffer
 * limits, and the documented errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx } from '../../../src/onnx/export.js';
import { flipWidth } from '../../../src/data/references.js';
import { maxAbsDiff, minRowCosine, runOrt, seededFloats } from '../../helpers/ort.js';
import { DawnHarness, dawnUnavailable, writeBundle, type Written } from './harness.js';
import { tinyFace, wide, zoo } from './models.js';

const why = await dawnUnavailable();
if (why) console.warn(`skipping the Dawn tests: ${why}`);

describe.skipIf(!!why)('sf2.js on Dawn', () => {
  let h: DawnHarness;
  let zooBundle: Written;
  let faceBundle: Written;
  const N = 3;
  const zooX = seededFloats(N * 3 * 32 * 32, 21);
  let zooRef: Float32Array;
  const D = 20;

  beforeAll(async () => {
    h = await DawnHarness.start();
    const m = zoo();
    zooBundle = await writeBundle(m, ['fp32', 'fp16', 'int8']);
    const out = await runOrt(encodeOnnx(m), { input: { data: zooX, dims: [N, 3, 32, 32] } });
    zooRef = Object.values(out)[0]!;
    faceBundle = await writeBundle(tinyFace(), ['fp32']);
  });
  afterAll(async () => {
    await h?.close();
    zooBundle?.cleanup();
    faceBundle?.cleanup();
  });

  // Thresholds: fp32 differs from onnxruntime only by summation order (relative ~1e-6
  // over a few thousand terms per output); fp16 weights round to 11 significant bits
  // (relative 2^-12 each, ~2.4e-4), int8 to 8 bits (|w - q s| <= s/2 with s = max|w|/127).
  it.each([
    ['fp32', 0.99999, 1e-4],
    ['fp16', 0.9995, 2e-2],
    ['int8', 0.99, 1e-1],
  ] as const)('runs the op zoo in %s like onnxruntime (min cosine >= %f)', async (precision, minCos, maxDiff) => {
    const { id, info } = await h.load(zooBundle.dir, precision);
    expect(info.variant).toBe(h.features.includes('shader-f16') && precision === 'fp16' ? 'f16' : 'f32');
    const y = await h.embed(id, zooX);
    expect(y.length).toBe(N * D);
    expect(minRowCosine(y, zooRef, D)).toBeGreaterThanOrEqual(minCos);
    expect(maxAbsDiff(y, zooRef)).toBeLessThan(maxDiff);
    await h.dispose(id);
  });

  it('runs every tile shape of the tiled convolution (wide channels, split-K with an epilogue) like onnxruntime', async () => {
    const m = wide();
    const b = await writeBundle(m, ['fp32', 'fp16']);
    try {
      const n = 2;
      const x = seededFloats(n * 3 * 64 * 64, 4);
      const ref = Object.values(await runOrt(encodeOnnx(m), { input: { data: x, dims: [n, 3, 64, 64] } }))[0]!;
      for (const [precision, minCos] of [['fp32', 0.99999], ['fp16', 0.9995]] as const) {
        const { id } = await h.load(b.dir, precision);
        const y = await h.embed(id, x);
        await h.dispose(id);
        // The same bounds as the op zoo: summation order (fp32), weights rounded to 11 bits (fp16).
        expect(minRowCosine(y, ref, 32), precision).toBeGreaterThanOrEqual(minCos);
        if (precision === 'fp32') expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
      }
    } finally {
      b.cleanup();
    }
  });

  it('computes flipTTA and normalization on the GPU, and splits batches and weights under a small binding limit', async () => {
    const { id } = await h.load(zooBundle.dir, 'fp32');
    const plain = await h.embed(id, zooX);
    const flipped = await h.embed(id, flipWidth(zooX, [N, 3, 32, 32]));
    const tta = await h.embed(id, zooX, { flipTTA: true });
    // Each image's result does not depend on the batch around it: f(x) + f(flip x) in f32 both ways.
    expect(maxAbsDiff(tta, plain.map((v, i) => v + flipped[i]!))).toBeLessThanOrEqual(1e-6);
    const unit = await h.embed(id, zooX, { flipTTA: true, normalize: true });
    for (let r = 0; r < N; r++) {
      const row = unit.subarray(r * D, (r + 1) * D);
      const norm = Math.hypot(...row);
      expect(Math.abs(norm - 1)).toBeLessThan(1e-5);
      const t = tta.subarray(r * D, (r + 1) * D);
      const tn = Math.hypot(...t);
      expect(maxAbsDiff(row, t.map((v) => v / tn))).toBeLessThan(1e-6);
    }
    // 150 kB per binding: the zoo's 147 kB conv weight gets a buffer of its own and a
    // batch of 3 runs as 3 passes of 2 network images (1 image + its mirror).
    const small = await h.load(zooBundle.dir, 'fp32', { maxBindingSize: 150_000 });
    expect(small.info.maxBatch).toBe(1);
    expect(maxAbsDiff(await h.embed(small.id, zooX, { flipTTA: true }), tta)).toBe(0);
    expect(maxAbsDiff(await h.embed(small.id, zooX), plain)).toBe(0);
    await h.dispose(small.id);
    await h.dispose(id);
  });

  it('takes RGBA pixels (Uint8Array, ImageData, arrays of ImageData) and normalizes them on the GPU', async () => {
    const n = 2, H = 112, W = 112;
    const px = Uint8Array.from(seededFloats(n * H * W * 4, 5, 0, 256), (v) => Math.floor(v));
    // The contract: x[c] = (pixel[c] - 127.5) / 127.5, RGB, NCHW.
    const x = new Float32Array(n * 3 * H * W);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) x[(i * 3 + c) * H * W + p] = (px[(i * H * W + p) * 4 + c]! - 127.5) / 127.5;
    const { id } = await h.load(faceBundle.dir, 'fp32');
    const fromF32 = await h.embed(id, x);
    const fromBytes = await h.embed(id, px);
    // (p - 127.5) / 127.5 in f32 on the GPU and in f64 then rounded here: equal to 1 ulp.
    expect(maxAbsDiff(fromBytes, fromF32)).toBeLessThan(1e-5);
    const images = [0, 1].map((i) => ({ data: new Uint8ClampedArray(px.subarray(i * H * W * 4, (i + 1) * H * W * 4)), width: W, height: H, colorSpace: 'srgb' }));
    expect(maxAbsDiff(await h.embed(id, images), fromBytes)).toBe(0);
    expect(maxAbsDiff(await h.embed(id, images[1]), fromBytes.subarray(16))).toBe(0);
    const ttaBytes = await h.embed(id, px, { flipTTA: true });
    const ttaF32 = await h.embed(id, x, { flipTTA: true });
    expect(maxAbsDiff(ttaBytes, ttaF32)).toBeLessThan(2e-5);
    await h.dispose(id);
  });

  it('refuses wrong input sizes and types with a clear error', async () => {
    const { id } = await h.load(faceBundle.dir, 'fp32');
    const e1 = await h.embedError(id, new Float32Array(3 * 112 * 111));
    expect(e1).toMatchObject({ name: 'Sf2Error', code: 'input-size' });
    expect(e1!.message).toMatch(/112x112/);
    expect(await h.embedError(id, new Uint8Array(112 * 112 * 3))).toMatchObject({ code: 'input-size' });
    expect(await h.embedError(id, { data: new Uint8ClampedArray(100 * 100 * 4), width: 100, height: 100 })).toMatchObject({ code: 'input-size' });
    expect(await h.embedError(id, 'face.png')).toMatchObject({ code: 'input-type' });
    expect(await h.embed(id, new Float32Array(0))).toHaveLength(0);
    await h.dispose(id);
  });

  it('reports no WebGPU, no adapter, a bundle that does not match, and a lost device', async () => {
    expect(await h.loadError(faceBundle.dir, 'fp32', 'no-navigator')).toMatchObject({ code: 'no-webgpu' });
    expect(await h.loadError(faceBundle.dir, 'fp32', 'no-adapter')).toMatchObject({ code: 'no-adapter' });
    const short = await h.loadError(faceBundle.dir, 'fp32', 'short-weights');
    expect(short).toMatchObject({ code: 'bundle' });
    expect(short!.message).toMatch(/weights\.bin has \d+ bytes, model\.json expects \d+/);
    expect(await h.loadError(faceBundle.dir, 'fp32', 'bad-format')).toMatchObject({ code: 'bundle' });
    // A device of its own (load() asks navigator.gpu), loaded by URL (file: in Node), then lost.
    const { id } = await h.load(faceBundle.dir, 'fp32', { ownDevice: true, url: true });
    expect((await h.embed(id, new Float32Array(3 * 112 * 112))).length).toBe(16);
    await h.destroyDevice(id);
    const lost = await h.embedError(id, new Float32Array(3 * 112 * 112));
    expect(lost).toMatchObject({ code: 'device-lost' });
  });
});
