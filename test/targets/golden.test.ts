/**
 * Every bundle carries its golden set and checks itself with its own helper:
 * sf2-ort.js on onnxruntime-node, sf2-tfjs.js on tfjs cpu and wasm, sf2.js on
 * Dawn. On each fixture's bundles (every precision) the self-test passes; one
 * weight's exponent byte flipped makes it fail, naming the row and its cosine.
 * The thresholds are the parity thresholds of each precision (src/metrics/thresholds.ts),
 * written into the golden set at export: nothing here is tuned to the fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { mainFixtures, referenceOf } from '../helpers/fixtures.js';
import { decodeGolden, GOLDEN_ROWS } from '../../src/bundle/golden-set.js';
import { DEFAULT_THRESHOLDS } from '../../src/metrics/thresholds.js';
import { dawnUnavailable } from './webgpu/harness.js';
import { damageOnnx, damageTfjsShard, damageWebgpu, DawnSelfTest, exportAll, ortSelfTest, PRECISIONS, tfjsSelfTest } from './golden-helpers.js';

// The eval exports of each architecture (the preserve-mode exports optimize to the same graphs).
const FIXTURES = mainFixtures().filter((f) => f.endsWith('.eval.onnx'));
// Damage tests on the smallest (the fewest shaders to compile on a software adapter).
const SMALLEST = [...FIXTURES].sort((a, b) => statSync(a).size - statSync(b).size)[0]!;
const root = mkdtempSync(join(tmpdir(), 'sf2-golden-'));
const bundles = new Map<string, string>();

beforeAll(async () => {
  for (const f of FIXTURES) {
    const out = join(root, basename(f, '.onnx'));
    await exportAll(f, referenceOf(f), out);
    bundles.set(f, out);
  }
}, 600_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of a bundle to damage. */
function copyOf(bundle: string): string {
  const dst = mkdtempSync(join(tmpdir(), 'sf2-golden-bad-'));
  cpSync(bundle, dst, { recursive: true });
  return dst;
}

describe('golden set files', () => {
  it('each bundle and precision has one: 4 reference rows stored as pixels, the reference embeddings, its threshold, its weights', () => {
    for (const [f, b] of bundles) {
      const manifest = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8')) as { files: { path: string; role: string; bytes: number }[]; targets: Record<string, { goldenSet?: { bytes: number; path: string } }> };
      for (const t of ['onnx', 'tfjs', 'webgpu'] as const) {
        for (const p of PRECISIONS) {
          const path = t === 'onnx' ? `onnx/model.${p}.golden.bin` : `${t}/${p}/golden.bin`;
          const entry = manifest.files.find((x) => x.path === path);
          expect(entry?.role, `${f} ${path}`).toBe('golden');
          expect(manifest.targets[`${t}/${p}`]!.goldenSet!.bytes).toBe(entry!.bytes);
          const g = decodeGolden(readFileSync(join(b, path)), path);
          expect(g.header.rows).toBe(GOLDEN_ROWS);
          // The fixture references are aligned face pixels: stored losslessly at 1 byte a value.
          expect(g.header.inputs.encoding).toBe('u8');
          expect(g.header.thresholds.minCosine).toBe(DEFAULT_THRESHOLDS[p].minCosine);
          expect(g.header.reference.synthetic).toBe(false);
          expect(g.dataSha256).toBe(g.header.digest);
          expect(g.header.weights.length).toBeGreaterThan(0);
          // 4 rows x 3 x 112 x 112 bytes + 4 x D floats + a header: well under 200 KB.
          expect(entry!.bytes).toBeLessThan(200_000);
        }
      }
    }
  });
});

