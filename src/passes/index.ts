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
 * The reports come back in that order (one per list position; fixpoint rounds
 * merged, see runner.ts), ready for the manifest.
 */
import type { Model } from '../ir/model.js';
import { cleanup } from './cleanup.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import type { Pass, PassContext, PassOptions, PassReport } from './pass.js';
import { runPasses } from './runner.js';
import { shapes } from './shapes.js';
import { shapeSubgraphs } from './shape-subgraphs.js';
import { stripHead } from './strip-head.js';

export { runPasses, mergeReports, type RunnerOptions, type RunnerReport } from './runner.js';
export type { Pass, PassContext, PassOptions, PassReport, Skip } from './pass.js';

/** Every pass by name (for the CLI and for tests). */
export const PASSES: Readonly<Record<string, Pass>> = {
  [shapeSubgraphs.name]: shapeSubgraphs,
  [stripHead.name]: stripHead,
  [cleanup.name]: cleanup,
  [foldBatchNorm.name]: foldBatchNorm,
  [shapes.name]: shapes,
};

export function optimize(model: Model, options: PassOptions, ctx: PassContext): PassReport[] {
  const reports: PassReport[] = [];
  reports.push(...runPasses(model, [shapeSubgraphs], options, ctx));
  reports.push(...runPasses(model, [stripHead], options, ctx, { before: ['shape-subgraphs'] }));
  reports.push(...runPasses(model, [cleanup, foldBatchNorm, cleanup], options, ctx, { fixpoint: true, maxIterations: 4, before: ['shape-subgraphs', 'strip-head'] }));
  reports.push(...runPasses(model, [shapes], options, ctx, { before: ['shape-subgraphs', 'strip-head', 'cleanup', 'fold-batchnorm', 'cleanup'] }));
  return reports;
}
