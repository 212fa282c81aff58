/**
 * `sf2-export parity DIR` and `sf2-export verify DIR` through the CLI's main()
 * (in process, on src/): exit codes 0, 2, 3, 5 and 6, --json on stdout, reports
 * rewritten, the manifest kept in step, signatures re-made or dropped.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { writeNpz } from '../../src/data/npy.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ, writeManifest } from './helpers.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { stdout += String(s); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { stderr += String(s); return true; });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let base: string;
let keys: string;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sf2-cli-parity-'));
  const b = buildOnnxBundle(SFNET10, base);
  await writeManifest(b, SFNET10); // no reports yet: parity writes them
  keys = mkdtempSync(join(tmpdir(), 'sf2-cli-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(keys, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(keys, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
});

const copy = () => {
  const d = mkdtempSync(join(tmpdir(), 'sf2-cli-case-'));
  cpSync(base, d, { recursive: true });
  return d;
};
const CPU = ['--runtime', 'onnxruntime-node/cpu'];

describe('sf2-export parity / verify', () => {
  it('parity writes the reports, updates the manifest, signs; verify then passes (exit 0)', async () => {
    const d = copy();
    // Before parity the bundle has no report: verify fails with exit 6.
    const v0 = await cli('verify', d);
    expect(v0.code).toBe(6);
    expect(v0.stderr).toMatch(/parity-report\.json is not listed in manifest\.json \(no parity report\)/);

    const r = await cli('parity', d, '--reference', SFNET10_NPZ, '--model', SFNET10, ...CPU, '--sign-key', join(keys, 'k.pem'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(out.ok).toBe(true);
    expect(out.reports).toEqual(['parity-report.json', 'parity-report.html', 'parity-report.md']);
    expect(out.parity.results[0]).toMatchObject({ target: 'onnx', precision: 'fp32', runtime: 'onnxruntime-node/cpu', rows: 32, pass: true });
    expect(1 - out.parity.results[0].minCosine).toBeLessThan(1e-10);
    const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    expect(manifest.parity).toMatchObject({ pass: true, report: 'parity-report.json' });
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['onnx/model.fp32.onnx', 'parity-report.html', 'parity-report.json', 'parity-report.md']);

    const v = await cli('verify', d, '--public-key', join(keys, 'k.pub'), '--json');
    expect(v.code, v.stdout).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, files: 4, results: 1, signed: true, signatureChecked: true, problems: [] });

    // Re-running parity without --sign-key drops the stale signature, with a warning.
    const r2 = await cli('parity', d, '--reference', SFNET10_NPZ, ...CPU);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/removed the old SIGNATURE/);
    expect(existsSync(join(d, 'SIGNATURE'))).toBe(false);
    expect((await cli('verify', d)).code).toBe(0);
  }, 120000);

  it('exits 5 printing the failing rows, and the written reports then fail verify (exit 6)', async () => {
    const d = copy();
    const r = await cli('parity', d, '--reference', SFNET10_NPZ, ...CPU, '--min-cosine', '1');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/parity failed: onnx fp32 onnxruntime-node\/cpu: min cosine 0\.99999999999\d+ < 1 \(row \d+\)/);
    expect(r.stderr).toMatch(/sf2-export: error: parity failed for 1 result/);
    expect(readFileSync(join(d, 'parity-report.md'), 'utf8')).toMatch(/^## sf2-export parity: FAIL/);
    const v = await cli('verify', d);
    expect(v.code).toBe(6);
    expect(v.stderr).toMatch(/problem: manifest\.json records that parity failed/);
    expect(v.stderr).toMatch(/problem: onnx\/model\.fp32\.onnx: no passing parity result/);
  }, 60000);

  it('exits 3 on a bad reference and 2 on bad usage, writing nothing', async () => {
    const d = copy();
    const bad = join(d, '..', `bad-${Date.now()}.npz`);
    writeNpz(bad, [['inputs', { shape: [2, 3, 112, 112], data: new Float32Array(2 * 3 * 112 * 112) }], ['embeddings', { shape: [3, 128], data: new Float32Array(3 * 128).fill(1) }]]);
    const r = await cli('parity', d, '--reference', bad, ...CPU);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/embeddings has 3 rows, .*inputs has 2/);
    expect(existsSync(join(d, 'parity-report.json'))).toBe(false);
    expect((await cli('parity', d, ...CPU)).stderr).toMatch(/parity needs references/);
    expect((await cli('parity', d, '--reference', SFNET10_NPZ, '--runtime', 'onnxruntime-nod')).stderr).toMatch(/no such runtime/);
    expect((await cli('parity', d, '--reference', SFNET10_NPZ, '--device', 'tpu')).code).toBe(2);
    expect((await cli('parity', d, '--reference', SFNET10_NPZ, '--model', SFNET10.replace('sfnet10', 'sfnet10bn'))).stderr).toMatch(/is not the model this bundle was exported from/);
  }, 60000);
});
