/**
 * The checkpoint reader on the fixtures written by torch.save (fixtures/checkpoints.py):
 * both serializations, every layout, views with strides and storage offsets, the
 * refusals (a pickle that calls os.system / eval, truncated files, a head file as the
 * model, an architecture that does not fit), and fast-check mutations of good files:
 * a result or a clean exit 3, never a crash, a hang or executed code.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sf2Error } from '../../src/errors.js';
import { loadCheckpoint, tensorDataOf, PthTensor } from '../../src/pth/checkpoint.js';
import { findBackbone } from '../../src/pth/layouts.js';
import { importCheckpoint } from '../../src/pth/import.js';

const FX = join(import.meta.dirname, '../../fixtures');
const CK = join(FX, 'checkpoints');
const have = existsSync(join(CK, 'sfnet10nobn', 'bare.pth'));
const MARKER = '/tmp/sf2-export-hostile-ran';

function errorOf(fn: () => unknown): Sf2Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Sf2Error) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe.skipIf(!have)('torch.save checkpoints', () => {
  it('reads the zip and the legacy serialization of the same weights to the same tensors', () => {
    const zip = findBackbone(loadCheckpoint(join(FX, 'sfnet10bn', 'backbone_200.pth')));
    const leg = findBackbone(loadCheckpoint(join(CK, 'sfnet10bn.legacy.pth')));
    expect(zip.layout).toBe('2022');
    expect(leg.layout).toBe('2022');
    expect([...leg.tensors.keys()]).toEqual([...zip.tensors.keys()]);
    const ckz = loadCheckpoint(join(FX, 'sfnet10bn', 'backbone_200.pth'));
    const ckl = loadCheckpoint(join(CK, 'sfnet10bn.legacy.pth'));
    const tz = findBackbone(ckz).tensors, tl = findBackbone(ckl).tensors;
    for (const [k, t] of tz) {
      if (k.endsWith('num_batches_tracked')) continue;
      expect(Array.from(tensorDataOf(ckl, tl.get(k)!).float32()), k).toEqual(Array.from(tensorDataOf(ckz, t).float32()));
    }
  });

  it('honours strides and storage offsets: a transposed fc.weight and biases sliced from one storage', () => {
    const bare = loadCheckpoint(join(CK, 'sfnet10nobn', 'bare.pth'));
    const plain = loadCheckpoint(join(CK, 'sfnet10nobn', 'model_120.pth'));
    const tb = findBackbone(bare).tensors, tp = findBackbone(plain).tensors;
    const fcw = tb.get('fc.weight')!;
    expect(fcw.contiguous).toBe(false);
    expect(fcw.stride).toEqual([1, fcw.shape[0]]);
    const sliced = [...tb.entries()].filter(([k]) => k.startsWith('layer') && k.endsWith('.bias'));
    expect(new Set(sliced.map(([, t]) => t.storage.key)).size).toBe(1);
    expect(sliced.some(([, t]) => t.storageOffset > 0)).toBe(true);
    for (const [k, t] of tp) expect(Array.from(tensorDataOf(bare, tb.get(k)!).float32()), k).toEqual(Array.from(tensorDataOf(plain, t).float32()));
  });

  it('keeps contiguous float32 tensors as byte ranges of the file (nothing read on load)', () => {
    const ck = loadCheckpoint(join(FX, 'iresnet18', 'model_200.pth'));
    const t = findBackbone(ck).tensors.get('fc.weight')!;
    const d = tensorDataOf(ck, t);
    expect(d.source.kind).toBe('file');
  });

  it('finds each layout', () => {
    const cases: [string, string, number | null][] = [
      [join(FX, 'sfnet10', 'model_240.pth'), '2023', 150],
      [join(FX, 'sfnet10', 'backbone_240.pth'), '2022', null],
      [join(CK, 'iresnet18.bare.pth'), 'state_dict', null],
      [join(CK, 'iresnet18.legacy.pth'), '2022', null],
    ];
    for (const [p, layout, classes] of cases) {
      const { info } = importCheckpoint(p);
      expect(info.layout, p).toBe(layout);
      expect(info.head?.classes ?? null, p).toBe(classes);
    }
    const { info } = importCheckpoint(join(FX, 'iresnet18', 'backbone_200.pth'), { head: join(FX, 'iresnet18', 'head_200.pth') });
    expect(info.head).toMatchObject({ classes: 200, layout: 'DxC', source: 'head_200.pth' });
  });

  it.each([
    ['hostile.pth', 'posix.system'],
    ['hostile.legacy.pth', '__builtin__.eval'],
  ])('refuses %s, naming %s, and runs nothing', (file, global) => {
    rmSync(MARKER, { force: true });
    const e = errorOf(() => importCheckpoint(join(CK, file)));
    expect(e.exitCode).toBe(3);
    expect(e.code).toBe('pth-global');
    expect(e.message).toContain(global);
    expect(existsSync(MARKER)).toBe(false);
  });

  it.each(['truncated.pth', 'truncated.legacy.pth'])('refuses the truncated %s with exit 3', (file) => {
    const e = errorOf(() => importCheckpoint(join(CK, file)));
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(/truncated|past the end|more than the whole file|ends at/);
  });

  it('a head file as the model, or an architecture that does not fit, is exit 4', () => {
    const h = errorOf(() => importCheckpoint(join(FX, 'iresnet18', 'head_200.pth')));
    expect(h.exitCode).toBe(4);
    expect(h.hint).toContain('--head');
    const a = errorOf(() => importCheckpoint(join(CK, 'sfnet6bnbottle.model.pth'), { arch: 'iresnet' }));
    expect(a.exitCode).toBe(4);
    expect(a.message).toMatch(/left over \d+: /);
    expect(a.hint).toContain('sfnet_deprecated, iresnet, sfnet_bn, sfnet');
    const u = errorOf(() => importCheckpoint(join(CK, 'sfnet6bnbottle.model.pth'), { arch: 'resnet50' }));
    expect(u.exitCode).toBe(2);
  });

  // fast-check: byte flips, overwritten runs and truncations of good files, in both
  // serializations. Every outcome must be a checkpoint or an Sf2Error with exit 3 (or 4
  // when the mutated keys/shapes no longer form a backbone); anything else (TypeError,
  // RangeError, a hang) is a bug. Mutations land in the pickle region most of the time.
  const files = [join(CK, 'sfnet10nobn', 'legacy.pth'), join(CK, 'sfnet10nobn', 'model_120.pth')];
  it.each(files)('mutations of %s: a result or a clean exit 3', (file) => {
    const good = readFileSync(file);
    const ck = loadCheckpoint(file);
    // the region that holds pickles and headers (the zip's data.pkl and its central directory sit at the ends)
    const hot = Math.min(good.length, 8192);
    const dir = mkdtempSync(join(tmpdir(), 'sf2-pth-fc-'));
    const path = join(dir, 'm.pth');
    rmSync(MARKER, { force: true });
    try {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.record({ kind: fc.constant('flip' as const), at: fc.nat(hot - 1), v: fc.integer({ min: 0, max: 255 }), tail: fc.boolean() }),
            fc.record({ kind: fc.constant('run' as const), at: fc.nat(hot - 1), v: fc.uint8Array({ minLength: 1, maxLength: 16 }), tail: fc.boolean() }),
            fc.record({ kind: fc.constant('cut' as const), at: fc.nat(good.length - 1), v: fc.constant(0), tail: fc.constant(false) }),
          ),
          (m) => {
            let b = Buffer.from(good);
            const at = m.tail ? good.length - 1 - (m.at % Math.min(good.length, 4096)) : m.at;
            if (m.kind === 'flip') b[at] = m.v as number;
            else if (m.kind === 'run') b.set((m.v as Uint8Array).subarray(0, b.length - at), at);
            else b = b.subarray(0, at);
            writeFileSync(path, b);
            try {
              const c = loadCheckpoint(path);
              for (const t of c.tensors) tensorDataOf(c, t).rawBytes();
              try {
                importCheckpoint(path);
              } catch (e) {
                if (!(e instanceof Sf2Error) || (e.exitCode !== 3 && e.exitCode !== 4)) throw e;
              }
            } catch (e) {
              if (!(e instanceof Sf2Error) || e.exitCode !== 3) throw e;
            }
            return !existsSync(MARKER);
          },
        ),
        { numRuns: 300, seed: 0x5f2 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(ck.tensors.length).toBeGreaterThan(0);
  });

  it('a PthTensor reports contiguity from its strides', () => {
    const ck = loadCheckpoint(join(CK, 'sfnet10nobn', 'model_120.pth'));
    const t = ck.tensors[0]!;
    const tr = new PthTensor(t.storage, 0, [2, 3], [1, 2]);
    expect(tr.contiguous).toBe(false);
    expect(new PthTensor(t.storage, 0, [2, 1, 3], [3, 99, 1]).contiguous).toBe(true);
  });
});

describe('hand-made pickles', () => {
  // The legacy layout by hand: magic number, protocol 1001, sys info, the object, no storages.
  const legacy = (obj: number[]): Buffer =>
    Buffer.from([
      ...[0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e],
      ...[0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e],
      ...[0x80, 0x02, 0x7d, 0x2e],
      ...obj,
      ...[0x80, 0x02, 0x5d, 0x2e],
    ]);
  const withFile = <T>(bytes: Buffer, fn: (p: string) => T): T => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-pkl-'));
    try {
      const p = join(dir, 'x.pth');
      writeFileSync(p, bytes);
      return fn(p);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('a dict that holds itself under "model" is a clean exit 4, not a stack overflow', () => {
    // PROTO 2, EMPTY_DICT, BINPUT 0, SHORT_BINUNICODE "model", BINGET 0, SETITEM, STOP
    const obj = [0x80, 0x02, 0x7d, 0x71, 0x00, 0x8c, 0x05, ...Buffer.from('model'), 0x68, 0x00, 0x73, 0x2e];
    const e = withFile(legacy(obj), (p) => errorOf(() => importCheckpoint(p)));
    expect(e.exitCode).toBe(4);
  });

  it('a memo index that was never stored, or a length past the end, is exit 3', () => {
    const badGet = [0x80, 0x02, 0x68, 0x07, 0x2e];
    expect(withFile(legacy(badGet), (p) => errorOf(() => loadCheckpoint(p))).exitCode).toBe(3);
    const longStr = [0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61];
    expect(withFile(legacy(longStr), (p) => errorOf(() => loadCheckpoint(p))).exitCode).toBe(3);
  });
});
