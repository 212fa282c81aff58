/**
 * The quantized ONNX bundles on onnxruntime-node's webgpu provider (the
 * parity engineer's runtime: a child process with a Vulkan driver; here
 * Chromium's SwiftShader). One image per bundle: SwiftShader takes ~15 s per
 * session to build its pipelines.
 *
 * float16 compute needs the adapter feature shader-f16. SwiftShader does not
 * have it and onnxruntime then refuses the float16 kernels ("requires f16 but
 * the device does not support it"); the 'ort-cpu' islands variant (float16
 * storage, float32 compute) runs on any adapter.
 *
 * Three sessions: about 20 s on SwiftShader on an idle 2-core machine, up to
 * 2 minutes under heavy load; SF2_WEBGPU_TESTS=0 skips it. Skipped as well
 * where the runtime's probe finds no adapter (it says why).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxTarget } from '../../../src/targets/onnx/target.js';
import type { TargetContext, TargetOptions } from '../../../src/targets/target.js';
import { contractOf } from '../../../src/pipeline/export.js';
import { silentLogger } from '../../../src/log.js';
import { ortNodeWebgpu } from '../../../src/parity/runtimes/ort-node.js';
import { rowCosines } from '../../../src/quantize/metric.js';
import { FIXTURES, fixtureArchs, loadReference, optimizedModel } from '../../quantize/helpers.js';

const arch = fixtureArchs().includes('sfnet10') ? 'sfnet10' : fixtureArchs()[0];
const enabled = process.env.SF2_WEBGPU_TESTS !== '0';
const probe = enabled ? await ortNodeWebgpu.probe() : { available: false as const, reason: 'SF2_WEBGPU_TESTS=0' };

describe.skipIf(!arch || !probe.available)('onnx bundles on onnxruntime-node webgpu', () => {
  it('int8 runs; fp16 runs where the adapter has shader-f16, and its islands variant runs everywhere', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-onnx-gpu-'));
    try {
      const model = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
      const ref = loadReference(arch!);
      const contract = contractOf(model);
      const calibration = { data: ref.inputs, dims: ref.inputDims, embeddings: ref.embeddings, pairs: ref.pairs.pairs, issame: ref.pairs.issame };
      const one = ref.inputs.subarray(0, ref.inputs.length / ref.inputDims[0]!);
      const refRow = ref.embeddings.subarray(0, ref.dim);
      const run = async (precision: 'fp16' | 'int8', options: TargetOptions, sub: string) => {
        const out = join(dir, sub);
        const ctx: TargetContext = { model, contract, precision, outDir: out, log: silentLogger, options, calibration };
        const res = await onnxTarget.write(ctx);
        const s = await ortNodeWebgpu.open(out, res.files[0]!, contract);
        try {
          return rowCosines(refRow, await s.run(one, 1), ref.dim)[0]!;
        } finally {
          await s.close();
        }
      };
      expect(await run('int8', {}, 'int8')).toBeGreaterThanOrEqual(0.99);
      expect(await run('fp16', { fp16Islands: 'ort-cpu' }, 'fp16-islands')).toBeGreaterThanOrEqual(0.9995);
      let fp16: number | Error;
      try {
        fp16 = await run('fp16', {}, 'fp16');
      } catch (e) {
        fp16 = e as Error;
      }
      if (fp16 instanceof Error) expect(fp16.message).toMatch(/requires f16 but the device does not support it/);
      else expect(fp16).toBeGreaterThanOrEqual(0.9995);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
