/**
 * pack: byte-identical tarballs; unpack: hostile entries refused before
 * anything is written.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { packBundle } from '../../src/pack/pack.js';
import { unpackBundle, entryProblem } from '../../src/pack/unpack.js';
import { InputError } from '../../src/errors.js';

let bundle: string;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sf2-pack-test-'));
  bundle = join(work, 'model');
  mkdirSync(join(bundle, 'onnx'), { recursive: true });
  writeFileSync(join(bundle, 'onnx', 'model.fp32.onnx'), Buffer.from('not really a model, but bytes'));
  const manifest = {
    schemaVersion: 1,
    tool: { name: 'sf2-export', version: '0.0.0' },
    source: { path: 'model.onnx', sha256: '0'.repeat(64), bytes: 1 },
    model: { embeddingDim: 4, output: 'embedding', input: { name: 'input', shape: ['N', 3, 112, 112], layout: 'NCHW', colorOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }, flipTTA: 'sum' },
    head: {},
    passes: [],
    targets: {},
    parity: null,
    files: [{ path: 'onnx/model.fp32.onnx', sha256: '', bytes: 29, target: 'onnx', precision: 'fp32', role: 'model' }],
  };
  writeFileSync(join(bundle, 'manifest.json'), JSON.stringify(manifest));
});

describe('pack', () => {
  it('two packs of one bundle are byte-identical, even after the files are touched', async () => {
    const a = await packBundle(bundle, { out: join(work, 'a.tgz') });
    // Rewrite a file with the same bytes: a new mtime must not change the tarball.
    writeFileSync(join(bundle, 'onnx', 'model.fp32.onnx'), readFileSync(join(bundle, 'onnx', 'model.fp32.onnx')));
    const b = await packBundle(bundle, { out: join(work, 'b.tgz') });
    expect(readFileSync(a.file).equals(readFileSync(b.file))).toBe(true);
    expect(a.sha256).toBe(b.sha256);
    expect(a.entries).toEqual(['model/MODEL_CARD.md', 'model/SHA256SUMS', 'model/manifest.json', 'model/onnx/model.fp32.onnx']);
  });

  it('SHA256SUMS covers every other file and the tarball unpacks cleanly', async () => {
    const r = await packBundle(bundle, { out: join(work, 'c.tgz') });
    const dest = join(work, 'unpacked');
    const top = await unpackBundle(r.file, dest);
    const sums = readFileSync(join(top, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split('  ')[1]);
    expect(sums).toEqual(['MODEL_CARD.md', 'manifest.json', 'onnx/model.fp32.onnx']);
    expect(readFileSync(join(top, 'MODEL_CARD.md'), 'utf8')).toMatch(/# Model card/);
  });

  it('refuses to overwrite without force', async () => {
    await packBundle(bundle, { out: join(work, 'd.tgz') });
    await expect(packBundle(bundle, { out: join(work, 'd.tgz') })).rejects.toThrow(/already exists/);
  });
});

/** A gzipped tar with hand-made headers, so hostile entries can be written. */
function hostileTar(entries: { path: string; type: string; body?: string; linkpath?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = new Header({ path: e.path, type: e.type as never, size: body.length, mode: 0o644, mtime: new Date(0), linkpath: e.linkpath });
    const block = Buffer.alloc(512);
    h.encode(block, 0);
    blocks.push(block);
    if (body.length) blocks.push(Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe('unpack refuses hostile tarballs', () => {
  const cases: [string, { path: string; type: string; body?: string; linkpath?: string }[]][] = [
    ['a .. entry', [{ path: 'model/../../evil.txt', type: 'File', body: 'x' }]],
    ['an absolute path', [{ path: '/tmp/sf2-evil-abs.txt', type: 'File', body: 'x' }]],
    ['a symbolic link', [{ path: 'model/link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]],
    ['a hard link', [{ path: 'model/hard', type: 'Link', linkpath: 'model/../../etc/passwd' }]],
    ['a device', [{ path: 'model/dev', type: 'CharacterDevice' }]],
    ['a FIFO', [{ path: 'model/fifo', type: 'FIFO' }]],
  ];
  it.each(cases)('%s', async (_name, entries) => {
    const file = join(work, `hostile-${Math.random().toString(16).slice(2)}.tgz`);
    writeFileSync(file, hostileTar([{ path: 'model/ok.txt', type: 'File', body: 'fine' }, ...entries]));
    const dest = join(work, `dest-${Math.random().toString(16).slice(2)}`);
    await expect(unpackBundle(file, dest)).rejects.toBeInstanceOf(InputError);
    await expect(unpackBundle(file, dest)).rejects.toThrow(/refused: .*(leaves the target folder|absolute path|Link entry|Device entry|FIFO entry)/);
    // Refused before anything was written.
    expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
    expect(existsSync('/tmp/sf2-evil-abs.txt')).toBe(false);
    expect(existsSync(join(work, '..', 'evil.txt'))).toBe(false);
  });

  it('entryProblem accepts plain files and folders', () => {
    expect(entryProblem('model/onnx/model.fp32.onnx', 'File')).toBeUndefined();
    expect(entryProblem('model/onnx/', 'Directory')).toBeUndefined();
    expect(entryProblem('model/..hidden', 'File')).toBeUndefined();
  });
});
