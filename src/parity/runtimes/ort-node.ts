/**
 * The ONNX bundle on onnxruntime-node:
 *   - cpu:    in this process.
 *   - webgpu: in a child process (src/parity/child.ts), because the webgpu
 *             provider is Dawn on Vulkan and the Vulkan loader reads its
 *             environment (VK_ICD_FILENAMES, LD_LIBRARY_PATH) when the process
 *             loads it; see src/parity/gpu-env.ts. The adapter is probed with
 *             the `webgpu` npm package (the same Dawn, the same Vulkan
 *             driver) in its own child, since onnxruntime-node does not expose
 *             the adapter it picked.
 *   - cuda:   in this process, where onnxruntime-node has its CUDA provider
 *             binaries (they are downloaded at install time, and not here).
 * Parity sessions use onnxruntime's default graph optimizations ('all'):
 * that is what users run. References from the original model use
 * optimizations off (src/data/references.ts).
 */
import { join } from 'node:path';
import { ChildWorker } from '../child.js';
import { gpuEnvCandidates, gpuEnvMissingReason, type GpuEnv } from '../gpu-env.js';
import type { AdapterInfo, ParityRuntime, Probe, RuntimeInfo, RuntimeSession } from '../runtime.js';
import type { BundleFile } from '../../targets/target.js';
import type { ModelContract } from '../../analysis/contract.js';
import { Graph } from '../../ir/graph.js';
import { Model } from '../../ir/model.js';
import { DType } from '../../ir/dtype.js';
import { encodeOnnx } from '../../onnx/export.js';
import { inputDims } from '../input-dims.js';

export { ort, ortVersion } from '../../data/ort.js';
import { ort, ortVersion, type Ort } from '../../data/ort.js';

function backendState(name: string): { present: boolean; bundled: boolean } {
  const list = ort().listSupportedBackends() as { name: string; bundled: boolean }[];
  const b = list.find((x) => x.name === name);
  return { present: !!b, bundled: !!b?.bundled };
}

/** A two-element Relu model, for probing that a provider can create a session. */
export function tinyModelBytes(): Uint8Array {
  const g = new Graph();
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: [1, 4] });
  g.inputs.push(x);
  const n = g.addNode({ op: 'Relu', inputs: [x], outputs: ['y'] });
  const y = n.outputs[0]!;
  y.dtype = DType.FLOAT;
  y.shape = [1, 4];
  g.outputs.push(y);
  const m = new Model(g);
  m.opsetImports = [{ domain: '', version: 13 }];
  return encodeOnnx(m);
}

/** Run [n, ...] inputs through an in-process session; returns the named output as float32. */
async function runSession(s: import('onnxruntime-node').InferenceSession, contract: ModelContract, input: Float32Array, n: number): Promise<Float32Array> {
  const o = ort();
  const dims = inputDims(contract, input.length, n);
  const feeds = { [contract.input.name]: new o.Tensor('float32', input, dims) };
  const r = await s.run(feeds, [contract.output]);
  const t = r[contract.output];
  if (!t || t.type !== 'float32') throw new Error(`output ${contract.output} is ${t ? t.type : 'missing'}, not float32`);
  const expect = n * contract.embeddingDim;
  const data = t.data as Float32Array;
  if (data.length !== expect) throw new Error(`output ${contract.output} has ${data.length} values for ${n} rows, expected ${expect} (dims ${t.dims.join('x')})`);
  return data.slice();
}

