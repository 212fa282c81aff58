/**
 * Parity of the WebGPU bundle on every fixture against its PyTorch references
 * (fixtures/<arch>.npz), in Node (Dawn, the bundle's sf2.js) and in headless
 * Chromium (sf2.js fetching the bundle over loopback), fp32 and fp16:
 *   fp32: min cosine >= 0.99999 (only summation order differs from PyTorch: relative
 *         error ~1e-6, 1 - cos ~ err^2 / 2)
 *   fp16: min cosine >= 0.9995 (weights rounded to 11 significant bits, 2^-12
 *         relative each)
 * The first rows only (4 in Node, 2 in Chromium): SwiftShader runs the GPU on the CPU.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { cloneModel } from '../../../src/ir/clone.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { readNpz, toFloat32 } from '../../../src/data/npy.js';
import { optimize } from '../../../src/passes/index.js';
import { contractOf } from '../../../src/pipeline/export.js';
import type { ModelContract } from '../../../src/analysis/contract.js';
import type { Precision } from '../../../src/ir/precision.js';
import { webgpuTarget } from '../../../src/targets/webgpu/target.js';
import { dawnNodeWebgpu } from '../../../src/parity/runtimes/webgpu-dawn.js';
import { openSf2Page, probeChromiumWebgpu, type ChromiumSession } from '../../../src/parity/runtimes/webgpu-chromium.js';
import type { BundleFile } from '../../../src/targets/target.js';
import { mainFixtures } from '../../helpers/fixtures.js';
import { minRowCosine } from '../../helpers/ort.js';
import { DawnHarness, dawnUnavailable } from './harness.js';

const ROWS = 4;
/** Chromium runs the same rows through a second WebGPU stack; two are enough to catch a broken load. */
const BROWSER_ROWS = 2;
const PRECISIONS: readonly Precision[] = ['fp32', 'fp16'];
const MIN_COS: Record<string, number> = { fp32: 0.99999, fp16: 0.9995 };

interface Case {
  readonly name: string;
  readonly dir: string;
  readonly contract: ModelContract;
  readonly files: BundleFile[];
  readonly x: Float32Array;
  readonly ref: Float32Array;
  readonly dim: number;
}

const fixtures = mainFixtures();
const dawnWhy = await dawnUnavailable();
const chromium = await probeChromiumWebgpu();

