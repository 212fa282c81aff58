/**
 * `sf2-export parity DIR --model x.pth` loads the checkpoint as the export did:
 * --arch and --head are honoured (src/cli/parity.ts -> loadReferences ->
 * openOriginal -> loadModel). Run in-process through the CLI's main() on a
 * bundle exported from the sfnet10 bare checkpoint (onnx fp32, parity on
 * onnxruntime-node cpu): the right --arch passes, a wrong one is the
 * importer's exit 4, a hostile --head file is read and refused (exit 3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { exportModel } from '../../src/pipeline/export.js';
import { FIXTURES } from '../helpers/fixtures.js';

const PTH = join(FIXTURES, 'checkpoints', 'sfnet10.bare.pth');
const HOSTILE = join(FIXTURES, 'checkpoints', 'hostile.pth');
const REF = join(FIXTURES, 'sfnet10.npz');

describe.skipIf(!existsSync(PTH) || !existsSync(HOSTILE))('parity DIR --model x.pth --arch/--head', () => {
  let dir: string, out: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sf2-parity-pth-'));
    out = join(dir, 'b');
    await exportModel(PTH, { targets: ['onnx'], precisions: ['fp32'], reference: REF, out, skipParity: true });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const parity = (...extra: string[]) => main(['parity', out, '--model', PTH, '--device', 'cpu', '--runtime', 'onnxruntime-node/cpu', '--quiet', ...extra]);

  it('the architecture the checkpoint has, forced: references from the imported graph, parity passes', async () => {
    expect(await parity('--arch', 'sfnet_deprecated')).toBe(0);
  }, 120_000);

  it('another architecture: the importer refuses the checkpoint as that --arch (exit 4), as the export would', async () => {
    expect(await parity('--arch', 'iresnet')).toBe(4);
  }, 120_000);

  it('--head is read as a checkpoint: a hostile head file is refused (exit 3)', async () => {
    expect(await parity('--head', HOSTILE)).toBe(3);
  }, 120_000);
});
