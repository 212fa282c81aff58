/**
 * Test helpers for the golden set: export a fixture's bundles (every target and
 * precision, parity skipped: the golden set is what is under test), damage one
 * weight, and run each bundle's own self-test helper in Node (sf2-ort.js on
 * onnxruntime-node, sf2-tfjs.js on tfjs cpu/wasm, sf2.js on Dawn in a child).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportModel } from '../../src/pipeline/export.js';
import type { Precision } from '../../src/ir/precision.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { ChildWorker } from '../../src/parity/child.js';
import { gpuEnvCandidates } from '../../src/parity/gpu-env.js';
import { SWIFTSHADER_DAWN_FLAGS } from '../../src/parity/runtimes/webgpu-dawn.js';
import { loadTfjs, useBackend, fileHandler } from '../../src/parity/runtimes/tfjs-node.js';

export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

export async function exportAll(model: string, reference: string | undefined, out: string, targets: readonly ('onnx' | 'tfjs' | 'webgpu')[] = ['onnx', 'tfjs', 'webgpu']): Promise<void> {
  await exportModel(model, { targets, precisions: PRECISIONS, reference, out, force: true, skipParity: true, targetOptions: { sensitivity: 'off' } });
}

/**
 * Flip bit 5 of the exponent byte (byte 3, little-endian) of the float32 with the
 * largest magnitude among `count` floats at `offset`: the weight is scaled by
 * 2^32 (or 2^-32): a damaged download or a bad memory cell, not a rounding.
 */
export function flipFloat32Exponent(bytes: Uint8Array, offset: number, count: number): number {
  const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * count));
  let best = 0;
  for (let i = 1; i < f.length; i++) if (Math.abs(f[i]!) > Math.abs(f[best]!)) best = i;
  const at = offset + 4 * best + 3;
  bytes[at] = bytes[at]! ^ 0x20;
  return at;
}

/** Damage the first weight tensor of an ONNX fp32 model file in place (found by its raw bytes). */
export function damageOnnx(path: string): void {
  const m = loadOnnx(path);
  const init = m.graph.initializers().filter((v) => v.const!.dtype === 1 && v.const!.dims.length === 4).sort((a, b) => a.name.localeCompare(b.name))[0]!;
  const raw = Buffer.from(init.const!.rawBytes());
  const values = { length: raw.length / 4 };
  const file = readFileSync(path);
  const at = file.indexOf(raw);
  if (at < 0) throw new Error(`${init.name}: raw data not found in ${path}`);
  flipFloat32Exponent(file, at, values.length);
  writeFileSync(path, file);
}

/** Damage the first float32 weight of a tfjs fp32 bundle's first shard. */
export function damageTfjsShard(dir: string): void {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: { dtype: string; shape: number[]; quantization?: unknown }[] }[] };
  const g = json.weightsManifest[0]!;
  const w = g.weights[0]!;
  if (w.dtype !== 'float32' || w.quantization) throw new Error('first weight is not plain float32');
  const shard = join(dir, g.paths[0]!);
  const b = readFileSync(shard);
  flipFloat32Exponent(b, 0, Math.min(w.shape.reduce((a, x) => a * x, 1), b.length / 4));
  writeFileSync(shard, b);
}

/** Damage weights.bin of a WebGPU fp32 bundle (its first tensor). */
export function damageWebgpu(dir: string): void {
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weights: { tensors: { offset: number; byteLength: number }[] } };
  const t = m.weights.tensors[0]!;
  const b = readFileSync(join(dir, 'weights.bin'));
  flipFloat32Exponent(b, t.offset, t.byteLength / 4);
  writeFileSync(join(dir, 'weights.bin'), b);
}

// ------------------------------------------------------------------ the helpers

export interface SelfTestResult {
  pass: boolean;
  minCosine: number;
  maxAbsDiff: number;
  rows: number;
  worstRow: number;
  threshold: number;
  failures: string[];
  adapter: { vendor: string; architecture: string; isFallbackAdapter: boolean };
  backend: string;
  precision: string;
  weights: string;
  synthetic: boolean;
  ms: number;
}