describe.skipIf(fixtures.length === 0)('WebGPU bundles of the fixtures', () => {
  const root = mkdtempSync(join(tmpdir(), 'sf2-webgpu-fixtures-'));
  const cases: Case[] = [];

  beforeAll(async () => {
    for (const f of fixtures) {
      const name = basename(f, '.onnx');
      const arch = name.split('.')[0]!;
      const m = cloneModel(loadOnnx(f));
      optimize(m, {}, { log: silentLogger });
      const contract = contractOf(m);
      const dir = join(root, name);
      mkdirSync(dir);
      const files: BundleFile[] = [];
      for (const p of PRECISIONS) {
        webgpuTarget.check(m, p);
        files.push(...(await webgpuTarget.write({ model: m, contract, precision: p, outDir: dir, log: silentLogger, options: {} })).files);
      }
      const npz = readNpz(join(f, '..', `${arch}.npz`));
      const dim = npz.get('embeddings')!.shape[1]!;
      const x = toFloat32(npz.get('inputs')!).slice(0, ROWS * 3 * 112 * 112);
      const ref = toFloat32(npz.get('embeddings')!).slice(0, ROWS * dim);
      cases.push({ name, dir, contract, files, x, ref, dim });
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes byte-identical bundles twice', async () => {
    const c = cases[0]!;
    const again = mkdtempSync(join(tmpdir(), 'sf2-webgpu-again-'));
    try {
      const m = cloneModel(loadOnnx(fixtures[0]!));
      optimize(m, {}, { log: silentLogger });
      for (const p of PRECISIONS) {
        const r = await webgpuTarget.write({ model: m, contract: c.contract, precision: p, outDir: again, log: silentLogger, options: {} });
        for (const f of r.files) expect(readFileSync(join(again, f.path)).equals(readFileSync(join(c.dir, f.path))), f.path).toBe(true);
      }
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  describe.skipIf(!!dawnWhy)('in Node on Dawn', () => {
    let h: DawnHarness;
    beforeAll(async () => {
      h = await DawnHarness.start();
    });
    afterAll(async () => h?.close());

    it.each(fixtures.flatMap((f) => PRECISIONS.map((p) => [basename(f, '.onnx'), p] as const)))('%s %s', async (name, precision) => {
      const c = cases.find((x) => x.name === name)!;
      const { id, info } = await h.load(c.dir, precision);
      const y = await h.embed(id, c.x);
      await h.dispose(id);
      const cos = minRowCosine(y, c.ref, c.dim);
      expect(cos, `${name} ${precision} on ${JSON.stringify(info.adapter)}`).toBeGreaterThanOrEqual(MIN_COS[precision]!);
    });

    it('through the registered parity runtime (dawn-node/webgpu), which records the adapter', async () => {
      // The smallest fixture: this opens a process and a device of its own.
      const c = cases.find((x) => x.name.startsWith('sfnet10.')) ?? cases[0]!;
      const probe = await dawnNodeWebgpu.probe();
      expect(probe.available).toBe(true);
      if (!probe.available) return;
      expect(probe.info.adapter?.vendor).toBeTruthy();
      const file = c.files.find((f) => f.role === 'model' && f.precision === 'fp32')!;
      const s = await dawnNodeWebgpu.open(c.dir, file, c.contract);
      try {
        const y = await s.run(c.x.subarray(0, 2 * 3 * 112 * 112), 2);
        expect(minRowCosine(y, c.ref.subarray(0, 2 * c.dim), c.dim)).toBeGreaterThanOrEqual(MIN_COS.fp32!);
      } finally {
        await s.close();
      }
    });
  });

  describe.skipIf(typeof chromium === 'string')('in headless Chromium', () => {
    // One browser for all bundles: the page loads /bundle/<fixture>/webgpu/<precision>/.
    let s: ChromiumSession;
    beforeAll(async () => {
      s = await openSf2Page(root, `${cases[0]!.name}/webgpu/fp32`, (chromium as Exclude<typeof chromium, string>).args);
    });
    afterAll(async () => s?.close());

    it.each(fixtures.flatMap((f) => PRECISIONS.map((p) => [basename(f, '.onnx'), p] as const)))('%s %s', async (name, precision) => {
      const c = cases.find((x) => x.name === name)!;
      const r = await s.harness.evaluate(({ dir }) => window.sf2wg.load(dir), { dir: `/bundle/${c.name}/webgpu/${precision}/` });
      const rows = BROWSER_ROWS;
      const y = await s.harness.evaluate((x) => window.sf2wg.embed(x), c.x.subarray(0, rows * 3 * 112 * 112));
      const cos = minRowCosine(y, c.ref.subarray(0, rows * c.dim), c.dim);
      expect(cos, `${c.name} ${precision} in Chromium on ${JSON.stringify(r.info.adapter)}`).toBeGreaterThanOrEqual(MIN_COS[precision]!);
    });

    it('embeds ImageBitmaps (texture path) exactly like the same RGBA bytes', async () => {
      await s.harness.evaluate(({ dir }) => window.sf2wg.load(dir), { dir: `/bundle/${cases[0]!.name}/webgpu/fp32/` });
      const px = new Uint8Array(2 * 112 * 112 * 4).map((_, i) => (i * 37 + (i >> 7)) & 255);
      const viaBitmap = await s.harness.evaluate(({ b }) => window.sf2wg.embedImages(b, 2, 'bitmap', { flipTTA: true }), { b: px });
      const viaData = await s.harness.evaluate(({ b }) => window.sf2wg.embedImages(b, 2, 'imagedata', { flipTTA: true }), { b: px });
      const viaBytes = await s.harness.evaluate((b) => window.sf2wg.embed(b, { flipTTA: true }), px);
      expect(Array.from(viaData)).toEqual(Array.from(viaBytes));
      // Texels are byte/255, multiplied back by 255 and rounded on the GPU: the same bytes.
      expect(Array.from(viaBitmap)).toEqual(Array.from(viaBytes));
    });
  });
});
