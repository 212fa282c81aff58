/**
 * Issue 16 item 4: the signature covers everything in a release. A real
 * bundle (sfnet10, parity on onnxruntime-node cpu against PyTorch), signed and
 * packed; then MODEL_CARD.md replaced (with SHA256SUMS rewritten to match),
 * empty folders, report pages edited to say PASS, and manifest fields
 * re-sealed: each is refused, with and without a signature.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle } from '../../src/pack/pack.js';
import { unpackBundle } from '../../src/pack/unpack.js';
import { listFiles } from '../../src/bundle/bundle-dir.js';
import { MANIFEST_FILE } from '../../src/bundle/manifest.js';
import { parityForBundle, paritySummary } from '../../src/parity/run.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { sealManifest, signBundle, verifyBundleDir } from '../../src/verify/verify.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ, writeManifest } from '../parity/helpers.js';

let work: string;
let packed: string; // an unpacked signed release
let pub: string;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const copy = (from: string): string => {
  const d = mkdtempSync(join(work, 'case-'));
  cpSync(from, d, { recursive: true });
  return d;
};
/** Problems that come from this checks (other schema work in progress is not this test's concern). */
const mine = (ps: readonly string[]) => ps.filter((p) => !p.includes(' schema: '));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sf2-sec-verify-'));
  const base = join(work, 'sfnet10');
  const b = buildOnnxBundle(SFNET10, base);
  const res = await parityForBundle(base, b.files, b.contract, { reference: SFNET10_NPZ, originalModel: SFNET10, runtimes: RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu') });
  const s = paritySummary(res.report);
  await writeManifest(b, SFNET10, { pass: s.pass, report: s.reportPath, failures: s.failures, skipped: s.skipped });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(work, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  pub = join(work, 'k.pub');
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  await signBundle(base, join(work, 'k.pem'));
  const tgz = join(work, 'release.tgz');
  await packBundle(base, { out: tgz });
  packed = await unpackBundle(tgz, join(work, 'unpacked'));
}, 120000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('verify covers every file of a signed release', () => {
  it('accepts the untouched signed release', () => {
    expect(listFiles(packed)).toContain('MODEL_CARD.md');
    expect(mine(verifyBundleDir(packed, { publicKey: pub }).problems)).toEqual([]);
  });

  it('refuses a replaced MODEL_CARD.md even with SHA256SUMS rewritten to match', () => {
    const d = copy(packed);
    const card = readFileSync(join(d, 'MODEL_CARD.md'), 'utf8').replace(/Overall: \*\*\w+\*\*/, 'Overall: **pass, certified** <script>alert(1)</script>');
    writeFileSync(join(d, 'MODEL_CARD.md'), card);
    const sums = listFiles(d).filter((f) => f !== 'SHA256SUMS').map((f) => `${sha(readFileSync(join(d, f)))}  ${f}\n`).join('');
    writeFileSync(join(d, 'SHA256SUMS'), sums);
    const r = verifyBundleDir(d, { publicKey: pub });
    expect(r.ok).toBe(false);
    expect(mine(r.problems)).toEqual(['MODEL_CARD.md does not match what the bundle says (edited after export?)']);
  });

  it('refuses a SHA256SUMS with a line removed or added', () => {
    const d = copy(packed);
    const lines = readFileSync(join(d, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(d, 'SHA256SUMS'), lines.slice(1).join('\n') + '\n');
    expect(mine(verifyBundleDir(d, { publicKey: pub }).problems).join('\n')).toMatch(/SHA256SUMS is not the sha256 list/);
  });

  it('refuses empty folders', () => {
    const d = copy(packed);
    mkdirSync(join(d, 'onnx', 'hidden', 'deeper'), { recursive: true });
    const r = verifyBundleDir(d, { publicKey: pub });
    expect(mine(r.problems)).toEqual(['onnx/hidden/ is an empty folder, covered by nothing', 'onnx/hidden/deeper/ is an empty folder, covered by nothing']);
  });

  it('refuses report pages edited to say PASS, with the manifest re-sealed (unsigned)', () => {
    for (const page of ['parity-report.md', 'parity-report.html']) {
      const d = copy(join(work, 'sfnet10'));
      rmSync(join(d, 'SIGNATURE'));
      writeFileSync(join(d, page), readFileSync(join(d, page), 'utf8').replace(/fail/gi, 'PASS') + '\nAll checks PASS.\n');
      const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'));
      const e = m.files.find((f: { path: string }) => f.path === page);
      const bytes = readFileSync(join(d, page));
      Object.assign(e, { sha256: sha(bytes), bytes: bytes.length });
      writeFileSync(join(d, MANIFEST_FILE), sealManifest(m));
      expect(mine(verifyBundleDir(d).problems), page).toEqual([`${page} does not match what parity-report.json says (edited after export?)`]);
    }
  });

  it('refuses re-sealed manifest fields that contradict the report and the files (unsigned)', () => {
    const edits: Array<[string, (m: any) => void, RegExp]> = [
      ['role', (m) => (m.files.find((f: { path: string }) => f.path === 'onnx/model.fp32.onnx').role = 'other'), /onnx\/model\.fp32\.onnx: a model file, manifest\.json says role "other"/],
      ['embeddingDim', (m) => (m.model.embeddingDim = 512), /embeddingDim 512, the reference measured 128/],
      ['mean', (m) => (m.model.input.mean = [0, 0, 0]), /model\.input mean\/std are not the (SphereFace2 )?preprocessing/],
      ['parity', (m) => (m.parity.pass = !m.parity.pass), /manifest\.json says parity/],
    ];
    for (const [what, edit, want] of edits) {
      const d = copy(join(work, 'sfnet10'));
      rmSync(join(d, 'SIGNATURE'));
      const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'));
      edit(m);
      writeFileSync(join(d, MANIFEST_FILE), sealManifest(m));
      expect(mine(verifyBundleDir(d).problems).join('\n'), what).toMatch(want);
    }
  });
});
