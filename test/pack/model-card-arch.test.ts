/**
 * MODEL_CARD.md's "Architecture" line comes from what the export knows: the
 * architecture a .pth checkpoint was built as (manifest source.checkpoint.arch,
 * read through architectureOf). Before, the card read an `architecture` field
 * of strip-head's details that strip-head never writes, so no card had the line.
 * An ONNX file does not say what it is: no line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';
import { unpackBundle } from '../../src/pack/unpack.js';
import { architectureOf, readManifest } from '../../src/bundle/manifest.js';

const base = mkdtempSync(join(tmpdir(), 'sf2-card-arch-'));
const pth = join(base, 'pth'), onnx = join(base, 'onnx');

async function cardOf(dir: string): Promise<string> {
  const r = await cli('pack', dir, '--json');
  expect(r.code, r.stderr).toBe(0);
  const top = await unpackBundle(JSON.parse(r.stdout).file, mkdtempSync(join(tmpdir(), 'sf2-card-arch-unpacked-')));
  return readFileSync(join(top, 'MODEL_CARD.md'), 'utf8');
}

beforeAll(async () => {
  const args = ['--target', 'onnx', '--precision', 'fp32', '--no-parity', '--quiet'];
  expect((await cli(join(FIXTURES, 'checkpoints/iresnet18.bare.pth'), ...args, '--out', pth)).code).toBe(0);
  expect((await cli(join(FIXTURES, 'sfnet10.eval.onnx'), ...args, '--out', onnx)).code).toBe(0);
}, 120000);

describe('MODEL_CARD.md architecture', () => {
  it('a .pth source: the architecture the checkpoint was imported as', async () => {
    const m = readManifest(pth);
    expect(architectureOf(m)).toBe('iresnet18');
    const card = await cardOf(pth);
    expect(card.split('\n').filter((l) => l.startsWith('- Architecture:'))).toEqual(['- Architecture: iresnet18']);
  }, 60000);

  it('an ONNX source: nothing records one, no line', async () => {
    expect(architectureOf(readManifest(onnx))).toBeUndefined();
    expect(await cardOf(onnx)).not.toMatch(/Architecture/);
  }, 60000);
});
