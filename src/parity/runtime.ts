/**
 * A parity runtime runs one target's bundle on one engine and device
 * (onnxruntime-node cpu, tfjs wasm in Node, the WebGPU bundle in Chromium...).
 * Each registers in src/parity/runtimes/registry.ts. A runtime that cannot run
 * here says why (probe), and the report lists it as skipped with that reason.
 */
import type { ModelContract } from '../analysis/contract.js';
import type { BundleFile, TargetName } from '../targets/target.js';

export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

export interface RuntimeInfo {
  /** Engine and version, e.g. "onnxruntime-node 1.30.0". */
  readonly engine: string;
  readonly version: string;
  readonly device: 'cpu' | 'gpu';
  /** Execution provider or backend, e.g. "cpu", "webgpu", "wasm". */
  readonly backend: string;
  readonly adapter?: AdapterInfo;
  /** Facts a reader needs (which Vulkan driver, how the adapter was probed, ...). */
  readonly notes?: readonly string[];
}

export type Probe = { readonly available: true; readonly info: RuntimeInfo } | { readonly available: false; readonly reason: string };

export interface RuntimeSession {
  /** Run on `n` preprocessed inputs [n, 3, H, W] (NCHW float32); returns [n, D] raw embeddings. */
  run(input: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface ParityRuntime {
  /** Stable id, e.g. "onnxruntime-node/cpu". */
  readonly id: string;
  readonly target: TargetName;
  readonly device: 'cpu' | 'gpu';
  probe(): Promise<Probe>;
  /**
   * Why this runtime cannot run one bundle file here (for example fp16 on an
   * adapter without shader-f16), or undefined when it can. Asked after a
   * successful probe; such a run is reported as skipped with the reason.
   */
  supports?(file: BundleFile): Promise<string | undefined>;
  /** Open the bundle's model file (role 'model') for one precision. */
  open(bundleDir: string, file: BundleFile, contract: ModelContract): Promise<RuntimeSession>;
}
