import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxTarget } from '../../../src/targets/onnx/target.js';
import type { TargetContext } from '../../../src/targets/target.js';
import type { Precision } from '../../../src/ir/precision.js';
import { contractOf } from '../../../src/pipeline/export.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { Model } from '../../../src/ir/model.js';
import { DType } from '../../../src/ir/dtype.js';
import { attr } from '../../../src/ir/attribute.js';
import { UnsupportedError } from '../../../src/errors.js';
import { runEmbeddings } from '../../../src/data/ort-run.js';
import { checkEmbeddings } from '../../../src/quantize/metric.js';
import type { QuantizeDetails } from '../../../src/quantize/index.js';
import { FIXTURES, fixtureArchs, loadReference, optimizedModel } from '../../quantize/helpers.js';

const archs = fixtureArchs();
const arch = archs.includes('sfnet10bn') ? 'sfnet10bn' : archs[0];

async function writeAll(outDir: string, log: Logger = silentLogger, withCalibration = true) {
  const model = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
  const ref = loadReference(arch!);
  const calibration = withCalibration
    ? { data: ref.inputs, dims: ref.inputDims, embeddings: ref.embeddings, pairs: ref.pairs.pairs, issame: ref.pairs.issame, source: `fixtures/${arch}.npz` }
    : undefined;
  const results = new Map<Precision, Awaited<ReturnType<typeof onnxTarget.write>>>();
  for (const precision of ['fp32', 'fp16', 'int8'] as const) {
    onnxTarget.check(model, precision);
    const ctx: TargetContext = { model, contract: contractOf(model), precision, outDir, log, options: {}, calibration };
    results.set(precision, await onnxTarget.write(ctx));
  }
  return { model, ref, results };
}

describe.skipIf(!arch)('onnx target: fp32, fp16, int8 bundles', () => {
  it('writes DIR/onnx/model.<precision>.onnx that hold the thresholds on onnxruntime cpu, with sizes per precision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-onnx-'));
    try {
      const { ref, results } = await writeAll(dir);
      const size = (p: Precision) => statSync(join(dir, `onnx/model.${p}.onnx`)).size;
      for (const [precision, res] of results) {
        expect(res.files).toEqual([{ path: `onnx/model.${precision}.onnx`, target: 'onnx', precision, role: 'model' }]);
        const m = loadOnnx(join(dir, res.files[0]!.path));
        expect(m.graph.realInputs()[0]!.dtype).toBe(DType.FLOAT);
        expect(m.graph.outputs[0]!.dtype).toBe(DType.FLOAT);
        const e = await runEmbeddings(m, { data: ref.inputs, dims: ref.inputDims }, m.graph.outputs[0]!.name);
        const t = precision === 'fp32' ? 0.99999 : precision === 'fp16' ? 0.9995 : 0.99;
        const c = checkEmbeddings(ref.embeddings, e, ref.dim, { minCosine: t, maxFlips: 0 }, ref.pairs);
        expect(c.pass, precision).toBe(true);
        if (precision !== 'fp32') {
          const d = res.details as QuantizeDetails;
          expect(d.pass).toBe(true);
          expect(d.result.minCosine).toBe(c.minCosine);
          expect(d.inputs).toMatchObject({ rows: ref.inputDims[0], source: `fixtures/${arch}.npz`, pairs: ref.pairs.issame.length });
          expect(d.inputs.reference).toMatch(/PyTorch/);
          expect(Array.isArray(d.higherPrecision)).toBe(true);
        }
      }
      // float16 halves the weights; int8 quarters them (plus scales, zero points, int32 biases).
      expect(size('fp16') / size('fp32')).toBeLessThan(0.52);
      expect(size('int8') / size('fp32')).toBeLessThan(0.33);
      expect((results.get('int8')!.details as QuantizeDetails).int8Scheme).toBe('weight-only');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes byte-identical files for the same input and options', async () => {
    const a = mkdtempSync(join(tmpdir(), 'sf2-onnx-a-'));
    const b = mkdtempSync(join(tmpdir(), 'sf2-onnx-b-'));
    try {
      await writeAll(a);
      await writeAll(b);
      for (const p of ['fp32', 'fp16', 'int8']) {
        expect(readFileSync(join(a, `onnx/model.${p}.onnx`)).equals(readFileSync(join(b, `onnx/model.${p}.onnx`))), p).toBe(true);
      }
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('without calibration data it measures on synthetic inputs and warns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-onnx-'));
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
    try {
      const { results } = await writeAll(dir, log, false);
      for (const p of ['fp16', 'int8'] as const) {
        const d = results.get(p)!.details as QuantizeDetails;
        expect(d.inputs.source).toMatch(/^synthetic/);
        expect(d.inputs.reference).toMatch(/float32 model/);
        expect(d.inputs.pairs).toBe(0);
        expect(d.result.flips).toBeNull();
      }
      expect(warnings.filter((w) => /no calibration data/.test(w)).length).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('onnx target: check', () => {
  it('refuses int8 for an opset-9 model with an op that has no opset-13 form, naming it', () => {
    const m = new Model();
    m.opsetImports = [{ domain: '', version: 9 }];
    const g = m.graph;
    const x = g.addValue('x', { dtype: DType.FLOAT, shape: ['N', 3, 8, 8] });
    g.inputs.push(x);
    const y = g.addNode({ op: 'Upsample', inputs: [x], attrs: { mode: attr.string('nearest') }, name: 'up' }).output(0);
    y.dtype = DType.FLOAT;
    g.outputs.push(y);
    expect(() => onnxTarget.check(m, 'fp32')).not.toThrow();
    expect(() => onnxTarget.check(m, 'fp16')).not.toThrow();
    expect(() => onnxTarget.check(m, 'int8')).toThrow(UnsupportedError);
    expect(() => onnxTarget.check(m, 'int8')).toThrow(/up \(Upsample\)/);
  });
});