function inProcessRuntime(id: string, provider: 'cpu' | 'cuda', device: 'cpu' | 'gpu'): ParityRuntime {
  let probed: Promise<Probe> | undefined;
  return {
    id,
    target: 'onnx',
    device,
    probe() {
      probed ??= (async (): Promise<Probe> => {
        let o: Ort;
        try {
          o = ort();
        } catch (e) {
          return { available: false, reason: `onnxruntime-node does not load: ${(e as Error).message.split('\n')[0]}` };
        }
        const st = backendState(provider);
        if (!st.present) return { available: false, reason: `onnxruntime-node ${ortVersion()} has no ${provider} provider on this platform` };
        if (!st.bundled) {
          return { available: false, reason: `onnxruntime-node ${ortVersion()} here has no ${provider} provider binaries (its install script downloads them unless ONNXRUNTIME_NODE_INSTALL=skip; on an NVIDIA machine with CUDA 12: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)` };
        }
        if (provider !== 'cpu') {
          try {
            const s = await o.InferenceSession.create(tinyModelBytes(), { executionProviders: [provider] });
            await s.release();
          } catch (e) {
            return { available: false, reason: `onnxruntime-node ${provider} provider does not start: ${(e as Error).message.split('\n')[0]}` };
          }
        }
        const info: RuntimeInfo = { engine: 'onnxruntime-node', version: ortVersion(), device, backend: provider };
        return { available: true, info };
      })();
      return probed;
    },
    async open(bundleDir: string, file: BundleFile, contract: ModelContract): Promise<RuntimeSession> {
      const s = await ort().InferenceSession.create(join(bundleDir, file.path), { executionProviders: [provider], graphOptimizationLevel: 'all' });
      return {
        run: (input, n) => runSession(s, contract, input, n),
        close: async () => s.release(),
      };
    },
  };
}

export const ortNodeCpu: ParityRuntime = inProcessRuntime('onnxruntime-node/cpu', 'cpu', 'cpu');
export const ortNodeCuda: ParityRuntime = inProcessRuntime('onnxruntime-node/cuda', 'cuda', 'gpu');

// ---------------------------------------------------------------- webgpu, in a child process

/** The child program for onnxruntime-node webgpu sessions (plain JS: see ../child.ts). */
const ORT_WEBGPU_WORKER = `
const ort = require('onnxruntime-node');
const sessions = new Map();
let next = 1;
export const handlers = {
  async probe(bytes) {
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([-1, 0, 1, 2]), [1, 4]) });
    await s.release();
    return { version: ort.env.versions.node, y: Array.from(r.y.data) };
  },
  async open(path) {
    const s = await ort.InferenceSession.create(path, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
    const id = next++;
    sessions.set(id, s);
    return id;
  },
  async run(id, inputName, outputName, data, dims) {
    const s = sessions.get(id);
    const r = await s.run({ [inputName]: new ort.Tensor('float32', data, dims) }, [outputName]);
    const t = r[outputName];
    if (t.type !== 'float32') throw new Error('output ' + outputName + ' is ' + t.type + ', not float32');
    return t.data;
  },
  async close(id) {
    const s = sessions.get(id);
    sessions.delete(id);
    if (s) await s.release();
  },
};
`;

/** The child program that asks the `webgpu` package (Dawn) for the adapter, with the same driver environment. */
export const ADAPTER_PROBE_WORKER = `
export const handlers = {
  async adapter() {
    let pkg;
    try { pkg = require('webgpu'); } catch (e) { return { error: 'the webgpu package is not installed' }; }
    const gpu = pkg.create([]);
    const a = await gpu.requestAdapter();
    if (!a) return { error: 'no WebGPU adapter' };
    const i = a.info;
    return { vendor: i.vendor || '', architecture: i.architecture || '', description: i.description || i.device || '',
      isFallbackAdapter: !!(i.isFallbackAdapter ?? a.isFallbackAdapter), features: [...a.features].sort() };
  },
};
`;

export interface ProbedAdapter {
  readonly adapter?: AdapterInfo;
  readonly features?: readonly string[];
  readonly error?: string;
}

/** The adapter Dawn finds with this environment (via the `webgpu` package, in a child). */
export async function probeAdapter(env: GpuEnv): Promise<ProbedAdapter> {
  let w: ChildWorker | undefined;
  try {
    w = await ChildWorker.start(ADAPTER_PROBE_WORKER, { env: env.env, name: 'webgpu adapter probe', startTimeoutMs: 30000 });
    const r = await w.call<{ vendor: string; architecture: string; description: string; isFallbackAdapter: boolean; features: string[]; error?: string }>('adapter');
    if (r.error) return { error: r.error };
    return { adapter: { vendor: r.vendor, architecture: r.architecture, description: r.description, isFallbackAdapter: r.isFallbackAdapter }, features: r.features };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  } finally {
    await w?.close();
  }
}

