/**
 * Every model with references (fixtures/*.onnx in eval and preserve export
 * modes, and fixtures/variants/*.onnx: opsets 9 to 17, fixed batch, head
 * already removed, LpNormalization head, label input, external data), through
 * the ONNX target's default fp16 and int8 (weight-only): thresholds against
 * the PyTorch references on onnxruntime cpu, or a report that says why not.
 * (Static QDQ is tested on the eval fixtures in int8.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { quantizeFloat16, quantizeInt8 } from '../../src/quantize/index.js';
import { onnxTarget } from '../../src/targets/onnx/target.js';
import { fixtureModels, loadReference, optimizedModel } from './helpers.js';

const models = fixtureModels();

describe.skipIf(models.length === 0)('fp16 and int8 on every fixture model', () => {
  it.each(models.map((m) => [m.name, m] as const))('%s', async (_name, f) => {
    const m = await optimizedModel(f.path);
    const ref = loadReference(f.npz);
    const inputs = { data: ref.inputs, dims: ref.inputDims, reference: ref.embeddings, pairs: ref.pairs };
    onnxTarget.check(m, 'fp16');
    onnxTarget.check(m, 'int8');
    const h = await quantizeFloat16(m, inputs);
    const i = await quantizeInt8(m, inputs);
    for (const d of [h.details, i.details]) {
      // pass, or the report explains what was kept and why it still fails
      if (!d.pass) expect(d.failure).toMatch(/min cosine|flips/);
      expect(d.pass, `${d.precision}: ${d.failure}`).toBe(true);
    }
    expect(h.details.result.minCosine).toBeGreaterThanOrEqual(0.9995);
    expect(i.details.result.minCosine).toBeGreaterThanOrEqual(0.99);
    expect(h.details.result.flips).toBe(0);
    expect(i.details.result.flips).toBe(0);
  });
});
