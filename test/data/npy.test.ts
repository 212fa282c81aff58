import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { InputError } from '../../src/errors.js';
import { crc32, encodeNpy, encodeNpz, readNpy, readNpz, toFloat64 } from '../../src/data/npy.js';

// Files written by numpy 1.24 (test/parity/data/make_npy.py).
const D = new URL('../parity/data/', import.meta.url).pathname;
const f = (n: string) => D + n;

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).exitCode).toBe(3);
    expect((e as InputError).message).not.toContain('\n');
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readNpy on files numpy wrote', () => {
  it('reads float32 C order', () => {
    const a = readNpy(f('f4.npy'));
    expect(a.dtype).toBe('f4');
    expect(a.shape).toEqual([3, 4]);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from({ length: 12 }, (_, k) => k / 4 - 1));
  });
  it('reads float64, float16 (as bits), int64 (BigInt), int32, uint8, bool', () => {
    const f8 = readNpy(f('f8.npy'));
    expect(f8.data).toBeInstanceOf(Float64Array);
    expect((f8.data as Float64Array)[1]).toBe((0.25 - 1) * Math.PI);
    const f2 = readNpy(f('f2.npy'));
    expect(f2.dtype).toBe('f2');
    expect(f2.data).toBeInstanceOf(Uint16Array);
    // 0.0001 in fp16 is 0x068E = 1.0001659393310547e-4 exactly.
    expect(Array.from(toFloat64(f2))).toEqual([1, -2.5, 65504, 0.00010001659393310547]);
    const i8 = readNpy(f('i8.npy'));
    expect(i8.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(i8.data as BigInt64Array)).toEqual([-(2n ** 62n), 1n, 2n, 2n ** 40n]);
    expect(Array.from(readNpy(f('i4.npy')).data as Int32Array)).toEqual([-7, 0, 7]);
    expect(Array.from(readNpy(f('u1.npy')).data as Uint8Array)).toEqual([0, 255, 7]);
    const b = readNpy(f('b1.npy'));
    expect(b.dtype).toBe('b1');
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1]);
  });
  it('reads big-endian, scalars, empty arrays, format 2.0 and 3.0', () => {
    expect(Array.from(readNpy(f('be_f4.npy')).data as Float32Array)).toEqual([1.5, -2]);
    const s = readNpy(f('scalar.npy'));
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data as Float32Array)).toEqual([3.25]);
    const e = readNpy(f('empty.npy'));
    expect(e.shape).toEqual([0, 5]);
    expect(e.data.length).toBe(0);
    const v1 = readNpy(f('f4.npy'));
    for (const v of ['v2.npy', 'v3.npy']) {
      const a = readNpy(f(v));
      expect(a.shape).toEqual([3, 4]);
      expect(Array.from(a.data as Float32Array)).toEqual(Array.from(v1.data as Float32Array));
    }
  });
  it('round-trips through encodeNpy byte-identically with numpy (format 1.0, 64-byte aligned)', () => {
    const a = readNpy(f('f4.npy'));
    expect(Buffer.from(encodeNpy(a)).equals(readFileSync(f('f4.npy')))).toBe(true);
    const i8 = readNpy(f('i8.npy'));
    expect(Buffer.from(encodeNpy(i8)).equals(readFileSync(f('i8.npy')))).toBe(true);
  });
});

describe('readNpy refuses bad files with one-line reasons', () => {
  const good = readFileSync(f('f4.npy'));
  it('fortran order', () => expect(inputError(() => readNpy(f('fortran.npy'))).message).toMatch(/fortran_order/));
  it('object arrays (pickles) and structured dtypes', () => {
    expect(inputError(() => readNpy(f('object.npy'))).message).toMatch(/unsupported dtype '\|O'/);
    expect(inputError(() => readNpy(f('struct.npy'))).message).toMatch(/structured/);
  });
  it('truncated data, truncated header, empty file', () => {
    expect(inputError(() => readNpy(good.subarray(0, good.length - 1), 'x.npy')).message).toMatch(/^x\.npy: truncated: shape \[3,4\] f4 needs 48 data bytes, file has 47/);
    expect(inputError(() => readNpy(good.subarray(0, 40))).message).toMatch(/truncated/);
    expect(inputError(() => readNpy(new Uint8Array(0))).message).toMatch(/truncated/);
  });
  it('bad magic, bad version, trailing bytes, garbage header', () => {
    const m = Uint8Array.from(good); m[1] = 0x41;
    expect(inputError(() => readNpy(m)).message).toMatch(/bad magic/);
    const v = Uint8Array.from(good); v[6] = 9;
    expect(inputError(() => readNpy(v)).message).toMatch(/version 9/);
    const t = new Uint8Array(good.length + 4); t.set(good);
    expect(inputError(() => readNpy(t)).message).toMatch(/size mismatch/);
    const g = Uint8Array.from(good); g.set(new TextEncoder().encode("__import__('os')"), 10);
    expect(inputError(() => readNpy(g)).message).toMatch(/bad header/);
  });
  it('a missing file', () => expect(inputError(() => readNpy('/nonexistent/x.npy')).message).toMatch(/cannot read \(ENOENT\)/));
});

