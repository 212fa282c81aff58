/**
 * The demo page end to end, as a user gets it: export a real fixture with
 * --target webgpu (fp32 and fp16), `serve` it, open the FIRST URL serve prints
 * (it used to 404), choose two faces in headless Chromium through Playwright,
 * press Compare and read the cosine; it must equal the cosine of the same two
 * faces embedded by onnxruntime-node from the bundle's onnx/model.fp32.onnx.
 * Then switch the precision: the chosen faces stay (they were blanked while
 * Compare stayed enabled and reported 1.0000 for two empty canvases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as ort from 'onnxruntime-node';
import { startServe, type Serving } from '../../src/cli/serve.js';
import { BrowserHarness } from '../../src/parity/browser/index.js';
import { probeChromiumWebgpu } from '../../src/parity/runtimes/webgpu-chromium.js';
import { readNpz } from '../../src/data/npy.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';

const MODEL = join(FIXTURES, 'sfnet10bn.eval.onnx');
const REF = join(FIXTURES, 'sfnet10bn.npz');
const chromium = await probeChromiumWebgpu();
const work = mkdtempSync(join(tmpdir(), 'sf2-demo-'));
const out = join(work, 'bundle');

/** Reference rows back to 112x112 RGB PNG faces: pixel = 127.5 x + 127.5 (the SphereFace2 preprocessing inverted), rounded. */
function facePngs(rows: number[]): { files: string[]; pixels: Uint8Array[] } {
  const x = readNpz(REF).get('inputs')!;
  const [, , h, w] = x.shape as number[];
  const data = x.data as Float32Array;
  const files: string[] = [], pixels: Uint8Array[] = [];
  for (const r of rows) {
    const png = new PNG({ width: w!, height: h! });
    const px = new Uint8Array(h! * w! * 3);
    for (let y = 0; y < h!; y++) for (let z = 0; z < w!; z++) for (let c = 0; c < 3; c++) {
      const v = Math.max(0, Math.min(255, Math.round(data[((r * 3 + c) * h! + y) * w! + z]! * 127.5 + 127.5)));
      png.data[(y * w! + z) * 4 + c] = v;
      px[(y * w! + z) * 3 + c] = v;
    }
    for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
    const f = join(work, `face${r}.png`);
    writeFileSync(f, PNG.sync.write(png));
    files.push(f);
    pixels.push(px);
  }
  return { files, pixels };
}

/** The page's score, computed by onnxruntime-node: e = f(x) + f(flip x), L2-normalized; cosine of the two. */
async function ortCosine(modelPath: string, pixels: Uint8Array[], h: number, w: number): Promise<number> {
  const s = await ort.InferenceSession.create(modelPath);
  try {
    const emb: Float32Array[] = [];
    for (const px of pixels) {
      const x = new Float32Array(2 * 3 * h * w);
      for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let c = 0; c < 3; c++) {
        const v = (px[(y * w + z) * 3 + c]! - 127.5) / 127.5;
        x[(c * h + y) * w + z] = v;
        x[((3 + c) * h + y) * w + (w - 1 - z)] = v;
      }
      let y: Float32Array | undefined;
      // A fixed batch dimension of 1 is run row by row.
      const dims = s.inputMetadata?.[0] && 'shape' in s.inputMetadata[0] ? (s.inputMetadata[0] as { shape: readonly (number | string)[] }).shape : [];
      if (dims[0] === 1) {
        const a = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.slice(0, 3 * h * w), [1, 3, h, w]) }))[s.outputNames[0]!]!.data as Float32Array;
        const b = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.slice(3 * h * w), [1, 3, h, w]) }))[s.outputNames[0]!]!.data as Float32Array;
        y = new Float32Array([...a, ...b]);
      } else {
        y = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [2, 3, h, w]) }))[s.outputNames[0]!]!.data as Float32Array;
      }
      const d = y.length / 2;
      const e = new Float32Array(d);
      let n = 0;
      for (let k = 0; k < d; k++) { e[k] = y[k]! + y[d + k]!; n += e[k]! ** 2; }
      for (let k = 0; k < d; k++) e[k]! /= Math.sqrt(n);
      emb.push(e);
    }
    let cos = 0;
    for (let k = 0; k < emb[0]!.length; k++) cos += emb[0]![k]! * emb[1]![k]!;
    return cos;
  } finally {
    await s.release();
  }
}

