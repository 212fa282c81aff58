/**
 * Issue 16 item 10: user mistakes are usage or input errors, refused early,
 * never internal errors.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpz, readNpz } from '../../src/data/npy.js';
import { runMain } from './cli-run.js';

const FIX = join(import.meta.dirname, '../../fixtures');
const work = mkdtempSync(join(tmpdir(), 'sf2-sec-user-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bad references', () => {
  it('an issame of 2 is refused (exit 3) before any bundle is written', async () => {
    const z = readNpz(join(FIX, 'sfnet10.npz'));
    const issame = z.get('issame');
    expect(issame, 'the fixture has pairs').toBeDefined();
    // As int32 (a bool array holding 2 is refused by the .npy reader already).
    const data = Int32Array.from(issame!.data as Uint8Array);
    data[0] = 2;
    const arrays = [...z].map(([k, a]) => [k, k === 'issame' ? { dtype: 'i4', shape: a.shape, data } : a] as const);
    const ref = join(work, 'issame2.npz');
    writeFileSync(ref, encodeNpz(arrays as never));
    const out = join(work, 'out-issame');
    const r = await runMain(join(FIX, 'sfnet10.eval.onnx'), '--reference', ref, '--out', out, '--precision', 'fp32,int8', '--device', 'cpu', '--runtime', 'onnxruntime-node');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/issame\[0\] is 2, not 0 or 1/);
    expect(readdirSync(work).filter((n) => n.includes('out-issame'))).toEqual([]);
  }, 120000);

  it('--reference given a folder or /dev/zero says what it is', async () => {
    for (const [ref, want] of [[work, /is a folder, not a \.npy\/\.npz file/], ['/dev/zero', /is not a regular file/]] as const) {
      const r = await runMain(join(FIX, 'sfnet10.eval.onnx'), '--reference', ref, '--inputs', ref, '--out', join(work, 'o2'), '--precision', 'fp32', '--device', 'cpu', '--runtime', 'onnxruntime-node');
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(want);
    }
  }, 120000);
});
