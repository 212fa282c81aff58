/**
 * NHWC-input models ([N, H, W, 3], Keras / tf2onnx style): the layout is detected,
 * kept in the bundle's contract, and references are taken (and made) in it:
 * an NHWC npz passes, synthetic inputs are fed NHWC, an NCHW npz is exit 3 with the
 * transpose hint. Model: fixtures/families/nhwc.onnx (real PyTorch export).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz, writeNpz } from '../../src/data/npy.js';
import { flipWidth, toNhwc } from '../../src/data/references.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';

const MODEL = join(FIXTURES, 'families', 'nhwc.onnx');
const REF = join(FIXTURES, 'families', 'nhwc.npz');

describe('NHWC helpers', () => {
  it('flipWidth in NHWC mirrors W and keeps channels together; toNhwc is the transpose', () => {
    const x = Float32Array.from({ length: 2 * 3 * 2 * 4 }, (_, i) => i); // NCHW [2, 3, 2, 4]
    const nchwFlip = flipWidth(x, [2, 3, 2, 4]);
    expect(flipWidth(toNhwc(x, [2, 3, 2, 4]), [2, 2, 4, 3], 'NHWC')).toEqual(toNhwc(nchwFlip, [2, 3, 2, 4]));
    expect(toNhwc(x, [2, 3, 2, 4]).slice(0, 3)).toEqual(Float32Array.from([0, 8, 16]));
  });
});

describe.skipIf(!existsSync(MODEL))('an NHWC-input model', () => {
  const work = mkdtempSync(join(tmpdir(), 'sf2-nhwc-'));
  it('synthetic references: exit 0, contract NHWC [batch, 112, 112, 3]', async () => {
    const out = join(work, 'syn');
    const r = await cli(MODEL, '--precision', 'fp32', '--device', 'cpu', '--out', out);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.model.input).toMatchObject({ layout: 'NHWC', shape: ['batch', 112, 112, 3] });
  });
  it('an NCHW npz for it: exit 3 with the transpose hint, nothing written', async () => {
    const z = readNpz(REF);
    const x = z.get('inputs')!;
    const [n, h, w, c] = x.shape as number[];
    const d = x.data as Float32Array;
    const nchw = new Float32Array(d.length);
    for (let i = 0; i < n!; i++) for (let y = 0; y < h!; y++) for (let q = 0; q < w!; q++) for (let k = 0; k < c!; k++) nchw[((i * c! + k) * h! + y) * w! + q] = d[((i * h! + y) * w! + q) * c! + k]!;
    const bad = join(work, 'nchw.npz');
    writeNpz(bad, [['inputs', { shape: [n!, c!, h!, w!], data: nchw }], ['embeddings', z.get('embeddings')!]]);
    const out = join(work, 'bad');
    const r = await cli(MODEL, '--precision', 'fp32', '--device', 'cpu', '--reference', bad, '--out', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/shape \[8, 3, 112, 112\]: 112 channels last, expected 3 \(the model's input is NHWC RGB\) \(it looks NCHW: transpose to NHWC with x\.transpose\(0, 2, 3, 1\)\)/);
    expect(existsSync(out)).toBe(false);
  });
});