let s: Serving;
beforeAll(async () => {
  const r = await cli(MODEL, '--target', 'onnx,webgpu', '--precision', 'fp32,fp16', '--no-parity', '--out', out, '--quiet');
  expect(r.code, r.stderr).toBe(0);
  s = await startServe(out, { port: 0 });
}, 120000);
afterAll(async () => {
  await s?.close();
});

describe('sf2-export serve: the demo page', () => {
  it('the first printed URL serves the demo page (a redirect to /webgpu/)', async () => {
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${s.url}webgpu/`);
    expect(await res.text()).toMatch(/Cosine similarity/);
    const raw = await fetch(s.url, { redirect: 'manual' });
    expect(raw.status).toBe(302);
    // The command prints that URL first, and says it is the demo.
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it.skipIf(typeof chromium === 'string')('two faces, Compare: the cosine onnxruntime-node gives; a precision switch keeps the faces', async () => {
    const args = (chromium as Exclude<typeof chromium, string>).args;
    // Rows 0 and 1 of the reference: two different faces (a cosine well below 1).
    const faces = facePngs([0, 1]);
    const want = await ortCosine(join(out, 'onnx', 'model.fp32.onnx'), faces.pixels, 112, 112);
    const h = await BrowserHarness.open({ files: { '/blank.html': '<!doctype html><title>blank</title>' }, page: '/blank.html', args });
    try {
      const page = h.page;
      await page.goto(s.url);
      await page.waitForFunction(() => /Ready in/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      await page.selectOption('#precision', 'fp32');
      await page.waitForFunction(() => /Ready in .*fp32/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      await page.setInputFiles('#fileA', faces.files[0]!);
      await page.setInputFiles('#fileB', faces.files[1]!);
      await page.waitForFunction(() => /embedded/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      await page.evaluate(() => { document.getElementById('status')!.textContent = ''; document.getElementById('score')!.textContent = ''; });
      expect(await page.isEnabled('#compare')).toBe(true);
      await page.click('#compare');
      await page.waitForFunction(() => /embedded/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      const got = Number(await page.textContent('#score'));
      // The page prints 4 decimals; fp32 WebGPU vs onnxruntime cpu differ by float32
      // rounding (~1e-6 in the score), so the printed value is the rounded ORT cosine, +-1 in the last digit.
      expect(Math.abs(got - want), `page ${got}, onnxruntime-node ${want}`).toBeLessThanOrEqual(1.5e-4);
      expect(got).toBeLessThan(0.99);

      // Switch to fp16: the faces are redrawn (not blank) and the score recomputed, not 1.0000.
      await page.evaluate(() => { document.getElementById('status')!.textContent = ''; });
      await page.selectOption('#precision', 'fp16');
      await page.waitForFunction(() => /embedded/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      const blank = await page.evaluate(() => ['a', 'b'].map((id) => {
        const c = document.getElementById(id) as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        return d.every((v, i) => i % 4 === 3 || v === 0);
      }));
      expect(blank).toEqual([false, false]);
      expect(await page.isEnabled('#compare')).toBe(true);
      const fp16 = Number(await page.textContent('#score'));
      // fp16 weights and activations: the score moves by ~1e-3 at most on this model (docs/quantization.md).
      expect(Math.abs(fp16 - want)).toBeLessThan(1e-2);
      expect(h.errors()).toEqual([]);
    } finally {
      await h.close();
    }
  }, 300000);
});
