import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { InputError, UsageError } from '../../src/errors.js';
import { encodeNpz, writeNpy, writeNpz, type NpyData } from '../../src/data/npy.js';
import { DEFAULT_SEED, flipWidth, loadImages, loadReferences, mulberry32, syntheticInputs } from '../../src/data/references.js';
import { limitReferences } from '../../src/parity/run.js';
import type { ModelContract } from '../../src/analysis/contract.js';
import { SFNET10, SFNET10_NPZ } from '../parity/helpers.js';

const contract = (d: number, h = 4, w = 4): ModelContract => ({
  embeddingDim: d,
  output: 'embedding',
  input: { name: 'input', shape: ['N', 3, h, w], layout: 'NCHW', colorOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
  flipTTA: 'sum',
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sf2-refs-'));
});

type Arr = { shape: number[]; data: NpyData };
const X = (n = 2): Arr => ({ shape: [n, 3, 4, 4], data: Float32Array.from({ length: n * 48 }, (_, k) => (k % 9) / 9) });
const E = (n = 2, d = 3): Arr => ({ shape: [n, d], data: Float32Array.from({ length: n * d }, (_, k) => k + 1) });

function npz(name: string, arrays: Array<[string, Arr]>): string {
  const p = join(dir, name);
  writeNpz(p, arrays);
  return p;
}

async function refError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).exitCode).toBe(3);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('loadReferences from .npz and .npy', () => {
  it('reads inputs, embeddings, pairs and issame, hashing the file', async () => {
    const p = npz('ok.npz', [['inputs', X()], ['embeddings', E()], ['pairs', { shape: [1, 2], data: new BigInt64Array([0n, 1n]) }], ['issame', { shape: [1], data: Uint8Array.from([1]) }]]);
    const r = await loadReferences({ reference: p, contract: contract(3) });
    expect(r.kind).toBe('npz');
    expect(r.dims).toEqual([2, 3, 4, 4]);
    expect(r.dim).toBe(3);
    expect(Array.from(r.pairs!)).toEqual([0, 1]);
    expect(Array.from(r.issame!)).toEqual([1]);
    expect(r.flipEmbeddings).toBeUndefined();
    expect(r.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses embeddings_flip from the archive for the flip-TTA reference', async () => {
    const p = npz('flip.npz', [['inputs', X()], ['embeddings', E()], ['embeddings_flip', E()]]);
    const r = await loadReferences({ reference: p, contract: contract(3) });
    expect(r.flipSource).toBe('flip.npz:embeddings_flip');
  });

  it('reads --inputs X.npy --reference Y.npy', async () => {
    writeNpy(join(dir, 'x.npy'), X(3));
    writeNpy(join(dir, 'y.npy'), E(3));
    const r = await loadReferences({ inputs: join(dir, 'x.npy'), reference: join(dir, 'y.npy'), contract: contract(3) });
    expect(r.kind).toBe('npy');
    expect(r.dims[0]).toBe(3);
    expect(r.files).toHaveLength(2);
  });

  it('refuses bad references with one-line reasons (exit 3)', async () => {
    const cases: Array<[Array<[string, Arr]>, RegExp]> = [
      [[['inputs', { shape: [2, 3, 4, 4], data: new Float64Array(96) }], ['embeddings', E()]], /inputs is float64, not float32/],
      [[['inputs', { shape: [2, 48], data: new Float32Array(96) }], ['embeddings', E()]], /shape \[2, 48\], expected \[N, 3, H, W\]/],
      [[['inputs', { shape: [2, 4, 4, 3], data: new Float32Array(96) }], ['embeddings', E()]], /4 channels, expected 3/],
      [[['inputs', { shape: [2, 3, 5, 5], data: new Float32Array(150) }], ['embeddings', E()]], /the model takes \[N, 3, 4, 4\]/],
      [[['inputs', X()], ['embeddings', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, NaN, 6]) }]], /embeddings holds NaN at row 1 \(element 4\)/],
      [[['inputs', X()], ['embeddings', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, Infinity, 6]) }]], /holds Inf at row 1/],
      [[['inputs', X()], ['embeddings', E(3)]], /embeddings has 3 rows, .*inputs has 2/],
      [[['inputs', X()], ['embeddings', E(2, 4)]], /D = 4, the model's embedding has 3/],
      [[['inputs', X()], ['embeddings', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 0, 0, 0]) }]], /row 1 is all zeros/],
      [[['inputs', X()]], /needs inputs and embeddings/],
      [[['inputs', X()], ['embeddings', E()], ['pairs', { shape: [1, 2], data: Int32Array.from([0, 2]) }], ['issame', { shape: [1], data: Uint8Array.from([1]) }]], /pairs row 0 has index 2, outside \[0, 2\)/],
      [[['inputs', X()], ['embeddings', E()], ['pairs', { shape: [1, 2], data: Int32Array.from([0, 1]) }]], /pairs but no issame/],
      [[['inputs', X()], ['embeddings', E()], ['pairs', { shape: [2], data: Int32Array.from([0, 1]) }], ['issame', { shape: [1], data: Uint8Array.from([1]) }]], /expected \[M, 2\] integers/],
      [[['inputs', X()], ['embeddings', E()], ['pairs', { shape: [1, 2], data: Int32Array.from([0, 1]) }], ['issame', { shape: [1], data: Int32Array.from([2]) }]], /issame\[0\] is 2/],
    ];
    for (const [k, [arrays, re]] of cases.entries()) {
      const msg = await refError(loadReferences({ reference: npz(`bad${k}.npz`, arrays), contract: contract(3) }));
      expect(msg).toMatch(re);
      expect(msg).not.toContain('\n');
    }
  });

  it('refuses a truncated archive and a missing file', async () => {
    const bytes = encodeNpz([['inputs', X()], ['embeddings', E()]]);
    const p = join(dir, 'trunc.npz');
    writeFileSync(p, bytes.subarray(0, bytes.length - 40));
    expect(await refError(loadReferences({ reference: p, contract: contract(3) }))).toMatch(/truncated|damaged/);
    expect(await refError(loadReferences({ reference: join(dir, 'nope.npz') }))).toMatch(/cannot read \(ENOENT\)/);
  });

  it('refuses inconsistent options as usage errors (exit 2)', async () => {
    await expect(loadReferences({ inputs: 'x.npy' })).rejects.toThrow(UsageError);
    await expect(loadReferences({ reference: 'y.npy' })).rejects.toThrow(/pass the inputs with --inputs/);
    await expect(loadReferences({ reference: 'r.npz', images: 'dir' })).rejects.toThrow(/exclusive/);
    await expect(loadReferences({})).rejects.toThrow(/needs the original model/);
  });
});

