import { describe, expect, it } from 'vitest';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { attr } from '../../src/ir/attribute.js';
import type { Dim } from '../../src/ir/value.js';
import { forEachBatch, openRunner, runEmbeddings } from '../../src/data/ort-run.js';
import { paddedBatches, realRows, runPaddedBatches } from '../../src/data/padded-batches.js';
import { seededFloats } from '../helpers/ort.js';

/** y = Softmax(x, axis 1), r = Relu(x): row-independent, so any batching gives the same rows. */
function rowwise(batch: Dim): Model {
  const m = new Model();
  const g = m.graph;
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: [batch, 5] });
  g.inputs.push(x);
  const [y] = g.addNode({ op: 'Softmax', inputs: [x], attrs: { axis: attr.int(1) }, outputs: ['y'], name: 'softmax' }).outputs;
  const [r] = g.addNode({ op: 'Relu', inputs: [x], attrs: {}, outputs: ['r'], name: 'relu' }).outputs;
  for (const v of [y!, r!]) {
    v.dtype = DType.FLOAT;
    v.shape = [batch, 5];
    g.outputs.push(v);
  }
  return m;
}

describe('padded batches: one batching rule for every model run', () => {
  const n = 7; // not a multiple of the fixed batch 3
  const x = seededFloats(n * 5, 12);

  it('cuts rows into runs of the batch, the last one zero-padded when the batch is fixed', () => {
    const runs = [...paddedBatches(x, n, 3, true)];
    expect(runs.map((b) => [b.start, b.rows, b.size])).toEqual([[0, 3, 3], [3, 3, 3], [6, 1, 3]]);
    expect([...runs[2]!.data.subarray(0, 5)]).toEqual([...x.subarray(30, 35)]);
    expect(runs[2]!.data.subarray(5).every((v) => v === 0)).toBe(true);
    expect([...paddedBatches(x, n, 3, false)].map((b) => b.size)).toEqual([3, 3, 1]);
    expect(realRows(Float32Array.of(1, 2, 3, 4, 5, 6), 1, 3)).toEqual(Float32Array.of(1, 2));
  });

  it('runPaddedBatches checks each run returns [size, D]', async () => {
    await expect(runPaddedBatches(x, n, 3, true, async (_d, size) => new Float32Array(size * 2 + 1))).rejects.toThrow(/returned 7 values for 3 rows/);
  });

  // The quantizer's runs gave a fixed-batch model the remainder rows as they were ([1, 5] for a
  // [3, 5] input): onnxruntime refused them ("Got invalid dimensions"). Expected values: the same
  // graph with a symbolic batch, all rows in one run, on onnxruntime.
  it('the quantizer runs a fixed-batch model over a row count the batch does not divide', async () => {
    const data = { data: x, dims: [n, 5] };
    const want = { y: await runEmbeddings(rowwise('N'), data, 'y', { batch: n }), r: await runEmbeddings(rowwise('N'), data, 'r', { batch: n }) };
    expect(want.y.length).toBe(n * 5);
    const fixed = rowwise(3);
    expect(await runEmbeddings(fixed, data, 'y')).toEqual(want.y);
    const rows: number[] = [];
    const got: Float32Array[] = [];
    await forEachBatch(fixed, data, ['y', 'r'], (k, v) => {
      rows.push(k);
      expect(v.get('y')!.length).toBe(k * 5);
      got.push(v.get('r')!.slice());
    });
    expect(rows).toEqual([3, 3, 1]);
    expect(Float32Array.from(got.flatMap((g) => [...g]))).toEqual(want.r);
    const runner = await openRunner(fixed);
    try {
      expect(await runner.run(data, 'y')).toEqual(want.y);
    } finally {
      await runner.close();
    }
  });
});
