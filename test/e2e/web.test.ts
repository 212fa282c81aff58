/**
 * The main job on every fixture: `--target web` (ONNX, tfjs and WebGPU bundles
 * at the default precisions), parity against the PyTorch references, then two
 * packs (byte-identical) and verify of the tarball.
 *
 * Runtimes: onnxruntime-node cpu, tfjs wasm and the WebGPU bundle on Dawn
 * (SwiftShader here), on 4 reference rows for the software GPU adapter; the
 * browser and slower runtimes have their own tests.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { mainFixtures, referenceOf } from '../helpers/fixtures.js';
import { cli } from '../helpers/cli.js';
const models = mainFixtures().filter((m) => referenceOf(m));

describe.skipIf(models.length === 0)('sf2-export <fixture> --target web, pack, verify', () => {
  it.each(models.map((m) => [basename(m), m]))('%s', async (_name, model) => {
    const work = mkdtempSync(join(tmpdir(), 'sf2-web-'));
    const out = join(work, 'bundle');
    const r = await cli(model, '--target', 'web', '--reference', referenceOf(model)!, '--runtime', 'onnxruntime-node/cpu,tfjs-node/wasm,dawn-node/webgpu', '--rows', '4', '--out', out, '--json');
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.ok).toBe(true);
    const ran = new Set(res.parity.results.map((x: { target: string; precision: string }) => `${x.target}/${x.precision}`));
    for (const t of ['onnx', 'tfjs', 'webgpu']) for (const p of ['fp32', 'fp16']) expect(ran, `${t}/${p}`).toContain(`${t}/${p}`);
    for (const x of res.parity.results) {
      // Default thresholds: fp32 1 - 1e-5, fp16 1 - 5e-4 (docs/parity.md).
      expect(x.minCosine).toBeGreaterThanOrEqual(x.precision === 'fp32' ? 0.99999 : 0.9995);
    }
    const a = join(work, 'a.tgz'), b = join(work, 'b.tgz');
    expect((await cli('pack', out, '--out', a)).status).toBe(0);
    expect((await cli('pack', out, '--out', b)).status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const v = await cli('verify', a);
    expect(v.status, v.stderr).toBe(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });
});