describe('sf2-ort.js on onnxruntime-node', () => {
  it('passes on every fixture bundle and precision', async () => {
    for (const [f, b] of bundles) {
      for (const p of PRECISIONS) {
        const r = await ortSelfTest(b, p);
        expect(r.pass, `${f} onnx ${p}: ${r.failures.join('; ')}`).toBe(true);
        expect(r.rows).toBe(GOLDEN_ROWS);
        expect(r.precision).toBe(p);
        expect(r.minCosine).toBeGreaterThanOrEqual(r.threshold);
      }
    }
  }, 300_000);

  it('fails with the row and cosine on a damaged weight, and with modelBytes reports the sha256 mismatch', async () => {
    const bad = copyOf(bundles.get(SMALLEST)!);
    try {
      damageOnnx(join(bad, 'onnx', 'model.fp32.onnx'));
      const r = await ortSelfTest(bad, 'fp32');
      expect(r.pass).toBe(false);
      expect(r.failures.join('\n')).toMatch(/^row \d+: cosine (NaN|[-\d.e]+) < 0\.99999/m);
      const r2 = await ortSelfTest(bad, 'fp32', { modelBytes: readFileSync(join(bad, 'onnx', 'model.fp32.onnx')) });
      expect(r2.weights).toBe('mismatch');
      const good = await ortSelfTest(bundles.get(SMALLEST)!, 'fp32', { modelBytes: readFileSync(join(bundles.get(SMALLEST)!, 'onnx', 'model.fp32.onnx')) });
      expect(good.weights).toBe('ok');
      expect(good.pass).toBe(true);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('sf2-tfjs.js on tfjs cpu and wasm', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`passes on every fixture bundle and precision (${backend})`, async () => {
      for (const [f, b] of bundles) {
        for (const p of PRECISIONS) {
          const r = await tfjsSelfTest(b, p, backend);
          expect(r.pass, `${f} tfjs ${p} ${backend}: ${r.failures.join('; ')}`).toBe(true);
          expect(r.backend).toBe(backend);
          expect(r.rows).toBe(GOLDEN_ROWS);
        }
      }
    }, 300_000);
  }

  it('fails with the row and cosine on a damaged shard (cpu and wasm); checkWeights finds the shard', async () => {
    const bad = copyOf(bundles.get(SMALLEST)!);
    try {
      damageTfjsShard(join(bad, 'tfjs', 'fp32'));
      for (const backend of ['cpu', 'wasm'] as const) {
        const r = await tfjsSelfTest(bad, 'fp32', backend);
        expect(r.pass).toBe(false);
        expect(r.failures.join('\n')).toMatch(/^row \d+: cosine (NaN|[-\d.e]+) < 0\.99999/m);
      }
      const r = await tfjsSelfTest(bad, 'fp32', 'cpu', { checkWeights: true });
      expect(r.weights).toBe('mismatch');
      expect(r.failures[0]).toMatch(/group1-shard1of\d+\.bin: sha256/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 120_000);
});

const dawnWhy = await dawnUnavailable();
describe.skipIf(!!dawnWhy)(`sf2.js selfTest() on Dawn${dawnWhy ? ` (skipped: ${dawnWhy}; install Debian chromium for SwiftShader, npm run setup)` : ''}`, () => {
  let h: DawnSelfTest;
  beforeAll(async () => {
    h = await DawnSelfTest.start();
  }, 60_000);
  afterAll(async () => h?.close());

  it('passes on every fixture bundle and precision, with the adapter', async () => {
    for (const [f, b] of bundles) {
      for (const p of PRECISIONS) {
        const r = await h.run(b, p, 'url');
        expect(r.pass, `${f} webgpu ${p}: ${r.failures.join('; ')}`).toBe(true);
        expect(r.weights).toBe('ok');
        expect(typeof r.adapter.vendor).toBe('string');
        expect(typeof r.adapter.isFallbackAdapter).toBe('boolean');
        expect(r.precision).toBe(p);
      }
    }
  }, 600_000);

  it('a damaged weights.bin fails with the row and cosine; load(url, { selfTest: true }) throws Sf2Error self-test', async () => {
    const bad = copyOf(bundles.get(SMALLEST)!);
    try {
      damageWebgpu(join(bad, 'webgpu', 'fp32'));
      const r = await h.run(bad, 'fp32', 'bytes');
      expect(r.pass).toBe(false);
      expect(r.weights).toBe('not-checked');
      expect(r.failures.join('\n')).toMatch(/^row \d+: cosine (NaN|[-\d.e]+) < 0\.99999/m);
      const e = await h.loadWithSelfTest(bad, 'fp32');
      expect(e?.code).toBe('self-test');
      expect(e?.message).toMatch(/weights\.bin: sha256 .* row \d+: cosine/);
      expect(e?.result?.weights).toBe('mismatch');
      expect(await h.loadWithSelfTest(bundles.get(SMALLEST)!, 'fp32')).toBeNull();
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 120_000);
});
