import { describe, expect, it } from 'vitest';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { calibrate, HIST_BINS, klThresholdBins } from '../../src/quantize/calibrate.js';

/** x:[N, 1000] -> Relu -> y (graph output) */
function reluModel(): Model {
  const m = new Model();
  const g = m.graph;
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: ['N', 1000] });
  g.inputs.push(x);
  const y = g.addNode({ op: 'Relu', inputs: [x], outputs: ['y'] }).output(0);
  y.dtype = DType.FLOAT;
  y.shape = ['N', 1000];
  const z = g.addNode({ op: 'Neg', inputs: [y], outputs: ['z'] }).output(0);
  z.dtype = DType.FLOAT;
  g.outputs.push(z);
  return m;
}

describe('calibration', () => {
  // Rows: 4 x 1000 values: -500..499 shuffled deterministically, plus one outlier 5000 in the last row.
  const data = new Float32Array(4000);
  for (let i = 0; i < 4000; i++) data[i] = ((i * 7919) % 1000) - 500;
  data[3999] = 5000;
  const batches = { data, dims: [4, 1000] };

  it('minmax: the observed extremes of every tensor, measured on onnxruntime', async () => {
    const r = await calibrate(reluModel(), ['x', 'y'], batches, { method: 'minmax', batch: 3 });
    expect(r.get('x')).toEqual({ lo: -500, hi: 5000, min: -500, max: 5000 });
    expect(r.get('y')).toEqual({ lo: 0, hi: 5000, min: 0, max: 5000 });
  });

  it('percentile: cuts the tails at p (within one histogram bin)', async () => {
    const r = await calibrate(reluModel(), ['x'], batches, { method: 'percentile', percentile: 90 });
    const x = r.get('x')!;
    const bin = 5500 / HIST_BINS; // the histogram spans [-500, 5000]
    // 10% of 4000 values lie below -400 and 10% above ~399.
    expect(Math.abs(x.lo - -400)).toBeLessThanOrEqual(bin);
    expect(Math.abs(x.hi - 399)).toBeLessThanOrEqual(2 * bin);
    expect(x.min).toBe(-500);
    expect(x.max).toBe(5000);
  });

  it('entropy: clips a lone outlier, keeps the body of the distribution', async () => {
    const r = await calibrate(reluModel(), ['y'], batches, { method: 'entropy' });
    const y = r.get('y')!;
    expect(y.lo).toBe(0);
    expect(y.hi).toBeGreaterThan(450); // the uniform body reaches 499
    expect(y.hi).toBeLessThan(1000); // the outlier at 5000 is clipped
  });

  it('klThresholdBins: keeps everything for a distribution without a tail, cuts a far tail', () => {
    const flat = new Float64Array(HIST_BINS).fill(10);
    expect(klThresholdBins(flat, 128)).toBe(HIST_BINS);
    const tail = new Float64Array(HIST_BINS);
    for (let i = 0; i < 400; i++) tail[i] = 1000 * Math.exp(-i / 80);
    tail[2000] = 1;
    const t = klThresholdBins(tail, 128);
    expect(t).toBeGreaterThanOrEqual(128);
    expect(t).toBeLessThan(2000);
  });
});
