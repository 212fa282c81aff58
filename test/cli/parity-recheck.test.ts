/**
 * `sf2-export parity DIR` limited to some runtimes, precisions or rows judges
 * only what it ran, and never leaves a bundle that verified in a state that
 * does not: same references -> merged into the report; other references (--rows)
 * or a failing re-check -> written beside the bundle (DIR.recheck), the bundle
 * byte for byte as it was. Real runs: onnxruntime-node cpu and tfjs-node cpu.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFiles } from '../../src/bundle/bundle-dir.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';

const MODEL = join(FIXTURES, 'sfnet10bn.eval.onnx');
const REF = join(FIXTURES, 'sfnet10bn.npz');
const RT = ['--runtime', 'onnxruntime-node/cpu,tfjs-node/cpu'];
let base: string;

const snapshot = (d: string) => Object.fromEntries(listFiles(d).map((f) => [f, createHash('sha256').update(readFileSync(join(d, f))).digest('hex')]));
const copy = () => {
  const d = join(mkdtempSync(join(tmpdir(), 'sf2-recheck-')), 'bundle');
  cpSync(base, d, { recursive: true });
  return d;
};
const report = (d: string) => JSON.parse(readFileSync(join(d, 'parity-report.json'), 'utf8')) as { reference: { rows: number }; results: { file: string; runtime: string; pass: boolean; metrics: { rows: { rows: number } } }[] };

beforeAll(async () => {
  base = join(mkdtempSync(join(tmpdir(), 'sf2-recheck-base-')), 'b');
  const r = await cli(MODEL, '--target', 'onnx,tfjs', '--precision', 'fp32,fp16', '--reference', REF, ...RT, '--out', base, '--quiet');
  expect(r.code, r.stderr).toBe(0);
  expect((await cli('verify', base)).code).toBe(0);
}, 300000);

describe('parity re-check of part of a bundle', () => {
  it('one runtime and precision, same references: judged alone, merged into the report; verify still passes', async () => {
    const d = copy();
    const before = report(d);
    const r = await cli('parity', d, '--reference', REF, '--model', MODEL, '--runtime', 'tfjs-node/cpu', '--precision', 'fp32', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/no runtime could run it/);
    expect(r.stderr).toMatch(/not re-checked \(not selected\): onnx\/model\.fp16\.onnx, onnx\/model\.fp32\.onnx, tfjs\/fp16\/model\.json/);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ ok: true, written: 'merged' });
    expect(o.parity.results.map((x: { target: string; precision: string; runtime: string }) => `${x.target} ${x.precision} ${x.runtime}`)).toEqual(['tfjs fp32 tfjs-node/cpu']);
    const after = report(d);
    expect(after.results.map((x) => `${x.file} ${x.runtime}`).sort()).toEqual(before.results.map((x) => `${x.file} ${x.runtime}`).sort());
    const v = await cli('verify', d);
    expect(v.code, v.stderr).toBe(0);
  }, 120000);

  it('--rows 8 (other references than the report): written beside, the bundle unchanged and still verifying', async () => {
    const d = copy();
    const snap = snapshot(d);
    const r = await cli('parity', d, '--reference', REF, '--model', MODEL, '--runtime', 'tfjs-node/cpu', '--precision', 'fp32', '--rows', '8', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the bundle is left as it was \(a partial re-check on other references than the bundle's report \(8 rows/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, written: 'beside', reportDir: `${d}.recheck` });
    expect(snapshot(d)).toEqual(snap);
    const beside = report(`${d}.recheck`);
    expect(beside.reference.rows).toBe(8);
    expect(beside.results).toHaveLength(1);
    expect(beside.results[0]!.metrics.rows.rows).toBe(8);
    expect((await cli('verify', d)).code).toBe(0);
  }, 120000);

  it('a failing re-check of a verified bundle exits 5 and leaves the bundle as it was', async () => {
    const d = copy();
    const snap = snapshot(d);
    const r = await cli('parity', d, '--reference', REF, '--model', MODEL, '--runtime', 'onnxruntime-node/cpu', '--precision', 'fp32', '--min-cosine', '1');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/parity failed: onnx fp32 onnxruntime-node\/cpu: min cosine/);
    expect(r.stderr).toMatch(/its report would no longer pass/);
    expect(snapshot(d)).toEqual(snap);
    expect(report(`${d}.recheck`).results[0]!.pass).toBe(false);
    expect((await cli('verify', d)).code).toBe(0);
  }, 120000);

  it('every file on every runtime the report holds (here the cpu ones): replaced, verifies', async () => {
    const d = copy();
    const r = await cli('parity', d, '--reference', REF, '--model', MODEL, '--device', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: 'replaced', notRechecked: [] });
    expect((await cli('verify', d)).code).toBe(0);
    expect(existsSync(`${d}.recheck`)).toBe(false);
  }, 120000);

  it('--model uses the embedding the export cut at (manifest.head.embeddingTensor), not a fresh detection', async () => {
    const d = copy();
    const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    expect(typeof m.head.embeddingTensor).toBe('string');
    m.head.embeddingTensor = 'no-such-tensor';
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    const r = await cli('parity', d, '--model', MODEL, '--runtime', 'onnxruntime-node/cpu', '--precision', 'fp32');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/has no tensor named no-such-tensor/);
  }, 120000);
});
