/**
 * The export command end to end on a real fixture: --json prints one object and
 * nothing else; the bundle appears atomically; the input is never touched;
 * existing output is refused without --force; two runs give byte-identical
 * bundles; a parity failure exits 5 with the bundle still written.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli as runCli } from '../helpers/cli.js';
import { readNpz, encodeNpz } from '../../src/data/npy.js';
import { listFiles } from '../../src/bundle/bundle-dir.js';
import { FIXTURES } from '../helpers/fixtures.js';

const MODEL = join(FIXTURES, 'sfnet10bn.preserve.onnx');
const REF = join(FIXTURES, 'sfnet10bn.npz');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const cli = runCli;

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sf2-cli-'));
});

describe.skipIf(!existsSync(MODEL))('sf2-export <model> --target onnx', () => {
  it('--json prints exactly one JSON object; logs go to stderr; the input is untouched', async () => {
    const before = sha(MODEL);
    const out = join(work, 'a');
    const r = await cli(MODEL, '--target', 'onnx', '--precision', 'fp32', '--reference', REF, '--device', 'cpu', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const res = JSON.parse(lines[0]!);
    expect(res.ok).toBe(true);
    expect(res.out).toBe(out);
    expect(res.parity.pass).toBe(true);
    const fp32 = res.parity.results.find((x: { target: string; precision: string; runtime: string }) => x.target === 'onnx' && x.precision === 'fp32' && /cpu/.test(x.runtime));
    // fp32 after exact BN folding: float32 rounding only (see docs/parity.md).
    expect(fp32.minCosine).toBeGreaterThanOrEqual(0.99999);
    expect(sha(MODEL)).toBe(before);
    // No temporary folders left beside the bundle.
    expect(readdirSync(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain('onnx/model.fp32.onnx');
    for (const f of manifest.files) expect(sha(join(out, f.path))).toBe(f.sha256);
  });

  it('refuses an existing output folder without --force, and leaves it alone', async () => {
    const out = join(work, 'b');
    expect((await cli(MODEL, '--precision', 'fp32', '--reference', REF, '--device', 'cpu', '--out', out)).status).toBe(0);
    const manifestBefore = readFileSync(join(out, 'manifest.json'));
    const again = await cli(MODEL, '--precision', 'fp32', '--reference', REF, '--device', 'cpu', '--out', out);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect(readFileSync(join(out, 'manifest.json')).equals(manifestBefore)).toBe(true);
    expect((await cli(MODEL, '--precision', 'fp32', '--reference', REF, '--device', 'cpu', '--out', out, '--force')).status).toBe(0);
  });

  it('two runs give byte-identical bundles', async () => {
    const a = join(work, 'det-a'), b = join(work, 'det-b');
    expect((await cli(MODEL, '--precision', 'fp32', '--reference', REF, '--device', 'cpu', '--out', a)).status).toBe(0);
    expect((await cli(MODEL, '--precision', 'fp32', '--reference', REF, '--device', 'cpu', '--out', b)).status).toBe(0);
    const fa = listFiles(a), fb = listFiles(b);
    expect(fa).toEqual(fb);
    for (const f of fa) expect(sha(join(a, f)), f).toBe(sha(join(b, f)));
  });

  it('exits 5 when parity breaks, with the bundle and the failure recorded', async () => {
    // Shuffle the reference rows: every embedding is compared with another face's.
    const npz = readNpz(REF);
    const emb = npz.get('embeddings')!;
    const d = emb.shape[1]!;
    const src = emb.data as Float32Array;
    const shuffled = new Float32Array(src.length);
    const n = emb.shape[0]!;
    for (let i = 0; i < n; i++) shuffled.set(src.subarray(((i + 1) % n) * d, ((i + 1) % n + 1) * d), i * d);
    const bad = join(work, 'bad.npz');
    writeFileSync(bad, encodeNpz([...npz].map(([k, v]) => [k, k === 'embeddings' ? { ...v, data: shuffled } : v] as const)));
    const out = join(work, 'fail');
    const r = await cli(MODEL, '--precision', 'fp32', '--reference', bad, '--device', 'cpu', '--out', out, '--json');
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/parity failed/);
    const res = JSON.parse(r.stdout.trim());
    expect(res.ok).toBe(false);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.parity.pass).toBe(false);
    expect(manifest.parity.failures.length).toBeGreaterThan(0);
  });
});
