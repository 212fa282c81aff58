/**
 * verify against tampering: a real bundle (sfnet10, parity measured on
 * onnxruntime-node cpu against PyTorch), then one flipped byte in each file in
 * turn, reports edited to say pass, extra and missing files, links, and
 * signatures made with one key and checked with another.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFiles } from '../../src/bundle/bundle-dir.js';
import { MANIFEST_FILE } from '../../src/bundle/manifest.js';
import { stableStringify } from '../../src/bundle/stable-json.js';
import { parityForBundle, paritySummary } from '../../src/parity/run.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { assertVerified, sealManifest, signBundle, verifyBundle, verifyBundleDir } from '../../src/verify/verify.js';
import { VerifyError } from '../../src/errors.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ, writeManifest } from '../parity/helpers.js';

let base: string;
let keys: string;
const copy = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sf2-verify-case-'));
  cpSync(base, d, { recursive: true });
  return d;
};
const flipByte = (path: string, at?: number) => {
  const b = readFileSync(path);
  const k = at ?? Math.floor(b.length / 2);
  b[k] = b[k]! ^ 0x01;
  writeFileSync(path, b);
};

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sf2-verify-'));
  const b = buildOnnxBundle(SFNET10, base);
  const res = await parityForBundle(base, b.files, b.contract, { reference: SFNET10_NPZ, originalModel: SFNET10, runtimes: RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu') });
  expect(res.failing).toEqual([]);
  expect(res.report.pass).toBe(true);
  const s = paritySummary(res.report);
  await writeManifest(b, SFNET10, { pass: s.pass, report: s.reportPath, failures: s.failures, skipped: s.skipped });
  keys = mkdtempSync(join(tmpdir(), 'sf2-keys-'));
  for (const name of ['a', 'b']) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(keys, `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(keys, `${name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  }
}, 120000);

describe('verify', () => {
  it('accepts the untouched bundle', () => {
    const r = verifyBundleDir(base);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.files).toBe(4); // the model and three reports
    expect(r.results).toBe(1);
    expect(listFiles(base)).toEqual(['manifest.json', 'onnx/model.fp32.onnx', 'parity-report.html', 'parity-report.json', 'parity-report.md']);
  });

  it('catches one flipped byte in every file, at the start, middle and end', () => {
    for (const f of listFiles(base)) {
      const size = readFileSync(join(base, f)).length;
      for (const at of [0, Math.floor(size / 2), size - 2]) {
        const d = copy();
        flipByte(join(d, f), at);
        const r = verifyBundleDir(d);
        expect(r.ok, `${f} byte ${at}`).toBe(false);
        expect(r.problems.join('\n'), `${f} byte ${at}`).toMatch(f === MANIFEST_FILE ? /manifest\.json/ : new RegExp(f.replace(/\./g, '\\.')));
        rmSync(d, { recursive: true });
      }
    }
  });

  it('catches a report edited to say pass, even with the manifest re-sealed to match', () => {
    // Make a genuinely failing report: the thresholds demand cosine 1 exactly (the measured 1 - 2e-13 fails).
    const d = copy();
    const rep = JSON.parse(readFileSync(join(d, 'parity-report.json'), 'utf8'));
    rep.results[0].thresholds.minCosine = 1;
    rep.results[0].metrics.rows.cosine.min = 0.5; // and a worse metric
    // ... then claim it passed everywhere.
    rep.results[0].pass = true;
    rep.results[0].status = 'pass';
    rep.pass = true;
    writeFileSync(join(d, 'parity-report.json'), stableStringify(rep));
    const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'));
    const entry = m.files.find((x: { path: string }) => x.path === 'parity-report.json');
    const bytes = readFileSync(join(d, 'parity-report.json'));
    entry.sha256 = require_sha(bytes);
    entry.bytes = bytes.length;
    writeFileSync(join(d, MANIFEST_FILE), sealManifest(m));
    const r = verifyBundleDir(d);
    expect(r.ok).toBe(false);
    const all = r.problems.join('\n');
    expect(all).toMatch(/says pass, its metrics and thresholds say fail \(min cosine 0\.5000000 < 1/);
    expect(all).toMatch(/stored min cosine 0\.5 is not the series' minimum/);
    expect(all).not.toMatch(/sha256 does not match/); // only the logic catches this one
  });

  it('catches pass flags flipped in a failing report', () => {
    const d = copy();
    const rep = JSON.parse(readFileSync(join(d, 'parity-report.json'), 'utf8'));
    rep.results[0].pass = false;
    rep.results[0].status = 'fail';
    writeFileSync(join(d, 'parity-report.json'), stableStringify(rep));
    const r = verifyBundleDir(d);
    expect(r.problems.join('\n')).toMatch(/says fail, its metrics and thresholds say pass/);
    expect(r.problems.join('\n')).toMatch(/parity-report\.json: sha256/);
  });

  it('catches loosened thresholds unless allowed', () => {
    const d = copy();
    const rep = JSON.parse(readFileSync(join(d, 'parity-report.json'), 'utf8'));
    rep.results[0].thresholds.minCosine = 0.9;
    writeFileSync(join(d, 'parity-report.json'), stableStringify(rep));
    expect(verifyBundleDir(d).problems.join('\n')).toMatch(/looser than the defaults/);
    expect(verifyBundleDir(d, { allowLooseThresholds: true }).problems.join('\n')).not.toMatch(/looser/);
  });

  it('catches extra, missing and linked files, and an uncovered model file', () => {
    let d = copy();
    writeFileSync(join(d, 'onnx/extra.bin'), 'x');
    expect(verifyBundleDir(d).problems).toEqual(['onnx/extra.bin: not listed in manifest.json']);
    d = copy();
    unlinkSync(join(d, 'parity-report.md'));
    expect(verifyBundleDir(d).problems).toEqual(['parity-report.md: listed in manifest.json but missing']);
    d = copy();
    symlinkSync('/etc/passwd', join(d, 'onnx/link'));
    expect(verifyBundleDir(d).problems).toEqual(['onnx/link is a symbolic link']);
    d = copy();
    const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'));
    const fp32 = m.files.find((x: { path: string }) => x.path === 'onnx/model.fp32.onnx');
    m.files.push({ ...fp32, path: 'onnx/model.fp16.onnx', precision: 'fp16' });
    cpSync(join(d, 'onnx/model.fp32.onnx'), join(d, 'onnx/model.fp16.onnx'));
    writeFileSync(join(d, MANIFEST_FILE), sealManifest(m));
    expect(verifyBundleDir(d).problems).toEqual(['onnx/model.fp16.onnx: model file not covered by parity-report.json']);
  });

  it('signs with ed25519 and checks the signer', async () => {
    const d = copy();
    await signBundle(d, join(keys, 'a.pem'));
    expect(verifyBundleDir(d, { publicKey: join(keys, 'a.pub') }).problems).toEqual([]);
    expect(verifyBundleDir(d).notes.join(' ')).toMatch(/signature is intact/);
    expect(verifyBundleDir(d, { publicKey: join(keys, 'b.pub') }).problems).toEqual([`SIGNATURE: the signature does not verify with ${join(keys, 'b.pub')}`]);
    // One flipped byte in any file, the signature included, breaks it.
    for (const f of listFiles(d)) {
      const e = mkdtempSync(join(tmpdir(), 'sf2-verify-sig-'));
      cpSync(d, e, { recursive: true });
      flipByte(join(e, f));
      const r = verifyBundleDir(e, { publicKey: join(keys, 'a.pub') });
      expect(r.ok, f).toBe(false);
      if (f !== 'SIGNATURE') expect(r.problems.join('\n'), f).toMatch(/signature does not|SIGNATURE/);
    }
    // An unsigned bundle with --public-key fails; a wrong key type is refused.
    expect(verifyBundleDir(base, { publicKey: join(keys, 'a.pub') }).problems).toEqual(['--public-key given but the bundle has no SIGNATURE']);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(keys, 'ec.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    expect(() => verifyBundleDir(d, { publicKey: join(keys, 'ec.pub') })).toThrow(/is a ec key, not ed25519/);
  });

  it('verifies a packed .tgz and throws VerifyError (exit 6) listing every problem', async () => {
    const { packBundle } = await import('../../src/pack/pack.js');
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-pack-')), 'b.tgz');
    await packBundle(base, { out });
    const r = await verifyBundle(out);
    expect(r.problems).toEqual([]);
    const d = copy();
    flipByte(join(d, 'onnx/model.fp32.onnx'));
    writeFileSync(join(d, 'stray.txt'), 'x');
    const bad = verifyBundleDir(d);
    let err: unknown;
    try {
      assertVerified(d, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifyError);
    expect((err as VerifyError).exitCode).toBe(6);
    expect((err as VerifyError).message).toMatch(/problems: .*onnx\/model\.fp32\.onnx: sha256.*stray\.txt: not listed/);
  });
});

import { createHash } from 'node:crypto';
function require_sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
