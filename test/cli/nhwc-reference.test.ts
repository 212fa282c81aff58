/**
 * References are validated once, before anything reads them: NHWC inputs with
 * the default precisions (fp16 calibrates on the reference inputs) are the
 * documented exit 3 with the transpose hint, not an internal error (exit 1).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz, writeNpy, writeNpz } from '../../src/data/npy.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';

const MODEL = join(FIXTURES, 'sfnet10bn.eval.onnx');
const REF = join(FIXTURES, 'sfnet10bn.npz');

function nhwc(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n!; i++) for (let k = 0; k < c!; k++) for (let y = 0; y < h!; y++) for (let z = 0; z < w!; z++) out[((i * h! + y) * w! + z) * c! + k] = x[((i * c! + k) * h! + y) * w! + z]!;
  return out;
}

describe.skipIf(!existsSync(MODEL))('NHWC references', () => {
  const d = mkdtempSync(join(tmpdir(), 'sf2-nhwc-'));
  const z = readNpz(REF);
  const x = z.get('inputs')!;
  const [n, c, h, w] = x.shape as number[];
  const xt = { shape: [n!, h!, w!, c!], data: nhwc(x.data as Float32Array, x.shape as number[]) };
  const npz = join(d, 'nhwc.npz');
  writeNpz(npz, [['inputs', xt], ['embeddings', z.get('embeddings')!]]);
  const xs = join(d, 'x_nhwc.npy'), ys = join(d, 'y.npy');
  writeNpy(xs, xt);
  writeNpy(ys, z.get('embeddings')!);

  for (const [what, args] of [['an NHWC .npz', ['--reference', npz]], ['--inputs X_nhwc.npy --reference Y.npy', ['--inputs', xs, '--reference', ys]]] as const) {
    it(`${what} with the default precisions: exit 3 with the hint, nothing written`, async () => {
      const out = join(d, `out-${what.length}`);
      const r = await cli(MODEL, ...args, '--device', 'cpu', '--out', out);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/sf2-export: error: .*shape \[\d+, 112, 112, 3\]: 112 channels, expected 3 \(NCHW RGB\) \(it looks NHWC: transpose to NCHW with x\.transpose\(0, 3, 1, 2\)\)/);
      expect(existsSync(out)).toBe(false);
    }, 60000);
  }
});
