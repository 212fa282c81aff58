import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { InputError, UnsupportedError, ExitCode } from '../../src/errors.js';
import { cloneModel } from '../../src/ir/clone.js';
import { DType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { stripHead } from '../../src/passes/strip-head.js';
import { maxAbsDiff, runOrt, seededImages, withOutputs } from '../helpers/ort.js';
import { conv, headModel, input, newModel } from './graphs.js';
import { rng } from '../helpers/ort.js';

const ctx = { log: createLogger({ quiet: true }) };

function strip(m: Model, embedding?: string) {
  const r = stripHead.run(m, embedding ? { embedding } : {}, ctx);
  m.graph.verify();
  return r;
}

describe('strip-head', () => {
  for (const spec of [
    { layout: 'DxC' as const, withEmbedding: false, label: false },
    { layout: 'CxD' as const, withEmbedding: true, label: false },
    { layout: 'DxC' as const, withEmbedding: false, label: true },
  ]) {
    const name = `${spec.layout}${spec.withEmbedding ? ', embedding + logits outputs' : ''}${spec.label ? ', label input' : ''}`;
    it(`cuts a SphereFace2 head (${name}): structure, report, bit-identical embedding`, async () => {
      const { model, embedding, weight } = headModel(1, { d: 8, classes: 50, ...spec });
      const original = cloneModel(model);
      const nodesBefore = model.graph.nodes.length;
      const r = strip(model);
      const g = model.graph;
      // structural: one float32 [N, D] output named embedding; no head node, weight or label left
      expect(r.changed).toBe(true);
      expect(g.outputs.map((v) => v.name)).toEqual(['embedding']);
      expect(g.outputs[0]!.dtype).toBe(DType.FLOAT);
      expect(g.outputs[0]!.shape).toEqual(['batch', 8]);
      expect(g.value(weight)).toBeUndefined();
      expect(g.nodes.some((n) => n.name.startsWith('head_') || n.name.startsWith('h_'))).toBe(false);
      expect(g.realInputs().map((v) => v.name)).toEqual(['input']);
      expect(g.initializers().some((v) => v.name.startsWith('head') || v.name.startsWith('h_'))).toBe(false);
      // the backbone: conv, prelu, bn2d, flatten, fc, features
      expect(g.nodes.map((n) => n.op)).toEqual(['Conv', 'PRelu', 'BatchNormalization', 'Flatten', 'Gemm', 'BatchNormalization']);
      expect(r.counts.nodesRemoved).toBe(nodesBefore - 6);
      expect(r.counts.inputsRemoved).toBe(spec.label ? 1 : 0);
      expect(r.details).toMatchObject({
        classes: 50,
        featureDim: 8,
        weight,
        weightLayout: spec.layout,
        embeddingTensor: embedding,
        normalization: 'Div(ReduceL2)',
        bytesRemoved: expect.any(Number),
      });
      // the class weight (50 x 8 float32) plus the head's small constants
      expect(r.details!.bytesRemoved as number).toBeGreaterThanOrEqual(50 * 8 * 4);
      // numeric: the stripped model computes the original's embedding tensor, bit for bit
      const feeds = { input: seededImages(3, 7, 3, 16, 16), label: { data: BigInt64Array.from([3n, 0n, 49n]), dims: [3] } };
      const want = await runOrt(withOutputs(original, [embedding]), feeds);
      const got = await runOrt(model, feeds);
      expect(maxAbsDiff(got.embedding!, want[embedding]!)).toBe(0);
      // idempotent
      const bytes = encodeOnnx(model);
      const again = strip(model);
      expect(again.changed).toBe(false);
      expect(again.details).toMatchObject({ reason: 'no head' });
      expect(encodeOnnx(model)).toEqual(bytes);
    });
  }

  it('--embedding NAME cuts there and keeps the classifier facts', async () => {
    const { model } = headModel(2, { d: 8, classes: 20, layout: 'DxC' });
    // cut one op earlier than the detected embedding: at the fc output (before BN1d)
    const r = strip(model, 'fc_out');
    expect(model.graph.outputs[0]!.name).toBe('embedding');
    expect(model.graph.nodes.at(-1)!.op).toBe('Gemm');
    expect(r.details).toMatchObject({ embeddingTensor: 'fc_out', classes: 20, featureDim: 8 });
  });

  it('refuses an --embedding that does not exist, listing candidates (exit 3)', () => {
    const { model } = headModel(3, { d: 8, classes: 20, layout: 'DxC' });
    const before = model.graph.nodes.length;
    let err: unknown;
    try {
      strip(model, 'nope');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(ExitCode.input);
    expect((err as InputError).hint).toMatch(/--embedding NAME with one of: .*features_out \[batch, 8\] from BatchNormalization/);
    expect(model.graph.nodes.length).toBe(before);
  });

  it('refuses an --embedding computed from the class weight (not head-free)', () => {
    const { model } = headModel(4, { d: 8, classes: 20, layout: 'DxC' });
    expect(() => strip(model, 'cos')).toThrow(UnsupportedError);
    expect(() => strip(model, 'cos')).toThrow(/head_matmul, so it is not head-free/);
  });

  it('keeps an already head-free model and renames its output', () => {
    const { model } = headModel(5, { d: 8, classes: 20, layout: 'DxC' });
    strip(model);
    model.graph.rename(model.graph.outputs[0]!, 'feat');
    const r = strip(model);
    expect(r.changed).toBe(true); // renamed
    expect(r.details).toMatchObject({ reason: 'no head', embeddingTensor: 'feat', featureDim: 8 });
    expect(r.skipped[0]!.reason).toMatch(/no head/);
    expect(model.graph.outputs[0]!.name).toBe('embedding');
    expect(strip(model).changed).toBe(false);
  });

  it('refuses a model with no head and no [N, D] output, listing candidates (exit 4)', () => {
    const { m, g } = newModel();
    const x = input(g, 'x', ['N', 3, 8, 8]);
    g.outputs = [conv(g, rng(1), x, { cin: 3, cout: 4, k: 3, pad: 1, bias: true }).y];
    inferShapes(g);
    const before = encodeOnnx(m);
    let err: unknown;
    try {
      strip(m);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as UnsupportedError).exitCode).toBe(ExitCode.unsupported);
    expect((err as UnsupportedError).message).toMatch(/no SphereFace2 head found .* conv_out \[N, 4, 8, 8\] is not one float32 \[N, D\] embedding/);
    expect((err as UnsupportedError).hint).toMatch(/--embedding NAME/);
    // nothing changed
    expect(encodeOnnx(m)).toEqual(before);
  });
});
