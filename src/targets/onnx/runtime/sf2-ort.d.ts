// Types for sf2-ort.js (the self-test of an sf2-export ONNX bundle).

/** Error codes: 'usage' (bad arguments), 'golden' (no golden set, or not a valid one). */
export declare class Sf2Error extends Error {
  readonly code: 'usage' | 'golden';
}

/** What selfTest() found (the same object sf2.js and sf2-tfjs.js return; docs/targets.md, Self-test). */
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
  readonly backend: string;
  readonly precision: 'fp32' | 'fp16' | 'int8';
  readonly weights: 'ok' | 'mismatch' | 'not-checked';
  readonly synthetic: boolean;
  readonly ms: number;
}

export interface OrtSelfTestOptions {
  /** The onnxruntime module the session comes from (onnxruntime-web or onnxruntime-node). */
  readonly ort: { readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown };
  /** Which bundle: model.<precision>.golden.bin beside this file. */
  readonly precision?: 'fp32' | 'fp16' | 'int8';
  /** The golden set's URL or bytes instead. */
  readonly golden?: string | URL | ArrayBuffer | ArrayBufferView;
  /** The .onnx bytes the session was made from: their sha256 is checked too. */
  readonly modelBytes?: ArrayBuffer | ArrayBufferView;
  /** Reported as result.backend (default 'onnxruntime'). */
  readonly backend?: string;
}

/** Run the golden set on an onnxruntime InferenceSession. */
export declare function selfTest(session: { readonly inputNames: readonly string[]; readonly outputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<Record<string, { readonly data: ArrayLike<number> }>> }, options: OrtSelfTestOptions): Promise<SelfTestResult>;
