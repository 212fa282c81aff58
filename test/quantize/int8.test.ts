import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { buildQdq, buildWeightOnly, qdqTensors } from '../../src/quantize/int8.js';
import { calibrate } from '../../src/quantize/calibrate.js';
import { quantizeInt8 } from '../../src/quantize/index.js';
import { runEmbeddings } from '../../src/data/ort-run.js';
import { checkEmbeddings } from '../../src/quantize/metric.js';
import { FIXTURES, fixtureArchs, loadReference, optimizedModel } from './helpers.js';

const archs = fixtureArchs();

/** Every Conv/Gemm weight is DequantizeLinear(int8, per-channel scales, axis) unless kept. */
function expectInt8Weights(m: Model, kept: ReadonlySet<string>): number {
  let n = 0;
  for (const node of m.graph.nodes) {
    if ((node.op !== 'Conv' && node.op !== 'Gemm') || kept.has(node.name)) continue;
    const dq = node.inputs[1]!.producer!;
    expect(dq.op).toBe('DequantizeLinear');
    const [q, s] = dq.inputs;
    expect(q!.const!.dtype).toBe(DType.INT8);
    const axis = dq.attrInt('axis', 1);
    expect(s!.const!.dims).toEqual([q!.const!.dims[axis]]);
    for (const x of s!.const!.float32()) expect(x).toBeGreaterThan(0);
    n++;
  }
  return n;
}

describe.skipIf(archs.length === 0)('int8 on the fixtures', () => {
  it.each(archs)('%s: weight-only: min cosine >= 0.99, no flips against PyTorch, weights 4x smaller', async (arch) => {
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const { model, details } = await quantizeInt8(m, { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs }, { scheme: 'weight-only' });
    expect(details.pass).toBe(true);
    expect(details.result.minCosine).toBeGreaterThanOrEqual(0.99);
    expect(details.result.flips).toBe(0);
    expect(model.opset('')).toBeGreaterThanOrEqual(13);
    const kept = new Set(details.higherPrecision.map((h) => h.node));
    expect(expectInt8Weights(model, kept)).toBeGreaterThan(0);
    const b = details.build as { bytesBefore: number; bytesAfter: number };
    // int8 data is exactly 1/4 of the float32 bytes; per-channel scales (4 B) and zero
    // points (1 B) per output channel add the rest: under 10% for these layers.
    expect(b.bytesAfter).toBeLessThan(b.bytesBefore / 4 * 1.1);
    expect(encodeOnnx(model).length).toBeLessThan(encodeOnnx(m).length / 3);
  });

  it.each(archs)('%s: static QDQ: min cosine >= 0.99, no flips against PyTorch, measured again independently', async (arch) => {
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const { model, details } = await quantizeInt8(m, { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs }, { scheme: 'qdq' });
    expect(details.pass).toBe(true);
    expect(details.result.minCosine).toBeGreaterThanOrEqual(0.99);
    expect(details.result.flips).toBe(0);
    const kept = new Set(details.higherPrecision.map((h) => h.node));
    expectInt8Weights(model, kept);
    const qs = model.graph.nodes.filter((n) => n.op === 'QuantizeLinear');
    expect(qs.length).toBeGreaterThan(0);
    for (const q of qs) expect(q.output(0).dtype).toBe(DType.UINT8);
    const e = await runEmbeddings(encodeOnnx(model), { data: ref.inputs, dims: ref.inputDims }, model.graph.outputs[0]!.name);
    expect(checkEmbeddings(ref.embeddings, e, ref.dim, { minCosine: 0.99, maxFlips: 0 }, ref.pairs).minCosine).toBe(details.result.minCosine);
  });

  it('QDQ with each calibration method holds the thresholds; output bytes are deterministic', async () => {
    const arch = archs.includes('sfnet10bn') ? 'sfnet10bn' : archs[0]!;
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const inputs = { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs };
    for (const method of ['minmax', 'percentile', 'entropy'] as const) {
      // With the sensitivity pass (as the target runs it): layers stay float32 only if needed.
      const a = await quantizeInt8(m, inputs, { scheme: 'qdq', method });
      expect(a.details.pass, method).toBe(true);
      expect(a.details.result.minCosine, method).toBeGreaterThanOrEqual(0.99);
      expect(a.details.result.flips, method).toBe(0);
      expect(a.details.calibration).toMatchObject({ method, rows: ref.inputDims[0] });
      const b = await quantizeInt8(m, inputs, { scheme: 'qdq', method });
      expect(Buffer.from(encodeOnnx(a.model)).equals(Buffer.from(encodeOnnx(b.model))), method).toBe(true);
    }
  });

  it('sensitivity: a stricter threshold keeps the worst measured layers in float32, reported with why', async () => {
    const arch = archs.includes('sfnet10') ? 'sfnet10' : archs[0]!;
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const inputs = { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs };
    const all = await quantizeInt8(m, inputs, { scheme: 'qdq', sensitivity: 'off' });
    const strict = (all.details.result.minCosine + 1) / 2; // halfway between all-int8 and float32
    const { model, details } = await quantizeInt8(m, inputs, { scheme: 'qdq', thresholds: { minCosine: strict, maxFlips: 0 } });
    expect(details.sensitivity.measured).toBe(true);
    expect(details.pass).toBe(true);
    expect(details.result.minCosine).toBeGreaterThanOrEqual(strict);
    expect(details.higherPrecision.length).toBeGreaterThan(0);
    expect(details.higherPrecision[0]!.node).toBe(details.sensitivity.worst[0]!.node);
    for (const h of details.higherPrecision) expect(h.why).toMatch(/^sensitivity: int8 alone gives min cosine 0\.\d+/);
    // A kept node reads float32 tensors and float32 weights.
    for (const h of details.higherPrecision) {
      const n = model.graph.nodes.find((k) => k.name === h.node)!;
      for (const v of n.inputs) if (v && !v.const) expect(v.producer?.op).not.toBe('DequantizeLinear');
    }
  });
});

