/**
 * Streamed quantization (src/quantize/streamed.ts) against the whole-tensor
 * versions it replaces, bit for bit, on weights larger than one chunk and read
 * from a file as the loader leaves them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_BYTES, TensorData } from '../../src/ir/tensor.js';
import { DType } from '../../src/ir/dtype.js';
import { absMaxOf, float16Of, int8PerChannelOf } from '../../src/quantize/streamed.js';
import { absMax, quantizeWeightPerChannel, roundToFloat16, toFloat16 } from '../../src/quantize/schemes.js';
import { mulberry32 } from '../../src/data/references.js';

describe('streamed quantization', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf2-q-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // [96, 40, 3, 3] float32 x 8 copies = 1.3 MB: channels straddle the 1 MB chunk boundary.
  const dims = [96 * 8, 40, 3, 3];
  const n = dims.reduce((a, b) => a * b, 1);
  const r = mulberry32(5);
  const vals = Float32Array.from({ length: n }, (_, i) => (r() * 2 - 1) * (1 + (i % 97)) * 1e-2);
  vals[12345] = 70000; // beyond float16's range
  const file = join(dir, 'w.bin');
  writeFileSync(file, Buffer.concat([Buffer.alloc(5), Buffer.from(vals.buffer)]));
  const lazy = new TensorData(DType.FLOAT, dims, { kind: 'file', ext: { file, location: 'w.bin', offset: 5, length: n * 4 } });
  expect(n * 4).toBeGreaterThan(CHUNK_BYTES);

  it('float16Of and its emulation equal toFloat16 / roundToFloat16 of the whole tensor', () => {
    expect(Buffer.compare(float16Of(lazy, false).rawBytes(), Buffer.from(toFloat16(vals).buffer))).toBe(0);
    expect(Buffer.compare(float16Of(lazy, true).rawBytes(), Buffer.from(roundToFloat16(vals).buffer))).toBe(0);
    expect(absMaxOf(lazy)).toBe(absMax(vals));
  });

  it('int8PerChannelOf equals quantizeWeightPerChannel on every axis', () => {
    for (const axis of [0, 1, 3]) {
      const want = quantizeWeightPerChannel({ values: vals, dims }, axis);
      const got = int8PerChannelOf(lazy, axis);
      expect(Buffer.compare(Buffer.from(got.scales.buffer), Buffer.from(want.scales.buffer))).toBe(0);
      expect(Buffer.compare(got.data.rawBytes(), Buffer.from(want.data.buffer))).toBe(0);
      const part = new Uint8Array(100);
      got.data.readInto(CHUNK_BYTES / 4 - 50, part); // a range from the middle: only that range is read and quantized
      expect(Buffer.compare(part, Buffer.from(want.data.buffer, CHUNK_BYTES / 4 - 50, 100))).toBe(0);
    }
  });
});
