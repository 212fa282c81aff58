/**
 * The pass interface. A pass edits the model in place and returns a report:
 * what it changed (counts), and every place it looked at and left alone, with
 * the reason. A pass that does not apply returns a report with changed=false;
 * it throws only for input that makes the whole export impossible.
 *
 * Details are typed by the pass name: `PassReport<'strip-head'>` carries
 * `StripHeadDetails`, and `detailsOf(reports, 'strip-head')` reads them back from
 * a report list (the manifest's `passes`) without a cast at the reader. A pass
 * this table does not name (a test's, a caller's own) reports `PassDetails`,
 * plain JSON-like facts.
 */
import type { Logger } from '../log.js';
import type { Model } from '../ir/model.js';
import type { Dim } from '../ir/value.js';
import type { HeadKind } from '../analysis/head.js';

export interface Skip {
  /** Node (or value) name. */
  readonly node: string;
  readonly reason: string;
}

/** Details of a pass the table below does not name. */
export type PassDetails = Readonly<Record<string, unknown>>;

/** strip-head: what was cut (docs/manifest.md `head`). A type alias, so it is a PassDetails too. */
export type StripHeadDetails = {
  readonly reason: 'head removed' | 'no head';
  /** Head kind from ../analysis/head.ts (null: no head). */
  readonly kind: HeadKind | null;
  readonly description: string;
  /** The tensor the graph was cut at (before it was renamed "embedding"). */
  readonly embeddingTensor: string;
  readonly featureDim: number | null;
  readonly classes: number | null;
  readonly bytesRemoved: number;
  readonly nodesRemoved: number;
  /** Only when a head was looked for and cut (absent for a head-free model's output). */
  readonly weight?: string | null;
  readonly weightLayout?: 'DxC' | 'CxD' | null;
  readonly normalization?: string | null;
  readonly inputsRemoved?: readonly string[];
  readonly outputsRemoved?: readonly string[];
  /** The kept output looks like a classifier's (small D, Softmax at the end): how to check. */
  readonly classifierWarning?: string;
};

/** shape-subgraphs: how many Shape nodes are still needed at run time. */
export type ShapeSubgraphsDetails = { readonly shapeOpsLeft: number };

/** fold-batchnorm: every BN folded (or rewritten as Mul + Add: pattern 'affine'), in graph order. */
export type FoldBatchNormDetails = {
  readonly folded: readonly { readonly node: string; readonly pattern: string; readonly into: string }[];
};

/** shapes: the image input after the pass, the batch symbol and where H, W came from. */
export type ShapesDetails = {
  readonly input: { readonly name: string; readonly shape: readonly Dim[] | null } | null;
  readonly batchSymbol: string;
  readonly inputSizeSource: 'model' | 'option' | 'default';
};

/** The details each pass of this package reports (cleanup reports none). */
export interface PassDetailsByName {
  'strip-head': StripHeadDetails;
  'shape-subgraphs': ShapeSubgraphsDetails;
  'fold-batchnorm': FoldBatchNormDetails;
  shapes: ShapesDetails;
}

/** The details type of the pass called N. */
export type DetailsOf<N extends string> = N extends keyof PassDetailsByName ? PassDetailsByName[N] : PassDetails;

export interface PassReport<N extends string = string> {
  readonly pass: N;
  readonly changed: boolean;
  /** Named counts, e.g. { folded: 12, removedNodes: 30 }. */
  readonly counts: Readonly<Record<string, number>>;
  readonly skipped: readonly Skip[];
  /** Pass-specific facts for the manifest (e.g. the stripped head). */
  readonly details?: DetailsOf<N>;
}

/**
 * The details of the report of pass `name` in `reports` (the first such report),
 * typed by the name. The one place that trusts the name: every report named N is
 * built by the pass named N (Pass<N>.run returns PassReport<N>).
 */
export function detailsOf<N extends keyof PassDetailsByName>(reports: readonly PassReport[], name: N): DetailsOf<N> | undefined {
  const r = reports.find((x): x is PassReport<N> => x.pass === name);
  return r?.details;
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

export interface Pass<N extends string = string> {
  readonly name: N;
  /** One line: what the pass does. */
  readonly description: string;
  run(model: Model, options: PassOptions, ctx: PassContext): PassReport<N>;
}
