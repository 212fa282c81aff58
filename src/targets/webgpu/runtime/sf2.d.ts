// Types for sf2.js (an sf2-export WebGPU bundle's runtime). WebGPU types
// (GPUDevice...) come from @webgpu/types or your DOM lib.

/**
 * Error codes: 'no-webgpu' | 'no-adapter' | 'limits' | 'device-lost' | 'input-size' | 'input-type' | 'bundle' | 'shader' | 'disposed',
 * 'golden' (no golden set, or not a valid one), 'self-test' (load(..., { selfTest: true }) and the self-test failed: `result` holds it).
 */
export declare class Sf2Error extends Error {
  readonly code: 'no-webgpu' | 'no-adapter' | 'limits' | 'device-lost' | 'input-size' | 'input-type' | 'bundle' | 'shader' | 'disposed' | 'golden' | 'self-test';
  /** code 'self-test': the failing result. */
  readonly result?: SelfTestResult;
}

/** What selfTest() found: the bundle's golden set run on this device. */
export interface SelfTestResult {
  /** Every row's cosine to the reference >= threshold, outputs finite, golden set and weights intact. */
  readonly pass: boolean;
  readonly minCosine: number;
  /** Largest |output - reference| over the raw embeddings. */
  readonly maxAbsDiff: number;
  readonly rows: number;
  readonly worstRow: number;
  /** The parity threshold (min cosine) of the bundle's precision. */
  readonly threshold: number;
  /** One line per problem, e.g. "row 2: cosine 0.3120 < 0.99999". */
  readonly failures: readonly string[];
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly isFallbackAdapter: boolean };
  /** e.g. "webgpu f32" (sf2.js), the tfjs backend name, "onnxruntime". */
  readonly backend: string;
  readonly precision: 'fp32' | 'fp16' | 'int8';
  /** 'ok' / 'mismatch': weights.bin was fetched and its sha256 checked (WebCrypto); 'not-checked' otherwise. */
  readonly weights: 'ok' | 'mismatch' | 'not-checked';
  /** The golden rows are synthetic (the bundle was exported without references). */
  readonly synthetic: boolean;
  readonly ms: number;
}

/** The parsed model.json (see docs/targets.md for every field). */
export interface Sf2Manifest {
  readonly format: 'sf2-webgpu';
  readonly version: 1;
  readonly precision: 'fp32' | 'fp16' | 'int8';
  readonly input: {
    readonly name: string;
    readonly shape: readonly (number | string)[];
    readonly layout: 'NCHW' | 'NHWC';
    readonly colorOrder: 'RGB' | 'BGR';
    readonly channels: 3;
    readonly height: number;
    readonly width: number;
    readonly mean: readonly number[];
    readonly std: readonly number[];
  };
  readonly output: { readonly name: string; readonly dim: number };
  readonly flipTTA: 'sum';
  readonly weights: { readonly file: string; readonly byteLength: number; readonly sha256: string; readonly tensors: readonly unknown[] };
  readonly [key: string]: unknown;
}

export interface LoadOptions {
  /** Use this device; otherwise navigator.gpu is asked for one. */
  readonly device?: GPUDevice;
  /** 'auto' (default): f16 kernels when the bundle has them and the device has shader-f16. */
  readonly arithmetic?: 'auto' | 'f16' | 'f32';
  readonly powerPreference?: GPUPowerPreference;
  /** Bytes per buffer binding at most (default: the device's maxStorageBufferBindingSize): weights spread over several buffers, big batches run in several passes. */
  readonly maxBindingSize?: number;
  /** Run selfTest() once at load; a failure throws Sf2Error 'self-test'. */
  readonly selfTest?: boolean;
}

export interface EmbedOptions {
  /** Return f(x) + f(flip x) (horizontal flip), computed on the GPU. */
  readonly flipTTA?: boolean;
  /** Divide each embedding by its L2 norm. */
  readonly normalize?: boolean;
}

/** Anything copyExternalImageToTexture accepts, of exactly the model's input size. */
export type ImageSource = ImageBitmap | HTMLCanvasElement | OffscreenCanvas | HTMLImageElement | HTMLVideoElement | VideoFrame;

/**
 * Float32Array: N x 3 x H x W preprocessed values (NCHW, RGB, (pixel - mean) / std).
 * Uint8Array / Uint8ClampedArray: N x H x W x 4 RGBA bytes, normalized on the GPU.
 * ImageData / ImageSource (or arrays of them): one image each, H x W.
 */
export type EmbedInput = Float32Array | Uint8Array | Uint8ClampedArray | ImageData | ImageSource | readonly ImageData[] | readonly ImageSource[];

export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

export interface Sf2Model {
  readonly manifest: Sf2Manifest;
  readonly device: GPUDevice;
  /** [3, H, W] */
  readonly inputShape: readonly [number, number, number];
  /** Embedding size D. */
  readonly dim: number;
  readonly info: {
    readonly precision: 'fp32' | 'fp16' | 'int8';
    readonly variant: 'f32' | 'f16';
    readonly arithmetic: 'f32' | 'f16';
    readonly adapter: AdapterInfo;
    readonly inputShape: readonly [number, number, number];
    readonly dim: number;
    /** Images per GPU pass with flipTTA (larger batches run in several passes). */
    readonly maxBatch: number;
  };
  /** N x D embeddings (raw unless normalize). Calls run one after another. */
  embed(input: EmbedInput, options?: EmbedOptions): Promise<Float32Array>;
  /** Run the bundle's golden set (golden.bin beside model.json, or options.golden) on this device. */
  selfTest(options?: { readonly golden?: string | URL | ArrayBuffer | ArrayBufferView }): Promise<SelfTestResult>;
  dispose(): void;
}

/** source: the bundle folder's URL, or { manifest, weights, golden? } (parsed model.json, weights.bin's and golden.bin's bytes). */
export declare function load(source: string | URL | { readonly manifest: Sf2Manifest | string; readonly weights: ArrayBuffer | ArrayBufferView; readonly golden?: ArrayBuffer | ArrayBufferView }, options?: LoadOptions): Promise<Sf2Model>;
