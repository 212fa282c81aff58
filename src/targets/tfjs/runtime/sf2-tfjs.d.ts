// Types for sf2-tfjs.js (the self-test of an sf2-export TensorFlow.js bundle).

/** Error codes: 'usage' (bad arguments), 'golden' (no golden set, or not a valid one). */
export declare class Sf2Error extends Error {
  readonly code: 'usage' | 'golden';
}

/** What selfTest() found (the same object sf2.js and sf2-ort.js return; docs/targets.md, Self-test). */
export interface SelfTestResult {
  readonly pass: boolean;
  readonly minCosine: number;
  readonly maxAbsDiff: number;
  readonly rows: number;
  readonly worstRow: number;
  readonly threshold: number;
  /** One line per problem, e.g. "row 2: cosine 0.3120442 < 0.99999". */
  readonly failures: readonly string[];
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly isFallbackAdapter: boolean };
  /** tf.getBackend(): 'cpu', 'wasm', 'webgl', 'webgpu', ... */
  readonly backend: string;
  readonly precision: 'fp32' | 'fp16' | 'int8';
  readonly weights: 'ok' | 'mismatch' | 'not-checked';
  readonly synthetic: boolean;
  readonly ms: number;
}

export interface TfjsSelfTestOptions {
  /** The tf module (@tensorflow/tfjs, or tfjs-core with a backend). */
  readonly tf: unknown;
  /** The golden set's URL or bytes instead of golden.bin beside this file. */
  readonly golden?: string | URL | ArrayBuffer | ArrayBufferView;
  /** Shard bytes by file name, to check their sha256. */
  readonly weights?: Readonly<Record<string, ArrayBuffer | ArrayBufferView>>;
  /** Fetch the shards from beside the golden set and check their sha256. */
  readonly checkWeights?: boolean;
}

/** Run the golden set on a loaded tf.GraphModel, on the active backend. */
export declare function selfTest(model: unknown, options: TfjsSelfTestOptions): Promise<SelfTestResult>;
