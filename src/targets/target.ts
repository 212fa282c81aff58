/**
 * A target writes one kind of bundle (ONNX, TensorFlow.js, WebGPU) from the
 * optimized fp32 model, for each precision asked for. Targets register in
 * src/targets/registry.ts; parity runtimes for their bundles register in
 * src/parity/runtimes/registry.ts.
 */
import type { Logger } from '../log.js';
import type { Model } from '../ir/model.js';
import type { ModelContract } from '../analysis/contract.js';
import type { Precision } from '../ir/precision.js';
import type { GoldenSource, writeGoldenSet } from '../bundle/golden-set.js';
import type { Node } from '../ir/node.js';

export { TARGET_NAMES, type TargetName, type BundleFile } from '../bundle/bundle-file.js';
import type { BundleFile, TargetName } from '../bundle/bundle-file.js';

/** Calibration data for static quantization: inputs [N, C, H, W] float32. */
export interface CalibrationData {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /** Optional (quantization): reference embeddings [N, D] of these rows (PyTorch), measured against instead of the fp32 model. */
  readonly embeddings?: Float32Array;
  /** Optional (quantization): verification pairs over these rows [M, 2] and their labels [M] (decision flips are checked). */
  readonly pairs?: Int32Array;
  readonly issame?: Uint8Array;
  /** Optional: where the rows came from, for reports (e.g. "fixtures/sfnet10.npz inputs"). */
  readonly source?: string;
}

export interface TargetContext {
  /** Optimized fp32 model: head stripped, BN folded, shapes known. Read-only: clone before editing. */
  readonly model: Model;
  readonly contract: ModelContract;
  readonly precision: Precision;
  /** The bundle root being written (a temporary folder). */
  readonly outDir: string;
  readonly log: Logger;
  readonly options: TargetOptions;
  /** Inputs for calibration and sensitivity (references' inputs, or synthetic). */
  readonly calibration?: CalibrationData;
  /** Rows for the bundle's golden set (src/bundle/golden-set.ts); none: no golden set is written. */
  readonly golden?: GoldenSource;
}

export interface TargetOptions {
  /** tfjs: NCHW input as the ONNX contract (default) or NHWC pixels-first. */
  readonly tfjsInput?: 'nchw' | 'nhwc';
  /** Quantization options (issue: quantization). */
  readonly calibrationMethod?: 'minmax' | 'percentile' | 'entropy';
  /** int8 flavour of the ONNX bundle (default 'weight-only'; docs/quantization.md). */
  readonly int8Scheme?: 'qdq' | 'weight-only';
  /** Per-layer sensitivity measurements: 'auto' (only when thresholds fail, default), 'always', 'off'. */
  readonly sensitivity?: 'auto' | 'always' | 'off';
  /** ONNX fp16: 'none' (default) or 'ort-cpu' (explicit float32 islands where onnxruntime cpu has no float16 kernel). */
  readonly fp16Islands?: 'none' | 'ort-cpu';
}

/** The golden set's facts for the manifest (src/bundle/golden-set.ts). */
export type GoldenSetDetails = ReturnType<typeof writeGoldenSet>['details'];

/**
 * What `write` returns. D: the target's facts for the manifest (its
 * targets["<target>/<precision>"] entry, e.g. what stayed in higher precision
 * and why); each target names its own type (TfjsTargetDetails, OnnxDetails).
 */
export interface TargetResult<D extends object = object> {
  readonly files: readonly BundleFile[];
  readonly details?: D;
}

/**
 * A target: `check` refuses what it cannot write (before anything is written),
 * `write` lowers the model into the bundle's files. The targets whose lowering
 * is op by op read an op table (one row per ONNX op {constraints, check,
 * lower}: tfjs/op-map.ts, webgpu/op-table.ts); registry.ts lists both.
 */
export interface Target<D extends object = object> {
  readonly name: TargetName;
  /** Check before anything is written; throw UnsupportedError listing every problem. */
  check(model: Model, precision: Precision): void;
  write(ctx: TargetContext): Promise<TargetResult<D>>;
}

/** One row of a target's op table, as every table has it (for listings: docs, `registry.opTable`). */
export interface TargetOpRow {
  /** What must hold for a node of this op to convert. */
  readonly constraints: readonly string[];
  /** Why this node cannot be converted: none (empty, undefined) when it can. */
  check(n: Node): readonly string[] | string | undefined;
}

export type TargetOpTable = Readonly<Record<string, TargetOpRow>>;
