/**
 * The streamed data path: lazy (file and computed) tensors read by range and by
 * chunk, the chunked fold arithmetic against the whole-tensor float64 version it
 * replaced (bit for bit, across chunk boundaries and for every foldable dtype),
 * and the digests saveOnnx remembers for the manifest.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_BYTES, TensorData } from '../../src/ir/tensor.js';
import { DType } from '../../src/ir/dtype.js';
import { scaledWeight, visitWeight } from '../../src/passes/fold-weights.js';
import { fromF64, readF64 } from '../../src/passes/util.js';
import { knownDigest, rememberDigest } from '../../src/file-digests.js';
import { saveOnnx } from '../../src/onnx/export.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mulberry32 } from '../../src/data/references.js';

/** A float tensor left in a file (as the loader leaves large raw_data), with `pad` bytes before it. */
function fileTensor(dir: string, dtype: number, dims: number[], bytes: Uint8Array, pad = 13): TensorData {
  const file = join(dir, `t-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(file, Buffer.concat([Buffer.alloc(pad, 0xee), bytes, Buffer.alloc(7, 0xee)]));
  return new TensorData(dtype, dims, { kind: 'file', ext: { file, location: 't.bin', offset: pad, length: bytes.byteLength } });
}

function randomFloats(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * 3);
}

/** The whole-tensor version the chunked fold replaced: readF64, multiply, fromF64. */
function wholeTensorScale(t: TensorData, s: Float64Array, inner: number, period: number): Uint8Array {
  const v = readF64(t);
  for (let e = 0; e < v.length; e++) v[e]! *= s[Math.floor(e / inner) % period]!;
  return fromF64(t.dtype, t.dims, v).rawBytes();
}

describe('streamed tensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf2-stream-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('readInto and chunks give the bytes of rawBytes for file, in-memory and computed tensors', () => {
    const n = (CHUNK_BYTES / 4) * 2 + 1234; // more than two chunks, a ragged last one
    const vals = randomFloats(n, 7);
    const bytes = new Uint8Array(vals.buffer);
    const f = fileTensor(dir, DType.FLOAT, [n], bytes);
    const m = TensorData.float32([n], vals);
    const c = scaledWeight(f, { s: Float64Array.of(1), inner: 1, period: 1 }); // x * 1 is exact: same bytes
    for (const t of [f, m, c]) {
      expect(Buffer.compare(t.rawBytes(), bytes)).toBe(0);
      const part = new Uint8Array(4000);
      t.readInto(CHUNK_BYTES - 2000, part); // straddles the first chunk boundary
      expect(Buffer.compare(part, bytes.subarray(CHUNK_BYTES - 2000, CHUNK_BYTES + 2000))).toBe(0);
      const seen: number[] = [];
      const joined = new Uint8Array(bytes.byteLength);
      t.chunks((chunk, at) => {
        seen.push(at);
        joined.set(chunk, at);
      }, 1 << 18);
      expect(seen).toEqual(Array.from({ length: Math.ceil(bytes.byteLength / (1 << 18)) }, (_, i) => i << 18));
      expect(Buffer.compare(joined, bytes)).toBe(0);
      expect(t.digest()).toBe(TensorData.float32([n], vals).digest());
    }
    expect(() => f.readInto(bytes.byteLength - 4, new Uint8Array(8))).toThrow(RangeError);
  });

  it('a file tensor whose file was truncated is an InputError naming the file', () => {
    const vals = randomFloats(1000, 3);
    const f = fileTensor(dir, DType.FLOAT, [1000], new Uint8Array(vals.buffer));
    const file = (f.source as { ext: { file: string } }).ext.file;
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    expect(() => f.rawBytes()).toThrow(/ends at byte/);
  });

  it('the chunked fold is bit-identical to the whole-tensor float64 fold (rows, columns, chained, every float dtype)', () => {
    // 640 rows of 1100 float32 = 2.8 MB: rows straddle the 1 MB chunk boundaries.
    const rows = 640, cols = 1100;
    const vals = randomFloats(rows * cols, 11);
    const sRow = Float64Array.from(randomFloats(rows, 12), (x) => x / 7);
    const sCol = Float64Array.from(randomFloats(cols, 13), (x) => x * 5);
    for (const dtype of [DType.FLOAT, DType.FLOAT16, DType.BFLOAT16, DType.DOUBLE]) {
      const src = fromF64(dtype, [rows, cols], Float64Array.from(vals));
      const f = fileTensor(dir, dtype, [rows, cols], src.rawBytes());
      const byRow = scaledWeight(f, { s: sRow, inner: cols, period: rows });
      expect(Buffer.compare(byRow.rawBytes(), wholeTensorScale(src, sRow, cols, rows))).toBe(0);
      const byCol = scaledWeight(f, { s: sCol, inner: 1, period: cols });
      expect(Buffer.compare(byCol.rawBytes(), wholeTensorScale(src, sCol, 1, cols))).toBe(0);
      // A weight folded twice (BN before and after a Gemm) rounds once per fold, as before.
      const twice = scaledWeight(byRow, { s: sCol, inner: 1, period: cols });
      const ref = wholeTensorScale(TensorData.fromBytes(dtype, [rows, cols], wholeTensorScale(src, sRow, cols, rows)), sCol, 1, cols);
      expect(Buffer.compare(twice.rawBytes(), ref)).toBe(0);
      // The lazy tensor reads its source only when read: a byte range costs that range.
      const part = new Uint8Array(64);
      twice.readInto(CHUNK_BYTES + 64, part);
      expect(Buffer.compare(part, ref.subarray(CHUNK_BYTES + 64, CHUNK_BYTES + 128))).toBe(0);
    }
  });

  it('visitWeight walks every element once, in memory order, widened exactly', () => {
    const n = (CHUNK_BYTES / 2) * 3 + 5; // float16: three chunks and a bit
    const src = fromF64(DType.FLOAT16, [n], Float64Array.from(randomFloats(n, 21)));
    const f = fileTensor(dir, DType.FLOAT16, [n], src.rawBytes());
    const want = readF64(src);
    let next = 0;
    let mismatches = 0;
    visitWeight(f, (first, values) => {
      expect(first).toBe(next);
      for (let i = 0; i < values.length; i++) if (values[i] !== want[first + i]) mismatches++;
      next += values.length;
    });
    expect(next).toBe(n);
    expect(mismatches).toBe(0);
  });

  it('saveOnnx remembers the sha256 of what it wrote, and forgets it when the file changes', () => {
    const m = loadOnnx(join(FIXTURES, 'iresnet18.preserve.onnx'));
    const out = join(dir, 'm.onnx');
    saveOnnx(m, out);
    const real = createHash('sha256').update(readFileSync(out)).digest('hex');
    expect(knownDigest(out)).toBe(real);
    appendFileSync(out, 'x');
    expect(knownDigest(out)).toBeUndefined();
    rememberDigest(out, 'f'.repeat(64));
    expect(knownDigest(out)).toBe('f'.repeat(64));
    rmSync(out);
    expect(knownDigest(out)).toBeUndefined();
  });
});
