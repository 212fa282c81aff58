import { describe, expect, it } from 'vitest';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { TensorData } from '../../src/ir/tensor.js';
import { attr } from '../../src/ir/attribute.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { convertToFloat16 } from '../../src/quantize/fp16.js';
import { quantizeFloat16 } from '../../src/quantize/index.js';
import { runEmbeddings } from '../../src/data/ort-run.js';
import { checkEmbeddings, rowCosines } from '../../src/quantize/metric.js';
import { FIXTURES, fixtureArchs, loadReference, optimizedModel } from './helpers.js';
import { join } from 'node:path';

const archs = fixtureArchs();

/** Structural invariants of a float16 model: one Cast at each end, no Cast reading a Cast. */
function expectFloat16Structure(m: Model): void {
  const g = m.graph;
  g.verify();
  const x = g.realInputs()[0]!;
  const y = g.outputs[0]!;
  expect(x.dtype).toBe(DType.FLOAT);
  expect(y.dtype).toBe(DType.FLOAT);
  const inCasts = x.consumers.filter((n) => n.op === 'Cast');
  expect(inCasts.map((n) => n.attrInt('to'))).toEqual([DType.FLOAT16]);
  expect(x.consumers.length).toBe(1);
  expect(y.producer!.op).toBe('Cast');
  expect(y.producer!.attrInt('to')).toBe(DType.FLOAT);
  for (const n of g.nodes) if (n.op === 'Cast') expect(n.inputs[0]!.producer?.op).not.toBe('Cast');
}

describe.skipIf(archs.length === 0)('float16 on the fixtures', () => {
  it.each(archs)('%s: structure, half the weight bytes, deterministic bytes', async (arch) => {
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const a = convertToFloat16(m);
    expectFloat16Structure(a.model);
    const convs = a.model.graph.nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm');
    expect(convs.length).toBeGreaterThan(0);
    for (const n of convs) expect(n.inputs[1]!.const!.dtype).toBe(DType.FLOAT16);
    expect(a.report.weights.bytesAfter * 2).toBe(a.report.weights.bytesBefore);
    const casts = a.model.graph.nodes.filter((n) => n.op === 'Cast').length;
    expect(a.report.casts).toBe(casts);
    if (a.report.keptFloat32.length === 0) expect(casts).toBe(2);
    const b = convertToFloat16(m);
    expect(Buffer.from(encodeOnnx(a.model)).equals(Buffer.from(encodeOnnx(b.model)))).toBe(true);
  });

  it.each(archs)('%s: min cosine >= 0.9995 and no decision flips against PyTorch, on onnxruntime cpu', async (arch) => {
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const { model, details } = await quantizeFloat16(m, { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs });
    expect(details.pass).toBe(true);
    expect(details.result.minCosine).toBeGreaterThanOrEqual(0.9995);
    expect(details.result.flips).toBe(0);
    // The emulation rounds activations too, so it can only be further from the reference.
    expect(details.emulated!.minCosine).toBeGreaterThanOrEqual(0.9995);
    expect(details.emulated!.flips).toBe(0);
    expect(details.inputs.pairs).toBe(ref.pairs.issame.length);
    // Independent re-measurement of the written model.
    const e = await runEmbeddings(model, { data: ref.inputs, dims: ref.inputDims }, model.graph.outputs[0]!.name);
    expect(checkEmbeddings(ref.embeddings, e, ref.dim, { minCosine: 0.9995, maxFlips: 0 }, ref.pairs).minCosine).toBe(details.result.minCosine);
  });

  it('sensitivity: a stricter threshold keeps the worst measured layers in float32 until it holds', async () => {
    const arch = archs.includes('sfnet10') ? 'sfnet10' : archs[0]!; // the smallest: ~20 measured models
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const inputs = { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs };
    const loose = await quantizeFloat16(m, inputs);
    // Between the all-float16 emulation and float32: some layers must stay float32.
    const strict = (1 - loose.details.emulated!.minCosine) / 3 + loose.details.emulated!.minCosine;
    const { details } = await quantizeFloat16(m, inputs, { thresholds: { minCosine: strict, maxFlips: 0 } });
    expect(details.sensitivity.measured).toBe(true);
    const kept = details.higherPrecision.filter((h) => h.why.startsWith('sensitivity'));
    expect(kept.length).toBeGreaterThan(0);
    expect(details.emulated!.minCosine).toBeGreaterThanOrEqual(strict);
    expect(details.pass).toBe(true);
    // The first layer kept is the worst one measured alone.
    expect(kept.map((k) => k.node)).toContain(details.sensitivity.worst[0]!.node);
  });
});

