/**
 * Test harness: write WebGPU bundles from IR models, and drive the bundle's own
 * sf2.js on Dawn in a child process (src/parity/child.ts: Dawn's Vulkan loader
 * reads its environment when the process starts; src/parity/gpu-env.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '../../../src/log.js';
import type { Model } from '../../../src/ir/model.js';
import type { Precision } from '../../../src/ir/precision.js';
import { contractOf } from '../../../src/pipeline/export.js';
import type { ModelContract } from '../../../src/analysis/contract.js';
import { ChildWorker } from '../../../src/parity/child.js';
import { gpuEnvCandidates } from '../../../src/parity/gpu-env.js';
import { SWIFTSHADER_DAWN_FLAGS } from '../../../src/parity/runtimes/webgpu-dawn.js';
import { webgpuTarget } from '../../../src/targets/webgpu/target.js';
import type { BundleFile } from '../../../src/targets/target.js';

export interface Written {
  readonly dir: string;
  readonly files: BundleFile[];
  readonly contract: ModelContract;
  cleanup(): void;
}

/** Write the model's WebGPU bundle for these precisions into a fresh temp folder. */
export async function writeBundle(model: Model, precisions: readonly Precision[]): Promise<Written> {
  const dir = mkdtempSync(join(tmpdir(), 'sf2-webgpu-'));
  const contract = contractOf(model);
  const files: BundleFile[] = [];
  webgpuTarget.check(model, precisions[0]!);
  for (const precision of precisions) {
    const r = await webgpuTarget.write({ model, contract, precision, outDir: dir, log: silentLogger, options: {} });
    files.push(...r.files);
  }
  return { dir, files, contract, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const HARNESS = `
import { readFileSync } from 'node:fs';
let dev;
const models = new Map();
let next = 1;
async function device(flags) {
  if (dev) return dev;
  const { create, globals } = require('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(flags);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [] });
  dev = { gpu, device, features: [...adapter.features] };
  return dev;
}
const errorOf = (e) => ({ name: e && e.name, code: e && e.code, message: String(e && e.message) });
export const handlers = {
  async features(flags) { return (await device(flags)).features; },
  async load(flags, dir, opts) {
    const d = await device(flags);
    const { load } = await import(dir + '/sf2.js');
    const path = new URL(dir + '/model.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    const weights = readFileSync(new URL(dir + '/weights.bin'));
    const o = { ...opts };
    if (o.ownDevice) { delete o.ownDevice; globalThis.navigator = { gpu: d.gpu }; } else o.device = d.device;
    const model = await load(o.url ? dir + '/' : { manifest, weights }, o);
    const id = next++;
    models.set(id, model);
    return { id, info: model.info };
  },
  async loadError(flags, dir, scenario) {
    const d = await device(flags);
    const { load } = await import(dir + '/sf2.js');
    const manifest = JSON.parse(readFileSync(new URL(dir + '/model.json'), 'utf8'));
    let weights = readFileSync(new URL(dir + '/weights.bin'));
    const saved = globalThis.navigator;
    try {
      if (scenario === 'no-navigator') globalThis.navigator = undefined;
      if (scenario === 'no-adapter') globalThis.navigator = { gpu: { requestAdapter: async () => null } };
      if (scenario === 'short-weights') weights = weights.subarray(0, weights.length - 4);
      if (scenario === 'bad-format') manifest.format = 'something-else';
      await load({ manifest, weights }, {});
      return null;
    } catch (e) {
      return errorOf(e);
    } finally {
      globalThis.navigator = saved;
    }
  },
  async embed(id, input, opts) { return models.get(id).embed(input, opts); },
  async embedError(id, input, opts) {
    try { await models.get(id).embed(input, opts); return null; } catch (e) { return errorOf(e); }
  },
  async destroyDevice(id) { models.get(id).device.destroy(); await new Promise((r) => setTimeout(r, 50)); },
  async dispose(id) { models.get(id).dispose(); models.delete(id); },
};
`;

/** Why Dawn cannot run here, or undefined when it can (probed once). */
let probeResult: Promise<string | undefined> | undefined;
export function dawnUnavailable(): Promise<string | undefined> {
  probeResult ??= (async () => {
    const env = gpuEnvCandidates()[0];
    if (!env) return 'no Vulkan driver';
    try {
      const h = await DawnHarness.start();
      await h.close();
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  })();
  return probeResult;
}

export interface ErrorInfo {
  readonly name: string;
  readonly code: string;
  readonly message: string;
}

export class DawnHarness {
  private constructor(private readonly w: ChildWorker, readonly flags: readonly string[], readonly features: readonly string[]) {}

  static async start(): Promise<DawnHarness> {
    const env = gpuEnvCandidates()[0];
    if (!env) throw new Error('no Vulkan driver');
    const flags = env.driver === 'swiftshader' ? SWIFTSHADER_DAWN_FLAGS : [];
    const w = await ChildWorker.start(HARNESS, { env: env.env, name: 'webgpu test harness' });
    const features = await w.call<string[]>('features', flags);
    return new DawnHarness(w, flags, features);
  }

  /** Load webgpu/<precision> of a written bundle; returns the model id and sf2.js's info. */
  load(dir: string, precision: Precision, opts: Record<string, unknown> = {}): Promise<{ id: number; info: Record<string, unknown> }> {
    return this.w.call('load', this.flags, pathToFileURL(join(dir, 'webgpu', precision)).href, opts);
  }
  loadError(dir: string, precision: Precision, scenario: string): Promise<ErrorInfo | null> {
    return this.w.call('loadError', this.flags, pathToFileURL(join(dir, 'webgpu', precision)).href, scenario);
  }
  embed(id: number, input: unknown, opts: Record<string, unknown> = {}): Promise<Float32Array> {
    return this.w.call('embed', id, input, opts);
  }
  embedError(id: number, input: unknown, opts: Record<string, unknown> = {}): Promise<ErrorInfo | null> {
    return this.w.call('embedError', id, input, opts);
  }
  destroyDevice(id: number): Promise<void> {
    return this.w.call('destroyDevice', id);
  }
  dispose(id: number): Promise<void> {
    return this.w.call('dispose', id);
  }
  close(): Promise<void> {
    return this.w.close();
  }
}
