/**
 * Every model-family fixture (fixtures/families/: MobileFaceNet in both forms with
 * the dynamic flatten and grouped conv, FaceNet at 160x160, GhostFaceNetV2, an 80x80
 * squeeze-excite net, an NHWC-input model, opensphere's 2023 head) exported with
 * --target web at fp32, fp16 and int8 and checked against its PyTorch reference on
 * onnxruntime-node cpu, tfjs wasm and the WebGPU bundle on Dawn, 4 rows each (one
 * run per family keeps CI small). Default thresholds (docs/parity.md).
 *
 * The NHWC model gets onnx and tfjs only: the WebGPU target refuses an NHWC input
 * (exit 4, checked here) until it learns that layout.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import { cli } from '../helpers/cli.js';

const DIR = join(FIXTURES, 'families');
const FAMILIES = ['mfn_insight', 'mfn_dw', 'facenet160', 'ghostv2', 'se80', 'sfnet2023', 'nhwc'];

describe.skipIf(!existsSync(DIR))('model families: --target web --precision fp32,fp16,int8', () => {
  it.each(FAMILIES)('%s', async (name) => {
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-fam-')), 'b');
    const nhwc = name === 'nhwc';
    const targets = nhwc ? 'onnx,tfjs' : 'web';
    const runtimes = nhwc ? 'onnxruntime-node/cpu,tfjs-node/wasm' : 'onnxruntime-node/cpu,tfjs-node/wasm,dawn-node/webgpu';
    const r = await cli(join(DIR, `${name}.onnx`), '--target', targets, '--precision', 'fp32,fp16,int8', '--reference', join(DIR, `${name}.npz`), '--runtime', runtimes, '--rows', '4', '--out', out, '--json');
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.ok).toBe(true);
    const ran = new Set(res.parity.results.map((x: { target: string; precision: string }) => `${x.target}/${x.precision}`));
    for (const t of targets === 'web' ? ['onnx', 'tfjs', 'webgpu'] : targets.split(',')) for (const p of ['fp32', 'fp16', 'int8']) expect(ran, `${t}/${p}`).toContain(`${t}/${p}`);
    if (nhwc) {
      const w = await cli(join(DIR, 'nhwc.onnx'), '--target', 'webgpu', '--precision', 'fp32', '--no-parity', '--out', `${out}-webgpu`);
      expect(w.status).toBe(4);
      expect(w.stderr).toMatch(/webgpu/);
    }
  });
});
