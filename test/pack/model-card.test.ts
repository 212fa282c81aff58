/**
 * MODEL_CARD.md against a real report (sfnet10bn exported on onnxruntime-node
 * cpu): min cosine from the report's metrics (it was `?` on every row), one
 * verdict casing, the input shape as [batch, 3, 112, 112] rather than JSON, each
 * failure once; and `pack` refusing a bundle whose parity failed (exit 5,
 * naming the results) unless --allow-failed, which the card then states.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';
import { unpackBundle } from '../../src/pack/unpack.js';

const MODEL = join(FIXTURES, 'sfnet10bn.eval.onnx');
const REF = join(FIXTURES, 'sfnet10bn.npz');
const base = mkdtempSync(join(tmpdir(), 'sf2-card-'));
const good = join(base, 'good'), bad = join(base, 'bad');

async function cardOf(tgz: string): Promise<string> {
  const top = await unpackBundle(tgz, mkdtempSync(join(tmpdir(), 'sf2-card-unpacked-')));
  return readFileSync(join(top, 'MODEL_CARD.md'), 'utf8');
}

beforeAll(async () => {
  const args = ['--precision', 'fp32,fp16', '--reference', REF, '--runtime', 'onnxruntime-node/cpu', '--quiet'];
  expect((await cli(MODEL, ...args, '--out', good)).code).toBe(0);
  // fp32 after BN folding is within ~1e-12 of PyTorch here, so a min cosine of 1 fails both results.
  expect((await cli(MODEL, ...args, '--min-cosine', '1', '--out', bad)).code).toBe(5);
}, 180000);

describe('MODEL_CARD.md', () => {
  it('a passing bundle: the min cosine of every result, as in parity-report.json', async () => {
    const r = await cli('pack', good, '--json');
    expect(r.code, r.stderr).toBe(0);
    const card = await cardOf(JSON.parse(r.stdout).file);
    const report = JSON.parse(readFileSync(join(good, 'parity-report.json'), 'utf8')) as { results: { target: string; precision: string; runtime: string; metrics: { rows: { rows: number; cosine: { min: number } } } }[] };
    expect(report.results).toHaveLength(2);
    for (const x of report.results) {
      const row = card.split('\n').find((l) => l.startsWith(`| ${x.target} | ${x.precision} | ${x.runtime} |`));
      expect(row, card).toBeDefined();
      expect(row).toContain(`| ${x.metrics.rows.rows} | ${x.metrics.rows.cosine.min.toFixed(6)} | ${(1 - x.metrics.rows.cosine.min).toExponential(2)} |`);
      expect(row).toMatch(/\| PASS \|$/);
    }
    expect(card).not.toMatch(/\| \? \|/);
    expect(card).toContain('Overall: **PASS**');
    expect(card).toMatch(/float32 \[\w+, 3, 112, 112\], NCHW/);
    expect(card).not.toMatch(/\["\w+",3/);
    expect(card).not.toMatch(/allow-failed/);
  }, 60000);

  it('pack refuses a bundle whose parity failed (exit 5, naming the results); --allow-failed packs it and the card says so', async () => {
    const r = await cli('pack', bad, '--json');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/sf2-export: error: .*bad: parity failed \(onnx fp32 onnxruntime-node\/cpu: min cosine [\d.]+ < 1 \(row \d+\).*; onnx fp16 onnxruntime-node\/cpu: min cosine .*\); not packed/);
    expect(r.stderr).toMatch(/--allow-failed/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 5 });
    const a = await cli('pack', bad, '--allow-failed', '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/warning: packed although parity failed \(--allow-failed\)/);
    const card = await cardOf(JSON.parse(a.stdout).file);
    expect(card).toContain('Overall: **FAIL**');
    expect(card).toContain('**Packed although parity failed** (`sf2-export pack --allow-failed`)');
    const failed = card.split('\n').filter((l) => l.startsWith('- onnx '));
    expect(failed).toHaveLength(2); // once per failing result, not repeated
    expect(new Set(failed).size).toBe(2);
    expect(card.split('\n').filter((l) => /\| FAIL \|$/.test(l))).toHaveLength(2);
  }, 60000);
});