describe('readNpz', () => {
  it('reads np.savez (stored) and np.savez_compressed (deflate) alike', () => {
    const a = readNpz(f('ref.npz'));
    const b = readNpz(f('ref_compressed.npz'));
    expect([...a.keys()]).toEqual(['inputs', 'embeddings', 'pairs', 'issame']);
    expect([...b.keys()]).toEqual(['inputs', 'embeddings']);
    for (const m of [a, b]) {
      expect(m.get('inputs')!.shape).toEqual([2, 3, 4, 4]);
      expect(Array.from(m.get('embeddings')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(Array.from(a.get('inputs')!.data as Float32Array)).toEqual(Array.from(b.get('inputs')!.data as Float32Array));
    expect(a.get('pairs')!.dtype).toBe('i8');
    expect(a.get('issame')!.dtype).toBe('b1');
  });
  it('round-trips encodeNpz', () => {
    const m = readNpz(encodeNpz([['x', { shape: [2], data: new Float32Array([1, 2]) }], ['y', { shape: [1], data: new BigInt64Array([5n]) }]]));
    expect([...m.keys()]).toEqual(['x', 'y']);
    expect(Array.from(m.get('y')!.data as BigInt64Array)).toEqual([5n]);
  });
  it('refuses truncated, damaged, non-zip, .npy-as-.npz and zip64 archives', () => {
    const z = readFileSync(f('ref_compressed.npz'));
    expect(inputError(() => readNpz(z.subarray(0, z.length - 30))).message).toMatch(/truncated|damaged/);
    expect(inputError(() => readNpz(z.subarray(0, 100))).message).toMatch(/truncated/);
    expect(inputError(() => readNpz(readFileSync(f('f4.npy')))).message).toMatch(/a \.npy file, not a \.npz/);
    expect(inputError(() => readNpz(new Uint8Array(64))).message).toMatch(/bad magic/);
    // Flip a byte inside the first entry's compressed data: inflate fails or the CRC catches it.
    const d = Uint8Array.from(z); d[120] = d[120]! ^ 0xff;
    expect(inputError(() => readNpz(d)).message).toMatch(/damaged|CRC|inflating|truncated/);
    // Mark the directory as zip64 (entries = 0xffff).
    const s = Uint8Array.from(readFileSync(f('ref.npz')));
    const eocd = s.length - 22;
    new DataView(s.buffer).setUint16(eocd + 10, 0xffff, true);
    expect(inputError(() => readNpz(s)).message).toMatch(/zip64/);
  });
  it('checks CRC-32 of stored entries and the known CRC of "123456789"', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const s = Uint8Array.from(readFileSync(f('ref.npz')));
    s[200] = s[200]! ^ 1; // inside inputs.npy data (stored)
    expect(inputError(() => readNpz(s)).message).toMatch(/CRC-32 mismatch/);
  });
  it('refuses a deflate bomb whose output exceeds the declared size', () => {
    const body = encodeNpy({ shape: [4], data: new Float32Array(4) });
    const z = Uint8Array.from(encodeNpz([['a', { shape: [4], data: new Float32Array(4) }]]));
    // Rebuild as deflate with the declared size too small.
    const comp = deflateRawSync(body);
    const out = new Uint8Array(30 + 5 + comp.length + 46 + 5 + 22);
    const dv = new DataView(out.buffer);
    const name = new TextEncoder().encode('a.npy');
    dv.setUint32(0, 0x04034b50, true); dv.setUint16(8, 8, true); dv.setUint16(26, 5, true); out.set(name, 30); out.set(comp, 35);
    const cd = 35 + comp.length;
    dv.setUint32(cd, 0x02014b50, true); dv.setUint16(cd + 10, 8, true); dv.setUint32(cd + 16, crc32(body), true);
    dv.setUint32(cd + 20, comp.length, true); dv.setUint32(cd + 24, 10, true); dv.setUint16(cd + 28, 5, true); out.set(name, cd + 46);
    const e = cd + 51;
    dv.setUint32(e, 0x06054b50, true); dv.setUint16(e + 8, 1, true); dv.setUint16(e + 10, 1, true); dv.setUint32(e + 12, 51, true); dv.setUint32(e + 16, cd, true);
    expect(inputError(() => readNpz(out)).message).toMatch(/damaged|after inflating/);
    void z;
  });
});