function webgpuRuntime(): ParityRuntime {
  let probed: Promise<Probe & { env?: GpuEnv; features?: readonly string[] }> | undefined;
  const probe = () => {
    probed ??= (async (): Promise<Probe & { env?: GpuEnv; features?: readonly string[] }> => {
      try {
        const st = backendState('webgpu');
        if (!st.present || !st.bundled) return { available: false, reason: `onnxruntime-node ${ortVersion()} has no webgpu provider here` };
      } catch (e) {
        return { available: false, reason: `onnxruntime-node does not load: ${(e as Error).message.split('\n')[0]}` };
      }
      const candidates = gpuEnvCandidates();
      if (!candidates.length) return { available: false, reason: gpuEnvMissingReason() };
      const failures: string[] = [];
      for (const env of candidates) {
        let w: ChildWorker | undefined;
        try {
          w = await ChildWorker.start(ORT_WEBGPU_WORKER, { env: env.env, name: 'onnxruntime-node/webgpu' });
          const r = await w.call<{ version: string; y: number[] }>('probe', tinyModelBytes());
          // Relu([-1, 0, 1, 2]) = [0, 0, 1, 2] exactly on any device.
          if (r.y.join(',') !== '0,0,1,2') throw new Error(`probe model gave ${r.y.join(',')}, not 0,0,1,2`);
        } catch (e) {
          failures.push(`${env.driver}: ${((e as Error).message.split('\n')[0] ?? '').slice(0, 300)}`);
          continue;
        } finally {
          await w?.close();
        }
        const a = await probeAdapter(env);
        const notes = [env.note];
        if (a.adapter) notes.push('adapter probed with the webgpu package (Dawn) on the same Vulkan driver; onnxruntime-node does not report its own');
        else notes.push(`adapter unknown: ${a.error}`);
        const info: RuntimeInfo = { engine: 'onnxruntime-node', version: ortVersion(), device: 'gpu', backend: 'webgpu', ...(a.adapter ? { adapter: a.adapter } : {}), notes };
        return { available: true, info, env, features: a.features };
      }
      return { available: false, reason: `onnxruntime-node webgpu found no adapter (${failures.join('; ')})` };
    })();
    return probed;
  };
  return {
    id: 'onnxruntime-node/webgpu',
    target: 'onnx',
    device: 'gpu',
    async probe() {
      const p = await probe();
      return p.available ? { available: true, info: p.info } : { available: false, reason: p.reason };
    },
    async supports(file: BundleFile) {
      // onnxruntime's webgpu kernels for float16 tensors need the adapter's shader-f16 feature.
      if (file.precision !== 'fp16') return undefined;
      const p = await probe();
      if (p.available && p.features && !p.features.includes('shader-f16')) return 'the adapter has no shader-f16, which onnxruntime webgpu needs for float16 models';
      return undefined;
    },
    async open(bundleDir: string, file: BundleFile, contract: ModelContract): Promise<RuntimeSession> {
      const p = await probe();
      if (!p.available || !p.env) throw new Error(`onnxruntime-node/webgpu is not available: ${p.available ? 'no environment' : p.reason}`);
      const w = await ChildWorker.start(ORT_WEBGPU_WORKER, { env: p.env.env, name: 'onnxruntime-node/webgpu' });
      let id: number;
      try {
        id = await w.call<number>('open', join(bundleDir, file.path));
      } catch (e) {
        await w.close();
        throw e;
      }
      return {
        async run(input: Float32Array, n: number): Promise<Float32Array> {
          const dims = inputDims(contract, input.length, n);
          const out = await w.call<Float32Array>('run', id, contract.input.name, contract.output, input, dims);
          if (out.length !== n * contract.embeddingDim) throw new Error(`output ${contract.output} has ${out.length} values for ${n} rows, expected ${n * contract.embeddingDim}`);
          return out;
        },
        async close() {
          try {
            await w.call('close', id);
          } finally {
            await w.close();
          }
        },
      };
    },
  };
}

export const ortNodeWebgpu: ParityRuntime = webgpuRuntime();
