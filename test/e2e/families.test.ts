/**
 * Every model-family fixture (fixtures/families/: MobileFaceNet in both forms with
 * the dynamic flatten and grouped conv, FaceNet at 160x160, GhostFaceNetV2, an 80x80
 * squeeze-excite net, an NHWC-input model, opensphere's 2023 head) exported with
 * --target web at fp32, fp16 and int8 and checked against its PyTorch reference on
 * onnxruntime-node cpu, tfjs wasm and the WebGPU bundle on Dawn, 4 rows each (one
 * run per family keeps CI small). Default thresholds (docs/parity.md). The NHWC
 * model's references are NHWC, and every bundle keeps that input layout.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import { cli } from '../helpers/cli.js';

const DIR = join(FIXTURES, 'families');
const FAMILIES = ['mfn_insight', 'mfn_dw', 'facenet160', 'ghostv2', 'se80', 'sfnet2023', 'nhwc'];

describe.skipIf(!existsSync(DIR))('model families: --target web --precision fp32,fp16,int8', () => {
  it.each(FAMILIES)('%s', async (name) => {
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-fam-')), 'b');
    const targets = 'web';
    const runtimes = 'onnxruntime-node/cpu,tfjs-node/wasm,dawn-node/webgpu';
    const r = await cli(join(DIR, `${name}.onnx`), '--target', targets, '--precision', 'fp32,fp16,int8', '--reference', join(DIR, `${name}.npz`), '--runtime', runtimes, '--rows', '4', '--out', out, '--json');
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.ok).toBe(true);
    const ran = new Set(res.parity.results.map((x: { target: string; precision: string }) => `${x.target}/${x.precision}`));
    for (const t of ['onnx', 'tfjs', 'webgpu']) for (const p of ['fp32', 'fp16', 'int8']) expect(ran, `${t}/${p}`).toContain(`${t}/${p}`);
    if (name === 'nhwc') {
      const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(m.model.input).toMatchObject({ layout: 'NHWC', shape: ['batch', 112, 112, 3] });
      expect(JSON.parse(readFileSync(join(out, 'webgpu', 'fp32', 'model.json'), 'utf8')).input.layout).toBe('NHWC');
      expect(JSON.parse(readFileSync(join(out, 'tfjs', 'fp32', 'model.json'), 'utf8')).userDefinedMetadata.sf2Export.input.layout).toBe('NHWC');
    }
  });
});
