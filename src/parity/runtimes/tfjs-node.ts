/**
 * The tfjs bundle in Node with the published packages only:
 * @tensorflow/tfjs-core + tfjs-converter's loadGraphModel, on the cpu backend
 * (tfjs-backend-cpu, plain JS) or the wasm backend (tfjs-backend-wasm, XNNPACK;
 * its .wasm binaries are read from node_modules/@tensorflow/tfjs-backend-wasm/dist/).
 *
 * tfjs has one global engine per process; each session selects its backend
 * before loading and before every run (tfjs moves a weight tensor to the
 * active backend the first time a kernel there reads it), so cpu and wasm
 * sessions can be open at the same time.
 *
 * The bundle is read through a plain file IOHandler (model.json + shards ->
 * ModelArtifacts), which is what any Node user would write.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ModelContract } from '../../analysis/contract.js';
import type { BundleFile } from '../../targets/target.js';
import { joinWeightBytes } from '../../targets/tfjs/weights.js';
import { inputDims } from '../input-dims.js';
import type { ParityRuntime, Probe, RuntimeSession } from '../runtime.js';

type TfCore = typeof import('@tensorflow/tfjs-core');
type TfConverter = typeof import('@tensorflow/tfjs-converter');
type IOHandler = import('@tensorflow/tfjs-core').io.IOHandler;
type ModelArtifacts = import('@tensorflow/tfjs-core').io.ModelArtifacts;

export type TfjsNodeBackend = 'cpu' | 'wasm';

const require = createRequire(import.meta.url);

interface Tf {
  readonly core: TfCore;
  readonly converter: TfConverter;
}

let loading: Promise<Tf> | undefined;

/** tfjs-core, the converter and both Node backends, loaded once. */
export function loadTfjs(): Promise<Tf> {
  loading ??= (async () => {
    const core = (await import('@tensorflow/tfjs-core')) as TfCore;
    const converter = (await import('@tensorflow/tfjs-converter')) as TfConverter;
    await import('@tensorflow/tfjs-backend-cpu');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmDir());
    // PROD only silences tfjs's console banner ("looks like you are running in Node.js").
    core.env().set('PROD', true);
    return { core, converter };
  })();
  return loading;
}

/** node_modules/@tensorflow/tfjs-backend-wasm/dist/ (with the trailing slash setWasmPaths needs). */
export function wasmDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

export function tfjsVersion(): string {
  try {
    return (JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Make `backend` the active tfjs backend; false when it cannot start here. */
export async function useBackend(tf: Tf, backend: TfjsNodeBackend): Promise<boolean> {
  if (tf.core.getBackend() === backend) return true;
  return tf.core.setBackend(backend);
}

/** Read model.json and its shards from disk: the IOHandler any Node user would write. */
export function fileHandler(modelJsonPath: string): IOHandler {
  return {
    async load(): Promise<ModelArtifacts> {
      const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: import('@tensorflow/tfjs-core').io.WeightsManifestEntry[] }[];
        format?: string;
        generatedBy?: string;
        convertedBy?: string;
        signature?: object;
        userDefinedMetadata?: { [key: string]: {} };
      };
      const dir = dirname(modelJsonPath);
      const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const weightData = joinWeightBytes(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: weightData.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

interface BundleMeta {
  readonly input?: { readonly layout?: 'NCHW' | 'NHWC' };
}

/** Open a tfjs graph model on a backend; run takes NCHW inputs whatever the bundle's input layout. */
export async function openTfjsModel(modelJsonPath: string, backend: TfjsNodeBackend, contract: ModelContract): Promise<RuntimeSession> {
  const tf = await loadTfjs();
  if (!(await useBackend(tf, backend))) throw new Error(`tfjs backend ${backend} does not start`);
  const model = await tf.converter.loadGraphModel(fileHandler(modelJsonPath));
  const meta = (model.metadata as { sf2Export?: BundleMeta } | undefined)?.sf2Export;
  const nhwc = meta?.input?.layout === 'NHWC' && contract.input.layout !== 'NHWC'; // data come in the contract's layout
  const inputKey = Object.keys((model.modelSignature as { inputs?: Record<string, unknown> } | undefined)?.inputs ?? {})[0] ?? contract.input.name;
  return {
    async run(input: Float32Array, n: number): Promise<Float32Array> {
      await useBackend(tf, backend);
      const dims = inputDims(contract, input.length, n);
      const y = tf.core.tidy(() => {
        const x = tf.core.tensor4d(input, dims);
        return model.execute({ [inputKey]: nhwc ? tf.core.transpose(x, [0, 2, 3, 1]) : x }) as import('@tensorflow/tfjs-core').Tensor;
      });
      const data = (await y.data()) as Float32Array;
      y.dispose();
      const expect = n * contract.embeddingDim;
      if (data.length !== expect) throw new Error(`tfjs output has ${data.length} values for ${n} rows, expected ${expect}`);
      return Float32Array.from(data);
    },
    async close(): Promise<void> {
      model.dispose();
    },
  };
}

function tfjsNodeRuntime(backend: TfjsNodeBackend): ParityRuntime {
  let probed: Promise<Probe> | undefined;
  return {
    id: `tfjs-node/${backend}`,
    target: 'tfjs',
    device: 'cpu',
    probe() {
      probed ??= (async (): Promise<Probe> => {
        let tf: Tf;
        try {
          tf = await loadTfjs();
        } catch (e) {
          return { available: false, reason: `the tfjs packages do not load: ${(e as Error).message.split('\n')[0]}` };
        }
        const ok = await useBackend(tf, backend).catch(() => false);
        if (!ok) return { available: false, reason: backend === 'wasm' ? `the tfjs wasm backend does not start (its .wasm files are read from ${wasmDir()})` : `the tfjs ${backend} backend does not start` };
        let variant = '';
        if (backend === 'wasm') {
          const simd = await tf.core.env().getAsync('WASM_HAS_SIMD_SUPPORT');
          const threads = await tf.core.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
          variant = ` (${simd ? 'simd' : 'no simd'}, ${threads ? 'threads' : 'single thread'})`;
        }
        return { available: true, info: { engine: `tfjs-converter loadGraphModel${variant}`, version: tfjsVersion(), device: 'cpu', backend } };
      })();
      return probed;
    },
    open(bundleDir: string, file: BundleFile, contract: ModelContract): Promise<RuntimeSession> {
      return openTfjsModel(join(bundleDir, file.path), backend, contract);
    },
  };
}

export const tfjsNodeCpu: ParityRuntime = tfjsNodeRuntime('cpu');
export const tfjsNodeWasm: ParityRuntime = tfjsNodeRuntime('wasm');