describe.skipIf(archs.length === 0)('QDQ graph details', () => {
  it('Relu absorption is exact: Q(Relu(a)) with zero point 0 equals Q(a)', async () => {
    const arch = archs.includes('sfnet10') ? 'sfnet10' : archs[0]!;
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch);
    const data = { data: ref.inputs.subarray(0, 8 * 3 * 112 * 112), dims: [8, 3, 112, 112] };
    const ranges = await calibrate(m, qdqTensors(m), data, { method: 'minmax' });
    const { model, report } = buildQdq(m, ranges);
    const plain = buildQdq(m, ranges, { absorbRelu: false });
    expect(report.absorbedRelus).toBeGreaterThan(0);
    expect(plain.report.absorbedRelus).toBe(0);
    const relus = (x: Model) => x.graph.nodes.filter((n) => n.op === 'Relu').length;
    expect(relus(model)).toBe(relus(plain.model) - report.absorbedRelus);
    // Without graph optimizations onnxruntime computes QuantizeLinear literally: the
    // integers, and so every later value, are identical.
    const out = m.graph.outputs[0]!.name;
    const a = await runEmbeddings(encodeOnnx(model), data, out, { optimization: 'disabled' });
    const b = await runEmbeddings(encodeOnnx(plain.model), data, out, { optimization: 'disabled' });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(report.int32Biases).toBeGreaterThan(0);
  });

  it('weight-only quantizes a Gemm along its output-channel axis (0 with transB=1, else 1)', async () => {
    const arch = archs[0]!;
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const gemm = m.graph.nodes.find((n) => n.op === 'Gemm')!;
    const wo = buildWeightOnly(m).model;
    const dq = wo.graph.nodes.find((n) => n.name === gemm.name)!.inputs[1]!.producer!;
    expect(dq.attrInt('axis')).toBe(gemm.attrInt('transB', 0) === 1 ? 0 : 1);
  });
});
