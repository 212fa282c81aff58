/**
 * The golden set in headless Chromium (/usr/bin/chromium via playwright-core):
 * the demo page runs sf2.js's selfTest() on load and shows a pass with the
 * adapter; a damaged weights.bin shows a failure (sha256 and the row's cosine);
 * sf2-tfjs.js runs the same golden set on tfjs-backend-webgpu. Smallest fixture,
 * fp32 only, 4 rows: shader compilation on a software adapter is the cost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel } from '../../src/pipeline/export.js';
import { startServe } from '../../src/cli/serve.js';
import { BrowserHarness, packageDir } from '../../src/parity/browser/index.js';
import { probeChromiumWebgpu } from '../../src/parity/runtimes/webgpu-chromium.js';
import { scriptMount, TFJS_SCRIPTS, tfjsPageHtml } from '../../src/targets/tfjs/browser/page.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { damageWebgpu, type SelfTestResult } from './golden-helpers.js';

const chromium = await probeChromiumWebgpu();
const why = typeof chromium === 'string' ? chromium : undefined;
const root = mkdtempSync(join(tmpdir(), 'sf2-golden-chromium-'));
const bundle = join(root, 'b');

describe.skipIf(!!why)(`golden set in headless Chromium${why ? ` (skipped: ${why}; run npm run setup)` : ''}`, () => {
  const args = typeof chromium === 'string' ? [] : chromium.args;
  beforeAll(async () => {
    await exportModel(join(FIXTURES, 'sfnet10bn.eval.onnx'), { targets: ['tfjs', 'webgpu'], precisions: ['fp32'], reference: join(FIXTURES, 'sfnet10bn.npz'), out: bundle, force: true, skipParity: true });
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function demo(dir: string): Promise<{ pass: string | null; text: string; errors: string[] }> {
    const s = await startServe(dir, { port: 0 });
    const h = await BrowserHarness.open({ files: { '/blank.html': '<!doctype html><title>blank</title>' }, page: '/blank.html', args });
    try {
      await h.page.goto(`${s.url}webgpu/index.html`);
      await h.page.waitForSelector('#selftest[data-pass]', { timeout: 120_000 });
      return { pass: await h.page.getAttribute('#selftest', 'data-pass'), text: (await h.page.textContent('#selftest'))!, errors: h.errors() };
    } finally {
      await h.close();
      await s.close();
    }
  }

  it('the demo page shows a passing self-test with the adapter', async () => {
    const r = await demo(bundle);
    expect(r.text).toMatch(/^Self-test passed on .+: 4 golden rows, min cosine (1\.000000|0\.99999\d) \(threshold 0\.99999\), max \|diff\| .*, weights ok, fp32/);
    expect(r.pass).toBe('true');
    expect(r.errors).toEqual([]);
  }, 180_000);

  it('the demo page shows the failure for a damaged weights.bin: its sha256 and the row and cosine', async () => {
    const bad = join(root, 'bad');
    cpSync(bundle, bad, { recursive: true });
    damageWebgpu(join(bad, 'webgpu', 'fp32'));
    const r = await demo(bad);
    expect(r.pass).toBe('false');
    expect(r.text).toMatch(/Self-test FAILED on .*weights mismatch.*weights\.bin: sha256 .*row \d+: cosine/);
  }, 180_000);

  it('sf2-tfjs.js runs the golden set on tfjs-backend-webgpu', async () => {
    const mounts: Record<string, string> = { '/bundle/': bundle };
    for (const k of ['core', 'converter', 'webgpu']) mounts[scriptMount(k)] = packageDir(TFJS_SCRIPTS[k]!.pkg, 'dist');
    const h = await BrowserHarness.open({ mounts, files: { '/index.html': tfjsPageHtml('webgpu') }, page: '/index.html', args });
    try {
      await h.page.waitForFunction(() => (window as unknown as { sf2tfjsReady?: boolean }).sf2tfjsReady === true, undefined, { timeout: 60_000 });
      // A string, not a function: vitest would rewrite a function's import() for Node.
      const r = (await h.page.evaluate(`(async () => {
        await window.sf2tfjs.init();
        const { selfTest } = await import('/bundle/tfjs/fp32/sf2-tfjs.js');
        const model = await tf.loadGraphModel('/bundle/tfjs/fp32/model.json');
        try { return await selfTest(model, { tf, checkWeights: true }); } finally { model.dispose(); }
      })()`)) as SelfTestResult;
      expect(r.pass, r.failures.join('; ')).toBe(true);
      expect(r.backend).toBe('webgpu');
      expect(r.weights).toBe('ok');
      expect(r.rows).toBe(4);
    } finally {
      await h.close();
    }
  }, 180_000);
});
