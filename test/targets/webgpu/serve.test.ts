/**
 * `sf2-export serve DIR` and the WebGPU demo page it serves: static files on
 * loopback, nothing outside DIR; in headless Chromium the page loads the bundle,
 * takes two images from file inputs and shows their cosine.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type Serving } from '../../../src/cli/serve.js';
import { UsageError } from '../../../src/errors.js';
import { BrowserHarness } from '../../../src/parity/browser/index.js';
import { probeChromiumWebgpu } from '../../../src/parity/runtimes/webgpu-chromium.js';
import { seededFloats } from '../../helpers/ort.js';
import { writeBundle, type Written } from './harness.js';
import { tinyFace } from './models.js';

const chromium = await probeChromiumWebgpu();

function rawGet(url: string, path: string, method = 'GET'): Promise<number> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const r = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    r.on('error', fail);
    r.end();
  });
}

describe('serve', () => {
  let b: Written;
  let s: Serving;
  beforeAll(async () => {
    b = await writeBundle(tinyFace(), ['fp32']);
    // The exported bundle's manifest.json (what the demo page reads to list its models).
    writeFileSync(join(b.dir, 'manifest.json'), JSON.stringify({ files: b.files }));
    s = await startServe(b.dir, { port: 0 });
  });
  afterAll(async () => {
    await s?.close();
    b?.cleanup();
  });

  it('serves the bundle and the demo page on 127.0.0.1, and nothing outside the folder', async () => {
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(`${s.url}webgpu/index.html`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/Cosine similarity/);
    const js = await fetch(`${s.url}webgpu/fp32/sf2.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${s.url}webgpu/fp32/model.json`)).status).toBe(200);
    expect((await fetch(`${s.url}webgpu/fp16/model.json`, { method: 'HEAD' })).status).toBe(404);
    expect(await rawGet(s.url, '/../../etc/passwd')).toBe(403);
    expect(await rawGet(s.url, '/webgpu/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).toBe(403);
    expect(await rawGet(s.url, '/webgpu/index.html', 'POST')).toBe(405);
  });

  it('refuses a missing folder and a bad port with usage errors', async () => {
    await expect(startServe(join(b.dir, 'nope'))).rejects.toBeInstanceOf(UsageError);
    await expect(startServe(b.dir, { port: 'x' })).rejects.toThrow(/not a port number/);
    const u = new URL(s.url);
    await expect(startServe(b.dir, { port: u.port })).rejects.toThrow(/is in use/);
  });

  it.skipIf(typeof chromium === 'string')('the demo page compares two chosen images in headless Chromium', async () => {
    const args = (chromium as Exclude<typeof chromium, string>).args;
    const png = (seed: number) => {
      const p = new PNG({ width: 112, height: 112 });
      const v = seededFloats(112 * 112 * 4, seed, 0, 256);
      for (let i = 0; i < v.length; i++) p.data[i] = i % 4 === 3 ? 255 : Math.floor(v[i]!);
      const file = join(b.dir, `face${seed}.png`);
      writeFileSync(file, PNG.sync.write(p));
      return file;
    };
    const a = png(1), c = png(2);
    const h = await BrowserHarness.open({ files: { '/blank.html': '<!doctype html><title>blank</title>' }, page: '/blank.html', args });
    try {
      await h.page.goto(`${s.url}webgpu/index.html`);
      await h.page.waitForFunction(() => /Ready in/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      expect(await h.page.textContent('#status')).toMatch(/fp32, f32 arithmetic, adapter/);
      await h.page.setInputFiles('#fileA', a);
      await h.page.setInputFiles('#fileB', a);
      await h.page.waitForFunction(() => /embedded/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      // The same image twice: cosine 1 (printed to 4 decimals).
      expect(await h.page.textContent('#score')).toBe('1.0000');
      await h.page.evaluate(() => (document.getElementById('status')!.textContent = ''));
      await h.page.setInputFiles('#fileB', c);
      await h.page.waitForFunction(() => /embedded/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 120000 });
      const score = Number(await h.page.textContent('#score'));
      expect(score).toBeGreaterThan(-1);
      expect(score).toBeLessThan(0.9999);
      expect(h.errors()).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
