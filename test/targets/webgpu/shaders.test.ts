/**
 * Every generated shader of every variant, including the `f16` ones that need
 * `shader-f16` (which SwiftShader lacks, so they never run here), compiled by
 * Dawn's WGSL compiler (Tint) on Dawn's null backend: it offers every feature and
 * validates shaders and pipelines fully without executing anything. A child
 * process, so a crash in native code cannot take the test runner down.
 */
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { cloneModel } from '../../../src/ir/clone.js';
import type { Model } from '../../../src/ir/model.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { ChildWorker } from '../../../src/parity/child.js';
import { optimize } from '../../../src/passes/index.js';
import { contractOf } from '../../../src/pipeline/export.js';
import { buildBundle } from '../../../src/targets/webgpu/program.js';
import { mainFixtures } from '../../helpers/fixtures.js';
import { tinyFace, zoo } from './models.js';
import { attr } from '../../../src/ir/attribute.js';
import { CaseBuilder } from '../tfjs/op-cases.js';
import { GPU_CASES } from './op-cases.js';

const NULL_BACKEND = `
let dev;
export const handlers = {
  async start() {
    const { create, globals } = require('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create(['backend=null']);
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { error: 'no null adapter' };
    if (!adapter.features.has('shader-f16')) return { error: 'the null adapter has no shader-f16' };
    dev = { gpu, adapter, device: await adapter.requestDevice({ requiredFeatures: ['shader-f16'] }) };
    return {};
  },
  async compile(shaders) {
    const errors = [];
    for (let i = 0; i < shaders.length; i++) {
      const module = dev.device.createShaderModule({ code: shaders[i] });
      try {
        await dev.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      } catch (e) {
        const info = await module.getCompilationInfo();
        errors.push(i + ': ' + (info.messages.map((m) => m.lineNum + ':' + m.linePos + ' ' + m.message).join('; ') || e.message));
      }
    }
    return errors;
  },
};
`;

let worker: ChildWorker | undefined;
let why: string | undefined;
try {
  worker = await ChildWorker.start(NULL_BACKEND, { name: 'dawn null backend' });
  why = (await worker.call<{ error?: string }>('start')).error;
} catch (e) {
  why = (e as Error).message;
}
if (why) console.warn(`skipping the shader compile checks: ${why}`);

function models(): [string, Model][] {
  const out: [string, Model][] = [['zoo', zoo()], ['tinyFace', tinyFace()]];
  // Every op case of the op table (op-cases.ts), flattened to an [N, D] output.
  for (const c of GPU_CASES) {
    const b = new CaseBuilder(['N', 3, 9, 9]);
    out.push([`op case: ${c.name}`, b.model(b.op('Flatten', [c.build(b)], { axis: attr.int(1) }), c.opset ?? 13)]);
  }
  for (const f of mainFixtures()) {
    const m = cloneModel(loadOnnx(f));
    optimize(m, {}, { log: silentLogger });
    out.push([basename(f, '.onnx'), m]);
  }
  return out;
}

describe.skipIf(!!why)('generated WGSL compiles (Dawn null backend, with shader-f16)', () => {
  let list: [string, Model][];
  beforeAll(() => {
    list = models();
  });
  afterAll(async () => worker?.close());

  it.each(['fp32', 'fp16', 'int8'] as const)('every model, every variant, %s', async (precision) => {
    for (const [name, m] of list) {
      const b = buildBundle(m.graph, { precision, contract: contractOf(m), generatedBy: 'test' });
      for (const [v, variant] of Object.entries(b.manifest.variants)) {
        const errors = await worker!.call<string[]>('compile', variant.shaders);
        expect(errors, `${name} ${precision} variant ${v}`).toEqual([]);
      }
    }
  });

  it('catches a broken shader (the check is real)', async () => {
    const b = buildBundle(zoo().graph, { precision: 'fp16', contract: contractOf(zoo()), generatedBy: 'test' });
    const broken = b.manifest.variants.f16!.shaders[0]!.replace('enable f16;', '');
    const errors = await worker!.call<string[]>('compile', [broken]);
    expect(errors[0]).toMatch(/'f16' type used without 'f16' extension enabled/);
  });
});