describe('synthetic inputs', () => {
  it('mulberry32 is the published generator', () => {
    // bryc's original one-liner (github.com/bryc/code, jshash/PRNGs.md), written independently here.
    function canonical(a: number) {
      return () => {
        a |= 0; a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    for (const seed of [1, DEFAULT_SEED, 0xffffffff]) {
      const r = mulberry32(seed), c = canonical(seed);
      for (let k = 0; k < 100; k++) expect(r()).toBe(c());
    }
    const r = mulberry32(1);
    expect([r(), r(), r()].map((x) => x * 4294967296)).toEqual([2693262067, 11749833, 2265367787]);
  });
  it('are deterministic, in [-1, 1], and N(0, 0.5^2) clamped', () => {
    const a = syntheticInputs(4, 3, 32, 32);
    expect(Buffer.from(a.buffer).equals(Buffer.from(syntheticInputs(4, 3, 32, 32).buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(syntheticInputs(4, 3, 32, 32, DEFAULT_SEED + 1).buffer))).toBe(false);
    let s = 0, s2 = 0, lo = 0, hi = 0;
    for (const x of a) { s += x; s2 += x * x; lo = Math.min(lo, x); hi = Math.max(hi, x); }
    const n = a.length, mean = s / n, sd = Math.sqrt(s2 / n - mean * mean);
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    // 12288 samples: the mean's standard error is 0.5 / sqrt(12288) = 0.0045; 4.4 sigma = 0.02.
    expect(Math.abs(mean)).toBeLessThan(0.02);
    // Clamping at 2 sigma leaves sd = 0.5 * 0.9428 (the truncated normal's) ~ 0.471; +-0.02 for sampling.
    expect(sd).toBeGreaterThan(0.45);
    expect(sd).toBeLessThan(0.5);
  });
  it('flipWidth mirrors every row along W', () => {
    const x = Float32Array.from({ length: 2 * 3 }, (_, k) => k); // [1, 1, 2, 3]
    expect(Array.from(flipWidth(x, [1, 1, 2, 3]))).toEqual([2, 1, 0, 5, 4, 3]);
  });
});

describe('images', () => {
  it('decodes PNG and JPEG, preprocesses by the contract into NCHW RGB', async () => {
    const im = join(dir, 'imgs');
    mkdirSync(im);
    const png = new PNG({ width: 4, height: 4 });
    for (let p = 0; p < 16; p++) png.data.set([255, 0, 128, 255], p * 4);
    png.data.set([10, 20, 30, 255], 4 * 5); // pixel (y=1, x=1)
    writeFileSync(join(im, 'a.png'), PNG.sync.write(png));
    const rgba = Buffer.alloc(8 * 8 * 4);
    for (let p = 0; p < 64; p++) rgba.set([200, 100, 50, 255], p * 4);
    writeFileSync(join(im, 'b.jpg'), jpeg.encode({ data: rgba, width: 8, height: 8 }, 100).data);
    writeFileSync(join(im, 'notes.txt'), 'ignored');
    await expect(loadImages(im, 4, 4)).rejects.toThrow(/b\.jpg is 8x8, the model takes aligned 4x4 faces/);
    const jpg4 = Buffer.alloc(4 * 4 * 4);
    for (let p = 0; p < 16; p++) jpg4.set([200, 100, 50, 255], p * 4);
    writeFileSync(join(im, 'b.jpg'), jpeg.encode({ data: jpg4, width: 4, height: 4 }, 100).data);
    const r = await loadImages(im, 4, 4);
    expect(r.names).toEqual(['a.png', 'b.jpg']);
    const x = r.inputs;
    // a.png: R plane = (255 - 127.5) / 127.5 = 1, G = -1, B = (128 - 127.5) / 127.5 = 1/255; pixel 5 = (10, 20, 30).
    expect(x[0]).toBe(1);
    expect(x[16]).toBe(-1);
    expect(x[32]).toBeCloseTo(0.5 / 127.5, 7);
    expect(x[5]).toBeCloseTo((10 - 127.5) / 127.5, 7);
    expect(x[16 + 5]).toBeCloseTo((20 - 127.5) / 127.5, 7);
    expect(x[32 + 5]).toBeCloseTo((30 - 127.5) / 127.5, 7);
    // b.jpg at quality 100: a flat colour decodes within 2 levels (2 / 127.5 = 0.016).
    expect(Math.abs(x[48]! - (200 - 127.5) / 127.5)).toBeLessThan(0.016);
    expect(Math.abs(x[48 + 16]! - (100 - 127.5) / 127.5)).toBeLessThan(0.016);
    expect(Math.abs(x[48 + 32]! - (50 - 127.5) / 127.5)).toBeLessThan(0.016);
    writeFileSync(join(im, 'c.png'), Buffer.from('not a png'));
    await expect(loadImages(im, 4, 4)).rejects.toThrow(/c\.png does not decode/);
    await expect(loadImages(join(dir, 'nothing-here'), 4, 4)).rejects.toThrow(InputError);
  });
});

describe('references from the original model (onnxruntime-node cpu, optimizations off)', () => {
  it('synthetic: warns, and matches a second run bit for bit', async () => {
    const warnings: string[] = [];
    const log = { verbose: false, info() {}, debug() {}, warn: (m: string) => warnings.push(m), step: () => () => {}, progress: () => ({ tick() {}, done() {} }) };
    const c = contract(128, 112, 112);
    const a = await loadReferences({ originalModel: SFNET10, contract: c, syntheticCount: 4, log });
    const b = await loadReferences({ originalModel: SFNET10, contract: c, syntheticCount: 4 });
    expect(a.kind).toBe('synthetic');
    expect(warnings.some((w) => /synthetic inputs test the arithmetic/.test(w))).toBe(true);
    expect(a.warnings).toHaveLength(1);
    expect(a.dims).toEqual([4, 3, 112, 112]);
    expect(Buffer.from(a.embeddings.buffer).equals(Buffer.from(b.embeddings.buffer))).toBe(true);
    expect(a.flipEmbeddings).toHaveLength(4 * 128);
  });

  it('the original model reproduces the PyTorch reference embeddings', async () => {
    // The fixture's embeddings are PyTorch's; our cut of the original ONNX graph on ORT (optimizations
    // off) must agree to float32 re-association error: |diff| <= 1e-5 on embeddings of norm ~10.
    const npz = await loadReferences({ reference: SFNET10_NPZ, contract: contract(128, 112, 112) });
    const im = join(dir, 'x.npy'), em = join(dir, 'e.npy');
    writeNpy(im, { shape: [...npz.dims], data: npz.inputs.slice() });
    writeNpy(em, { shape: [npz.dims[0], 128], data: npz.embeddings.slice() });
    const { openOriginal } = await import('../../src/data/references.js');
    const r = await openOriginal(SFNET10);
    const out = await r.run(npz.inputs.slice(0, 4 * 3 * 112 * 112), [4, 3, 112, 112]);
    await r.close();
    let maxDiff = 0;
    for (let k = 0; k < out.length; k++) maxDiff = Math.max(maxDiff, Math.abs(out[k]! - npz.embeddings[k]!));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(r.embedding).toBe('/backbone/fc/Gemm_output_0');
    void readFileSync;
  });

  it('limitReferences keeps pairs of both kinds', async () => {
    const r = await loadReferences({ reference: SFNET10_NPZ, contract: contract(128, 112, 112) });
    const s = limitReferences(r, 8);
    expect(s.dims[0]).toBe(8);
    expect(s.issame!.includes(1)).toBe(true);
    expect(s.issame!.includes(0)).toBe(true);
    for (const i of s.pairs!) expect(i).toBeLessThan(8);
  });
});
