import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { attr } from '../../src/ir/attribute.js';
import { cloneModel } from '../../src/ir/clone.js';
import { DType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';
import { TensorData } from '../../src/ir/tensor.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import type { PassOptions, PassReport } from '../../src/passes/pass.js';
import { shapes } from '../../src/passes/shapes.js';
import { rng, runOrt, seededFloats } from '../helpers/ort.js';
import { conv, input, linear, newModel } from './graphs.js';

const ctx = { log: createLogger({ quiet: true }) };

function shape(m: Model, options: PassOptions = {}): PassReport {
  const r = shapes.run(m, options, ctx);
  m.graph.verify();
  return r;
}

/** input [batch0, 3, h, w] -> Conv/2 -> Relu -> Reshape(flat) -> Gemm -> Reshape([b, 5]) */
function convNet(batch: number | string, flat: number[], hw: [number | string, number | string] = [8, 8]): Model {
  const r = rng(3);
  const { m, g } = newModel(13);
  const x = input(g, 'input', [batch, 3, ...hw]);
  const c = conv(g, r, x, { cin: 3, cout: 4, k: 3, pad: 1, stride: 2, bias: true }).y;
  const relu = g.addNode({ op: 'Relu', name: 'relu', inputs: [c], outputs: ['relu_out'] }).outputs[0]!;
  const f = g.addNode({ op: 'Reshape', name: 'flatten', inputs: [relu, g.addConstant('flat_shape', TensorData.int64([flat.length], flat))], outputs: ['flat'] }).outputs[0]!;
  const fc = linear(g, r, f, { op: 'Gemm', transB: true, k: 64, nOut: 5, bias: true });
  const out = g.addNode({ op: 'Reshape', name: 'out_reshape', inputs: [fc, g.addConstant('out_shape', TensorData.int64([2], [typeof batch === 'number' ? batch : -1, 5]))], outputs: ['embedding'] }).outputs[0]!;
  g.outputs = [out];
  return m;
}

describe('shapes', () => {
  it('makes a fixed batch symbolic, rewrites Reshapes that hard-code it, annotates every value', async () => {
    const m = convNet(1, [1, -1]);
    const original = cloneModel(m);
    const r = shape(m);
    const g = m.graph;
    expect(r.changed).toBe(true);
    expect(r.counts).toMatchObject({ inputFixed: 1, batchMadeSymbolic: 1, reshapesFixed: 2, unknown: 0 });
    expect(r.skipped).toEqual([]);
    expect(r.details).toMatchObject({ batchSymbol: 'N', input: { name: 'input', shape: ['N', 3, 8, 8] }, inputSizeSource: 'model' });
    const target = (name: string) => [...g.nodes.find((n) => n.name === name)!.inputs[1]!.const!.bigints()];
    expect(target('flatten')).toEqual([-1n, 64n]); // [1, -1] -> [-1, D], D from the static dims
    expect(target('out_reshape')).toEqual([-1n, 5n]);
    for (const v of g.allValues()) {
      if (v.const) continue;
      expect(v.dtype, v.name).toBe(DType.FLOAT);
      expect(v.shape?.[0], v.name).toBe('N');
      expect(v.shape!.every((d) => d !== null), v.name).toBe(true);
    }
    expect(g.outputs[0]!.shape).toEqual(['N', 5]);
    // numeric: one batch of 3 equals three runs of the batch-1 original. MLAS may pick another
    // GEMM kernel for M = 3 than for M = 1, so the K = 64 dot products may round differently:
    // |diff| <= 2 * 64 * 2^-24 * sum|w*x| with |w| <= 1/8, |x| <= ~3 here, i.e. < 1e-5.
    const data = seededFloats(3 * 3 * 64, 4);
    const batched = await runOrt(m, { input: { data, dims: [3, 3, 8, 8] } });
    for (let i = 0; i < 3; i++) {
      const one = await runOrt(original, { input: { data: data.subarray(i * 192, (i + 1) * 192), dims: [1, 3, 8, 8] } });
      const row = batched.embedding!.subarray(i * 5, (i + 1) * 5);
      for (let j = 0; j < 5; j++) expect(Math.abs(row[j]! - one.embedding![j]!)).toBeLessThan(1e-5);
    }
    // idempotent
    const bytes = encodeOnnx(m);
    expect(shape(m).changed).toBe(false);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('uses 0 (copy N) where the flattened width cannot be computed', () => {
    const m = convNet(2, [2, 4, -1]);
    // the Gemm now sees a 3-D input; only the reshape target matters here
    m.graph.nodes.find((n) => n.name === 'flatten')!.inputs[0]!.shape = undefined;
    const r = shape(m, { batchSymbol: 'B' });
    const f = m.graph.nodes.find((n) => n.name === 'flatten')!;
    expect([...f.inputs[1]!.const!.bigints()]).toEqual([-1n, 4n, 16n]);
    expect(r.details).toMatchObject({ batchSymbol: 'B' });
  });

  it('keeps an exporter symbol and changes nothing on a dynamic, fully annotated model', () => {
    const m = convNet('batch', [0, -1]);
    shape(m); // first run annotates
    const bytes = encodeOnnx(m);
    const r = shape(m);
    expect(r.changed).toBe(false);
    expect(r.details).toMatchObject({ batchSymbol: 'batch' });
    expect(m.graph.outputs[0]!.shape).toEqual(['batch', 5]);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('fills symbolic H and W from options, else 112 x 112, and says so', () => {
    const m1 = convNet('N', [0, -1], ['H', 'W']);
    const r1 = shape(m1);
    expect(m1.graph.inputs[0]!.shape).toEqual(['N', 3, 112, 112]);
    expect(r1.details).toMatchObject({ inputSizeSource: 'default' });
    expect(r1.skipped[0]).toEqual({ node: 'input', reason: expect.stringMatching(/assumed 112 x 112/) });
    const m2 = convNet('N', [0, -1], ['H', 'W']);
    const r2 = shape(m2, { inputSize: [8, 8] });
    expect(m2.graph.inputs[0]!.shape).toEqual(['N', 3, 8, 8]);
    expect(r2.details).toMatchObject({ inputSizeSource: 'option' });
    expect(m2.graph.outputs[0]!.shape).toEqual(['N', 5]);
  });

  it('reports values whose shape stays unknown, and leaves models with two inputs alone', () => {
    const { m, g } = newModel(13);
    const x = input(g, 'x', ['N', 3, 4, 4]);
    const y = input(g, 'y', ['N', 3, 4, 4]);
    const custom = g.addNode({ op: 'Mystery', domain: 'com.example', name: 'mystery', inputs: [x], outputs: ['m_out'] }).outputs[0]!;
    const add = g.addNode({ op: 'Add', name: 'add', inputs: [custom, y], outputs: ['sum'] }).outputs[0]!;
    const relu = g.addNode({ op: 'Relu', name: 'relu', inputs: [add], outputs: ['out'], attrs: {} }).outputs[0]!;
    g.outputs = [relu];
    void attr;
    const r = shape(m);
    expect(r.counts.inputFixed).toBe(0);
    expect(r.skipped).toEqual([
      { node: 'x', reason: 'the model has 2 inputs; only a single image input is fixed to [N, 3, H, W]' },
      { node: 'y', reason: 'the model has 2 inputs; only a single image input is fixed to [N, 3, H, W]' },
      { node: 'm_out', reason: 'shape or dtype unknown after inference (Mystery has no shape rule)' },
      { node: 'sum', reason: expect.stringMatching(/^shape or dtype unknown after inference \(Add add: its inputs' shapes are unknown/) },
      { node: 'out', reason: expect.stringMatching(/^shape or dtype unknown after inference \(Relu relu/) },
    ]);
    expect(r.counts.unknown).toBe(3);
  });
});
