/**
 * Issue 16 items 8 and 10: decompression bombs and hostile containers are
 * refused early, in bounded time and memory, with documented limits
 * (src/limits.ts); bad references and tarballs are exit 3, one line.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeNpz, readNpz, readNpy } from '../../src/data/npy.js';
import { unpackBundle } from '../../src/pack/unpack.js';
import { verifyBundle } from '../../src/verify/verify.js';
import { deflateRawSync } from 'node:zlib';
import { Sf2Error } from '../../src/errors.js';

const work = mkdtempSync(join(tmpdir(), 'sf2-sec-bombs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('SF2_EXPORT_MAX_') && !(k in saved)) delete process.env[k];
});

/** A zip of the given entries, stored or deflated (headers as numpy's zipfile writes them). */
function zipOf(entries: Array<{ name: string; data: Uint8Array; deflate?: boolean }>): Uint8Array {
  const parts: Buffer[] = [], cd: Buffer[] = [];
  let off = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const comp = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(e.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(e.data.length, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(e.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(e.data.length, 24); ch.writeUInt16LE(name.length, 28); ch.writeUInt32LE(off, 42);
    parts.push(lh, name, comp);
    cd.push(ch, name);
    off += 30 + name.length + comp.length;
  }
  const cdb = Buffer.concat(cd);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdb.length, 12); end.writeUInt32LE(off, 16);
  return Buffer.concat([...parts, cdb, end]);
}

function refused(fn: () => unknown, want: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should throw').toBeInstanceOf(Sf2Error);
  expect((err as Sf2Error).exitCode).toBe(3);
  expect((err as Sf2Error).message).toMatch(want);
}

describe('.npz / .npy', () => {
  it('refuses an entry inflating over 200:1 past 64 MiB, from the directory, without inflating it', () => {
    const zeros = new Uint8Array(80 * 2 ** 20); // 80 MiB of zeros deflate to about 80 KB
    const z = zipOf([{ name: 'inputs.npy', data: zeros, deflate: true }]);
    expect(z.length).toBeLessThan(200_000);
    refused(() => readNpz(z, 'bomb.npz'), /entry inputs\.npy inflates \d+ bytes to 83886080 \(over 200:1, a decompression bomb\?\)/);
  });

  it('refuses arrays whose total inflated size is over the reference limit (overridable)', () => {
    const a = new Uint8Array(4096);
    process.env.SF2_EXPORT_MAX_REFERENCE_BYTES = '6000';
    refused(() => readNpz(zipOf([{ name: 'a.npy', data: a }, { name: 'b.npy', data: a }]), 'two.npz'), /over the 6000-byte reference limit/);
  });

  it('refuses too many entries', () => {
    process.env.SF2_EXPORT_MAX_ZIP_ENTRIES = '3';
    const e = encodeNpz([0, 1, 2, 3].map((i) => [`a${i}`, { shape: [1], data: new Float32Array([i]) }] as const));
    refused(() => readNpz(e, 'many.npz'), /4 entries, over the limit of 3 arrays/);
  });

  it('reports (refuses) an entry named ../../x.npy instead of ignoring it', () => {
    refused(() => readNpz(zipOf([{ name: '../../x.npy', data: new Uint8Array(8) }]), 'climb.npz'), /"\.\.\/\.\.\/x\.npy" has a path that climbs out/);
  });

  it('says a folder or a device is not a .npy', () => {
    mkdirSync(join(work, 'refdir'));
    refused(() => readNpy(join(work, 'refdir')), /is a folder, not a \.npy\/\.npz file/);
    refused(() => readNpz('/dev/zero'), /is not a regular file/);
  });
});

describe('tarballs', () => {
  it('refuses an empty or random .tgz as bad input (exit 3), not an internal error', async () => {
    writeFileSync(join(work, 'empty.tgz'), '');
    writeFileSync(join(work, 'random.tgz'), randomBytes(4096));
    writeFileSync(join(work, 'gz-random.tgz'), gzipSync(randomBytes(4096)));
    for (const f of ['empty.tgz', 'random.tgz', 'gz-random.tgz']) {
      await expect(verifyBundle(join(work, f)), f).rejects.toMatchObject({ exitCode: 3 });
    }
  });

  it('stops listing at the first entry over the byte limit: an 8 MiB entry in a tiny tgz with a 1 MiB limit', async () => {
    const src = join(work, 'bomb-src', 'b');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'zeros.bin'), new Uint8Array(8 * 2 ** 20));
    const tgz = join(work, 'bomb.tgz');
    await tar.create({ file: tgz, cwd: join(work, 'bomb-src'), gzip: true, portable: true }, ['b']);
    process.env.SF2_EXPORT_MAX_BUNDLE_BYTES = String(2 ** 20);
    await expect(unpackBundle(tgz, join(work, 'bomb-out'))).rejects.toThrow(/entries hold over 1048576 bytes \(entry b\/zeros\.bin: 8388608 bytes\)/);
  });

  it('refuses more entries than the limit while listing', async () => {
    const src = join(work, 'many-src', 'm');
    mkdirSync(src, { recursive: true });
    for (let i = 0; i < 60; i++) writeFileSync(join(src, `f${i}`), 'x');
    const tgz = join(work, 'many.tgz');
    await tar.create({ file: tgz, cwd: join(work, 'many-src'), gzip: true, portable: true }, ['m']);
    process.env.SF2_EXPORT_MAX_BUNDLE_ENTRIES = '50';
    await expect(unpackBundle(tgz, join(work, 'many-out'))).rejects.toThrow(/over 50 entries/);
  });
});

describe('pack --out', () => {
  it('refuses a folder as --out, even with --force (was EISDIR, exit 1)', async () => {
    const { packBundle } = await import('../../src/pack/pack.js');
    const b = join(work, 'pk', 'bundle');
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, 'manifest.json'), JSON.stringify({ tool: { name: 'sf2-export' }, files: [] }));
    mkdirSync(join(work, 'pk', 'dest'));
    await expect(packBundle(b, { out: join(work, 'pk', 'dest'), force: true })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/is a folder, not a tarball/) });
    await expect(packBundle(b, { out: b, force: true })).rejects.toMatchObject({ exitCode: 2 });
  });
});
