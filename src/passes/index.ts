/**
 * The optimization pipeline and the pass table.
 *
 *   shape-subgraphs                    once: Shape/Gather/Concat arithmetic evaluated
 *                                      with a symbolic batch (dynamic flatten -> Flatten),
 *                                      so that the head finder sees [N, D] shapes
 *   strip-head                         once: the cut is the first thing, so nothing
 *                                      below spends time on the head
 *   (cleanup, fold-batchnorm, cleanup) to a fixpoint (at most 4 rounds): cleanup
 *                                      removes Identity/Dropout between a BN and the op
 *                                      it folds into; folding leaves unused weights
 *   shapes                             once, last: the final graph gets its annotations
 *
 * declared once, as data (PIPELINE, run by manager.ts). The reports come back in
 * that order (one per pass position; fixpoint rounds merged, see manager.ts),
 * ready for the manifest.
 */
import type { Model } from '../ir/model.js';
import { cleanup } from './cleanup.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { fixpoint, runPipeline, sequence, type Step } from './manager.js';
import type { Pass, PassContext, PassOptions, PassReport } from './pass.js';
import { shapes } from './shapes.js';
import { shapeSubgraphs } from './shape-subgraphs.js';
import { stripHead } from './strip-head.js';

export { runPasses, type RunnerOptions } from './runner.js';
export { fixpoint, mergeReports, RunRecord, runPipeline, sequence, stepPasses } from './manager.js';
export type { Fixpoint, FixpointRun, Manager, PassRun, RunnerReport, RunOptions, Sequence, Step } from './manager.js';
export { detailsOf } from './pass.js';
export type { DetailsOf, FoldBatchNormDetails, Pass, PassContext, PassDetails, PassDetailsByName, PassOptions, PassReport, ShapesDetails, ShapeSubgraphsDetails, Skip, StripHeadDetails } from './pass.js';

/** Every pass by name (for the CLI and for tests). */
export const PASSES: Readonly<Record<string, Pass>> = {
  [shapeSubgraphs.name]: shapeSubgraphs,
  [stripHead.name]: stripHead,
  [cleanup.name]: cleanup,
  [foldBatchNorm.name]: foldBatchNorm,
  [shapes.name]: shapes,
};

/** The export pipeline (see the header). */
export const PIPELINE: Step = sequence(shapeSubgraphs, stripHead, fixpoint(sequence(cleanup, foldBatchNorm, cleanup), { maxIterations: 4 }), shapes);

export function optimize(model: Model, options: PassOptions, ctx: PassContext): PassReport[] {
  return runPipeline(model, PIPELINE, options, ctx).reports;
}
