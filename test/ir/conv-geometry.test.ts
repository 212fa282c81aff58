import { describe, expect, it } from 'vitest';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { attr } from '../../src/ir/attribute.js';
import { TensorData } from '../../src/ir/tensor.js';
import { runEmbeddings } from '../../src/data/ort-run.js';
import { sameOutput, samePads, type SameMode } from '../../src/ir/conv-geometry.js';
import { seededFloats } from '../helpers/ort.js';

/** A 1-channel k x k Conv (seeded weights) over [1, 1, h, w], with auto_pad `mode` or with explicit pads. */
function conv(h: number, w: number, k: number, s: number, d: number, pad: SameMode | readonly number[]): Model {
  const m = new Model();
  const g = m.graph;
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: [1, 1, h, w] });
  g.inputs.push(x);
  const attrs = { kernel_shape: attr.ints([k, k]), strides: attr.ints([s, s]), dilations: attr.ints([d, d]), ...(typeof pad === 'string' ? { auto_pad: attr.string(pad) } : { pads: attr.ints([...pad]) }) };
  const wt = g.addConstant('w', TensorData.float32([1, 1, k, k], seededFloats(k * k, 7)));
  const [y] = g.addNode({ op: 'Conv', inputs: [x, wt], attrs, outputs: ['y'], name: 'conv' }).outputs;
  y!.dtype = DType.FLOAT;
  g.outputs.push(y!);
  return m;
}

describe('SAME padding: one definition', () => {
  // Expected values: onnxruntime's own auto_pad SAME_* against explicit pads from samePads
  // (the weights are not symmetric, so a pad on the wrong side changes border values).
  it.each([
    [7, 8, 3, 2, 1, 'SAME_UPPER'],
    [7, 8, 3, 2, 1, 'SAME_LOWER'],
    [9, 6, 2, 1, 1, 'SAME_UPPER'],
    [9, 6, 2, 1, 1, 'SAME_LOWER'],
    [10, 11, 5, 3, 1, 'SAME_UPPER'],
    [10, 11, 5, 3, 1, 'SAME_LOWER'],
  ] as const)('in %i x %i, kernel %i, stride %i, dilation %i, %s: the pads onnxruntime uses', async (h, w, k, s, d, mode) => {
    const x = { data: seededFloats(h * w, h * 31 + w), dims: [1, 1, h, w] };
    const [t, b] = samePads(h, k, s, d, mode), [l, r] = samePads(w, k, s, d, mode);
    const want = await runEmbeddings(conv(h, w, k, s, d, mode), x, 'y');
    const got = await runEmbeddings(conv(h, w, k, s, d, [t, l, b, r]), x, 'y');
    expect(want.length).toBe(sameOutput(h, s) * sameOutput(w, s));
    expect(got).toEqual(want);
  });

  it('the odd pixel goes at the end for SAME_UPPER, at the start for SAME_LOWER', () => {
    expect(samePads(7, 3, 2, 1, 'SAME_UPPER')).toEqual([1, 1]);
    expect(samePads(8, 3, 2, 1, 'SAME_UPPER')).toEqual([0, 1]);
    expect(samePads(8, 3, 2, 1, 'SAME_LOWER')).toEqual([1, 0]);
    expect(samePads(4, 2, 2, 1, 'SAME_UPPER')).toEqual([0, 0]);
    // Dilation (onnxruntime refuses it with auto_pad SAME, so from the ONNX formula): a 3-tap
    // kernel at dilation 2 spans 5; ceil(10 / 2) = 5 outputs need (5 - 1) * 2 + 5 - 10 = 3.
    expect(samePads(10, 3, 2, 2, 'SAME_UPPER')).toEqual([1, 2]);
  });
});
