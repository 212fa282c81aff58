/**
 * The pass interface. A pass edits the model in place and returns a report:
 * what it changed (counts), and every place it looked at and left alone, with
 * the reason. A pass that does not apply returns a report with changed=false;
 * it throws only for input that makes the whole export impossible.
 */
import type { Logger } from '../log.js';
import type { Model } from '../ir/model.js';

export interface Skip {
  /** Node (or value) name. */
  readonly node: string;
  readonly reason: string;
}

export interface PassReport {
  readonly pass: string;
  readonly changed: boolean;
  /** Named counts, e.g. { folded: 12, removedNodes: 30 }. */
  readonly counts: Readonly<Record<string, number>>;
  readonly skipped: readonly Skip[];
  /** Pass-specific facts for the manifest (e.g. the stripped head). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface PassOptions {
  /** Tensor to cut at instead of the detected embedding (strip-head). */
  readonly embedding?: string;
  /** Keep this many as symbolic batch dimension name (shapes). */
  readonly batchSymbol?: string;
  /**
   * What fold-batchnorm does with a BN that cannot fold exactly (before a padded
   * conv, after a residual Add): 'keep' it as BatchNormalization (default, measured
   * faster: docs/benchmarks.md) or rewrite it as 'affine' Mul + Add.
   */
  readonly bnUnfoldable?: 'keep' | 'affine';
  /** Input [H, W] when the model leaves them symbolic (shapes; default: the model's, else 112x112). */
  readonly inputSize?: readonly [number, number];
}

export interface PassContext {
  readonly log: Logger;
}

export interface Pass {
  readonly name: string;
  /** One line: what the pass does. */
  readonly description: string;
  run(model: Model, options: PassOptions, ctx: PassContext): PassReport;
}