export async function ortSelfTest(bundle: string, precision: Precision, opts: Record<string, unknown> = {}): Promise<SelfTestResult> {
  const ort = await import('onnxruntime-node');
  const helper = (await import(pathToFileURL(join(bundle, 'onnx', 'sf2-ort.js')).href)) as { selfTest(s: unknown, o: unknown): Promise<SelfTestResult> };
  const session = await ort.InferenceSession.create(join(bundle, 'onnx', `model.${precision}.onnx`));
  try {
    return await helper.selfTest(session, { ort, precision, ...opts });
  } finally {
    await session.release();
  }
}

export async function tfjsSelfTest(bundle: string, precision: Precision, backend: 'cpu' | 'wasm', opts: Record<string, unknown> = {}): Promise<SelfTestResult> {
  const tf = await loadTfjs();
  if (!(await useBackend(tf, backend))) throw new Error(`tfjs ${backend} does not start`);
  const dir = join(bundle, 'tfjs', precision);
  const model = await tf.converter.loadGraphModel(fileHandler(join(dir, 'model.json')));
  const helper = (await import(pathToFileURL(join(dir, 'sf2-tfjs.js')).href)) as { selfTest(m: unknown, o: unknown): Promise<SelfTestResult> };
  try {
    return await helper.selfTest(model, { tf: tf.core, ...opts });
  } finally {
    model.dispose();
  }
}

const DAWN = `
import { readFileSync } from 'node:fs';
let dev;
async function device(flags) {
  if (dev) return dev;
  const { create, globals } = require('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(flags);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [] });
  device.adapterInfo = device.adapterInfo || adapter.info;
  dev = { gpu, adapter, device };
  return dev;
}
const errorOf = (e) => ({ name: e && e.name, code: e && e.code, message: String(e && e.message), result: e && e.result });
export const handlers = {
  // mode 'url': load(dir/) reads the files itself (weights hashed); 'bytes': load({ manifest, weights, golden }).
  async selfTest(flags, dir, mode) {
    const d = await device(flags);
    const { load } = await import(dir + '/sf2.js');
    const src = mode === 'url' ? dir + '/' : {
      manifest: JSON.parse(readFileSync(new URL(dir + '/model.json'), 'utf8')),
      weights: readFileSync(new URL(dir + '/weights.bin')),
      golden: readFileSync(new URL(dir + '/golden.bin')),
    };
    const model = await load(src, { device: d.device });
    try { return await model.selfTest(); } finally { model.dispose(); }
  },
  async loadWithSelfTest(flags, dir) {
    const d = await device(flags);
    const { load } = await import(dir + '/sf2.js');
    try { const m = await load(dir + '/', { device: d.device, selfTest: true }); m.dispose(); return null; } catch (e) { return errorOf(e); }
  },
};
`;

export class DawnSelfTest {
  private constructor(private readonly w: ChildWorker, private readonly flags: readonly string[]) {}
  static async start(): Promise<DawnSelfTest> {
    const env = gpuEnvCandidates()[0];
    if (!env) throw new Error('no Vulkan driver');
    const w = await ChildWorker.start(DAWN, { env: env.env, name: 'golden set on Dawn' });
    return new DawnSelfTest(w, env.driver === 'swiftshader' ? SWIFTSHADER_DAWN_FLAGS : []);
  }
  run(bundle: string, precision: Precision, mode: 'url' | 'bytes'): Promise<SelfTestResult> {
    return this.w.call('selfTest', this.flags, pathToFileURL(join(bundle, 'webgpu', precision)).href, mode);
  }
  loadWithSelfTest(bundle: string, precision: Precision): Promise<{ code: string; message: string; result?: SelfTestResult } | null> {
    return this.w.call('loadWithSelfTest', this.flags, pathToFileURL(join(bundle, 'webgpu', precision)).href);
  }
  close(): Promise<void> {
    return this.w.close();
  }
}
