/**
 * The WebGPU bundle in Node: the bundle's own sf2.js on Dawn (the `webgpu` npm
 * package), exactly as a Node user runs it (docs/targets.md): import sf2.js from
 * the bundle, read model.json and weights.bin, `load({ manifest, weights }, { device })`.
 *
 * It runs in a child process (src/parity/child.ts): Dawn's Vulkan loader reads
 * VK_ICD_FILENAMES / LD_LIBRARY_PATH when the process loads it (src/parity/gpu-env.ts),
 * and a device loss or driver crash must not take the CLI down.
 *
 * On SwiftShader (a CPU "GPU") the child asks Dawn for `disable_workgroup_init`:
 * SwiftShader spends seconds compiling the zero-initialization of workgroup
 * memory, and every sf2 kernel writes its workgroup memory before reading it, so
 * the results are the same bits either way. A hardware adapter gets Dawn's defaults.
 */
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { ChildWorker } from '../child.js';
import { gpuEnvCandidates, gpuEnvMissingReason, type GpuEnv } from '../gpu-env.js';
import type { AdapterInfo, ParityRuntime, Probe, RuntimeInfo, RuntimeSession } from '../runtime.js';
import type { BundleFile } from '../../targets/target.js';
import type { ModelContract } from '../../analysis/contract.js';

const require = createRequire(import.meta.url);

/** Dawn toggles for a software adapter (see the module comment). */
export const SWIFTSHADER_DAWN_FLAGS = ['enable-dawn-features=allow_unsafe_apis,disable_workgroup_init'];

export function webgpuPackageVersion(): string {
  try {
    return (require('webgpu/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The child program. `device(flags)` makes one Dawn device for the process, with
 * shader-f16 when the adapter has it and the adapter's largest buffer limits. The
 * GPU instance must stay referenced as long as the device lives (a collected
 * instance crashes Dawn).
 */
export const DAWN_WORKER = `
import { readFileSync } from 'node:fs';
let dev;
const models = new Map();
let next = 1;
async function device(flags) {
  if (dev) return dev;
  const { create, globals } = require('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter');
  const requiredFeatures = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
  const requiredLimits = {};
  for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize']) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const i = adapter.info;
  // Keep the instance and adapter referenced: if they are collected, Dawn tears down under the device.
  dev = { gpu, adapterObject: adapter, device, adapter: { vendor: i.vendor || '', architecture: i.architecture || '', description: i.description || i.device || '',
    isFallbackAdapter: !!(i.isFallbackAdapter ?? adapter.isFallbackAdapter) }, features: [...adapter.features].sort() };
  return dev;
}
export const handlers = {
  async probe(flags) {
    const d = await device(flags);
    return { adapter: d.adapter, features: d.features };
  },
  async open(flags, sf2Url, modelPath, arithmetic) {
    const d = await device(flags);
    const { load } = await import(sf2Url);
    const manifest = JSON.parse(readFileSync(modelPath, 'utf8'));
    const weights = readFileSync(modelPath.replace(/model\\.json$/, manifest.weights.file));
    const model = await load({ manifest, weights }, { device: d.device, arithmetic });
    const id = next++;
    models.set(id, model);
    return { id, info: model.info };
  },
  async run(id, data, flipTTA) {
    return models.get(id).embed(data, { flipTTA: !!flipTTA });
  },
  async close(id) {
    const m = models.get(id);
    models.delete(id);
    if (m) m.dispose();
  },
};
`;

interface Probed {
  readonly env: GpuEnv;
  readonly flags: string[];
  readonly adapter: AdapterInfo;
  readonly features: readonly string[];
}

export interface DawnRuntimeOptions {
  /** Which kernels sf2.js picks: 'auto' (default), or force 'f32' / 'f16'. */
  readonly arithmetic?: 'auto' | 'f32' | 'f16';
}

export function dawnRuntime(opts: DawnRuntimeOptions = {}): ParityRuntime {
  let probed: Promise<Probed | string> | undefined;
  const probeOnce = () => {
    probed ??= (async (): Promise<Probed | string> => {
      try {
        require.resolve('webgpu');
      } catch {
        return 'the webgpu package (Dawn for Node) is not installed';
      }
      const candidates = gpuEnvCandidates();
      if (!candidates.length) return gpuEnvMissingReason();
      const failures: string[] = [];
      for (const env of candidates) {
        const flags = env.driver === 'swiftshader' ? SWIFTSHADER_DAWN_FLAGS : [];
        let w: ChildWorker | undefined;
        try {
          w = await ChildWorker.start(DAWN_WORKER, { env: env.env, name: 'dawn-node/webgpu' });
          const r = await w.call<{ adapter: AdapterInfo; features: string[] }>('probe', flags);
          return { env, flags, adapter: r.adapter, features: r.features };
        } catch (e) {
          failures.push(`${env.driver}: ${(e as Error).message.split('\n')[0]!.slice(0, 300)}`);
        } finally {
          await w?.close();
        }
      }
      return `Dawn found no WebGPU adapter (${failures.join('; ')})`;
    })();
    return probed;
  };
  const id = opts.arithmetic && opts.arithmetic !== 'auto' ? `dawn-node/webgpu-${opts.arithmetic}` : 'dawn-node/webgpu';
  return {
    id,
    target: 'webgpu',
    device: 'gpu',
    async probe(): Promise<Probe> {
      const p = await probeOnce();
      if (typeof p === 'string') return { available: false, reason: p };
      if (opts.arithmetic === 'f16' && !p.features.includes('shader-f16')) return { available: false, reason: `the adapter (${p.adapter.description}) has no shader-f16` };
      const info: RuntimeInfo = {
        engine: 'sf2.js on Dawn (webgpu npm package)',
        version: webgpuPackageVersion(),
        device: 'gpu',
        backend: 'webgpu',
        adapter: p.adapter,
        notes: [p.env.note, ...(p.flags.length ? [`Dawn flags: ${p.flags.join(' ')} (compile-time only on SwiftShader)`] : []), `adapter features: ${p.features.join(', ') || 'none'}`],
      };
      return { available: true, info };
    },
    async open(bundleDir: string, file: BundleFile, _contract: ModelContract): Promise<RuntimeSession> {
      const p = await probeOnce();
      if (typeof p === 'string') throw new Error(`dawn-node/webgpu is not available: ${p}`);
      const modelPath = join(bundleDir, file.path);
      const sf2 = pathToFileURL(join(dirname(modelPath), 'sf2.js')).href;
      const w = await ChildWorker.start(DAWN_WORKER, { env: p.env.env, name: id });
      let sid: number;
      try {
        sid = (await w.call<{ id: number }>('open', p.flags, sf2, modelPath, opts.arithmetic ?? 'auto')).id;
      } catch (e) {
        await w.close();
        throw e;
      }
      return {
        run: (input: Float32Array, _n: number) => w.call<Float32Array>('run', sid, input, false),
        async close() {
          try {
            await w.call('close', sid);
          } finally {
            await w.close();
          }
        },
      };
    },
  };
}

export const dawnNodeWebgpu: ParityRuntime = dawnRuntime();
