/**
 * A hand-made or damaged manifest.json is one clean error naming the file and
 * the field, through the one reader (src/bundle/manifest.ts): `pack` and
 * `parity DIR` exit 3 (a bundle that cannot be read), `verify` exits 6 (a
 * bundle that does not hold). Before, pack crashed inside model-card.ts (exit 1).
 * The bundle is a real export of the sfnet10 fixture (onnx fp32, 4 rows).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainCli } from '../helpers/main-cli.js';
import { manifestProblems, type Manifest } from '../../src/bundle/manifest.js';

let work: string;
let bundle: string;
let good: Manifest;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sf2-bad-manifest-'));
  bundle = join(work, 'b');
  const r = await mainCli('fixtures/sfnet10.eval.onnx', '--target', 'onnx', '--precision', 'fp32', '--rows', '4', '--out', bundle);
  expect(r.code, r.stderr).toBe(0);
  good = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as Manifest;
}, 120_000);

/** A copy of the real bundle whose manifest.json is `text`. */
function withManifest(name: string, text: string): string {
  const dir = join(work, name);
  cpSync(bundle, dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), text);
  return dir;
}

const cases: { name: string; edit: () => string; field: RegExp }[] = [
  { name: 'no-targets', edit: () => JSON.stringify({ ...good, targets: undefined }), field: /manifest\.json: targets: missing/ },
  { name: 'no-source', edit: () => JSON.stringify({ ...good, source: undefined }), field: /manifest\.json: source: missing/ },
  { name: 'dim-string', edit: () => JSON.stringify({ ...good, model: { ...(good.model as object), embeddingDim: '128' } }), field: /manifest\.json: model\.embeddingDim: expected a number, got string "128"/ },
  { name: 'files-object', edit: () => JSON.stringify({ ...good, files: {} }), field: /manifest\.json: files: expected an array, got an object/ },
  { name: 'passes-entry', edit: () => JSON.stringify({ ...good, passes: [{ pass: 'x' }] }), field: /manifest\.json: passes\[0\]\.counts: missing/ },
  { name: 'head-tensor', edit: () => JSON.stringify({ ...good, head: { ...good.head, embeddingTensor: 7 } }), field: /manifest\.json: head\.embeddingTensor: expected a string, got number 7/ },
  { name: 'golden-rows', edit: () => JSON.stringify({ ...good, targets: { 'onnx/fp32': { goldenSet: { ...good.targets['onnx/fp32']?.goldenSet, rows: '4' } } } }), field: /manifest\.json: targets\.onnx\/fp32\.goldenSet\.rows: expected a number, got string "4"/ },
  { name: 'target-key', edit: () => JSON.stringify({ ...good, targets: { onnx: {} } }), field: /manifest\.json: targets\.onnx: not a "<target>\/<precision>" key/ },
  { name: 'checkpoint-arch', edit: () => JSON.stringify({ ...good, source: { ...good.source, checkpoint: { arch: { name: 18 } } } }), field: /manifest\.json: source\.checkpoint\.arch\.family: missing/ },
  { name: 'not-json', edit: () => '{"files": [', field: /manifest\.json: not valid JSON/ },
  { name: 'array', edit: () => '[]', field: /manifest\.json: expected a JSON object, got an array/ },
];

describe('a malformed manifest.json', () => {
  it('the real export has none of these problems', () => {
    expect(manifestProblems(good)).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.name}: pack exits 3 naming the field, writes no tarball`, async () => {
      const dir = withManifest(`pack-${c.name}`, c.edit());
      const out = join(work, `${c.name}.tgz`);
      const r = await mainCli('pack', dir, '--out', out);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(c.field);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    });

    it(`${c.name}: verify exits 6 naming the field`, async () => {
      const dir = withManifest(`verify-${c.name}`, c.edit());
      const r = await mainCli('verify', dir);
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toMatch(c.field);
      expect(r.stderr).not.toMatch(/internal error/);
      // The one manifest problem, not echoed as "not listed" for every file of the bundle.
      expect(r.stderr).not.toMatch(/not listed in manifest\.json/);
    });
  }

  it('parity DIR exits 3 naming the field (nothing rewritten)', async () => {
    const text = JSON.stringify({ ...good, model: { ...(good.model as object), input: 'input' } });
    const dir = withManifest('parity-input', text);
    const r = await mainCli('parity', dir);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/manifest\.json: model\.input: expected an object, got string "input"/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(text);
  });
});
