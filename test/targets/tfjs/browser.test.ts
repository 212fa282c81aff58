/**
 * The tfjs bundle in headless Chromium (webgl and webgpu backends) through the
 * parity runtimes: the page loads the published tfjs UMD builds and the bundle
 * over HTTP. Skipped where Chromium is missing. Without a GPU both adapters
 * are SwiftShader (recorded in the runtime info).
 *
 * Kept short: one row. webgl runs by default (~30 s here, mostly shader
 * compilation); webgpu on SwiftShader spends ~50 s compiling pipelines on its
 * first run, so it runs with SF2_TFJS_WEBGPU_TEST=1 (measured result in
 * docs/targets.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { optimize } from '../../../src/passes/index.js';
import { chromiumProbe } from '../../../src/parity/browser/index.js';
import { tfjsChromiumWebgl, tfjsChromiumWebgpu } from '../../../src/parity/runtimes/tfjs-browser.js';
import { tfjsTarget } from '../../../src/targets/tfjs/target.js';
import { contractFor, FIXTURES, minCosine, reference } from './helpers.js';

const ROWS = 1;
const tmp = mkdtempSync(join(tmpdir(), 'sf2-tfjs-browser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const chromium = await chromiumProbe();

describe.skipIf(!chromium.available)('tfjs in headless Chromium', () => {
  const runtimes = process.env.SF2_TFJS_WEBGPU_TEST === '1' ? [tfjsChromiumWebgl, tfjsChromiumWebgpu] : [tfjsChromiumWebgl];
  test.each(runtimes)('$id: sfnet10bn fp32 matches PyTorch', { timeout: 300_000 }, async (rt) => {
    const m = loadOnnx(join(FIXTURES, 'sfnet10bn.eval.onnx'));
    optimize(m, {}, { log: silentLogger });
    const contract = contractFor(m);
    const dir = join(tmp, rt.id.replace('/', '-'));
    const res = await tfjsTarget.write({ model: m, contract, precision: 'fp32', outDir: dir, log: silentLogger, options: {} });
    const p = await rt.probe();
    expect(p.available, p.available ? '' : p.reason).toBe(true);
    if (!p.available) return;
    console.log(`${rt.id}: ${JSON.stringify(p.info.adapter)} ${JSON.stringify(p.info.notes)}`);
    const s = await rt.open(dir, res.files.find((f) => f.role === 'model')!, contract);
    try {
      const ref = reference('sfnet10bn');
      const y = await s.run(ref.inputs.subarray(0, ROWS * 3 * 112 * 112), ROWS);
      const cos = minCosine(y, ref.embeddings, ROWS, ref.d);
      console.log(`${rt.id}: min cosine ${cos}`);
      // float32 on the GPU path (SwiftShader computes in float32): the same bound as cpu/wasm.
      expect(cos).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await s.close();
    }
  });
});