describe('float16 block list', () => {
  /** x -> Conv -> Relu -> Flatten -> ReduceL2 -> Div(norm) -> Pow(3) -> Softmax -> y */
  function headLike(): Model {
    const m = new Model();
    const g = m.graph;
    const x = g.addValue('x', { dtype: DType.FLOAT, shape: ['N', 2, 4, 4] });
    g.inputs.push(x);
    const w = g.addConstant('w', TensorData.float32([3, 2, 3, 3], Float32Array.from({ length: 54 }, (_, i) => Math.cos(i) * 0.4)));
    const n = (op: string, ins: (typeof x)[], attrs = {}) => g.addNode({ op, inputs: ins, attrs, name: op }).output(0);
    const c = n('Conv', [x, w], { pads: attr.ints([1, 1, 1, 1]) });
    const f = n('Flatten', [n('Relu', [c])]);
    const norm = n('ReduceL2', [f], { axes: attr.ints([1]), keepdims: attr.int(1) });
    const d = n('Div', [f, norm]);
    const p = n('Pow', [d, g.addConstant('three', TensorData.float32([], [3]))]);
    const y = n('Softmax', [p], { axis: attr.int(1) });
    g.outputs.push(y);
    return m;
  }

  it('keeps ReduceL2, Pow and Softmax in float32 and says why; the numbers stay close', async () => {
    const m = headLike();
    const { model, report } = convertToFloat16(m);
    const byOp = new Map(report.keptFloat32.map((k) => [k.op, k]));
    for (const op of ['ReduceL2', 'Pow', 'Softmax']) {
      expect(byOp.get(op)?.category).toBe('block-list');
      expect(byOp.get(op)?.reason).toMatch(/float16/);
    }
    expect(model.graph.nodes.find((n) => n.op === 'Conv')!.inputs[1]!.const!.dtype).toBe(DType.FLOAT16);
    // Div reads a float16 numerator and a float32 norm: one Cast brings the norm down to float16.
    const div = model.graph.nodes.find((n) => n.op === 'Div')!;
    expect(div.inputs.map((v) => v!.dtype)).toEqual([DType.FLOAT16, DType.FLOAT16]);
    for (const n of model.graph.nodes) if (n.op === 'Cast') expect(n.inputs[0]!.producer?.op).not.toBe('Cast');
    model.graph.verify();
    const data = Float32Array.from({ length: 4 * 32 }, (_, i) => Math.sin(i * 0.37));
    const out = m.graph.outputs[0]!.name;
    const a = await runEmbeddings(m, { data, dims: [4, 2, 4, 4] }, out);
    const b = await runEmbeddings(model, { data, dims: [4, 2, 4, 4] }, out);
    // float16 rounds each weight and activation by <= 2^-11 relative; through 4 ops the
    // softmax rows stay within a cosine of 1 - 1e-5 of the float32 ones.
    for (const c of rowCosines(a, b, 48)) expect(c).toBeGreaterThan(1 - 1e-5);
  });

  it('keeps a node whose constant does not fit in float16, and one the caller keeps', () => {
    const m = headLike();
    const g = m.graph;
    const conv = g.nodes.find((n) => n.op === 'Conv')!;
    conv.setInput(1, g.addConstant('big', TensorData.float32([3, 2, 3, 3], new Float32Array(54).fill(7e4))));
    const { report } = convertToFloat16(m, { keep: new Set(['Div']), keepReason: () => 'because' });
    const byOp = new Map(report.keptFloat32.map((k) => [k.op, k]));
    expect(byOp.get('Conv')?.category).toBe('overflow');
    expect(byOp.get('Div')).toMatchObject({ category: 'sensitivity', reason: 'because' });
    expect(byOp.get('Relu')?.category).toBe('follows-float32');
  });
});
