/**
 * runPasses: a list of passes run once, or to a fixpoint, through the pass
 * managers of manager.ts (which owns the running, the verification, the error
 * messages and the report merging):
 *
 *   runPasses(model, [a, b, c], options, ctx)                   sequence(a, b, c)
 *   runPasses(model, [a, b], options, ctx, { fixpoint: true })  fixpoint(sequence(a, b))
 */
import type { Model } from '../ir/model.js';
import { fixpoint, RunRecord, runPipeline, sequence, type RunnerReport } from './manager.js';
import type { Pass, PassContext, PassOptions } from './pass.js';

export { mergeReports, type RunnerReport } from './manager.js';

export interface RunnerOptions {
  /** Rerun the list until a round changes nothing (default false). */
  readonly fixpoint?: boolean;
  /** Round cap for fixpoint runs (default 8). */
  readonly maxIterations?: number;
  /** Check graph invariants after every pass (default true). */
  readonly verify?: boolean;
  /** Names of passes that ran earlier (for error messages across several runPasses calls). */
  readonly before?: readonly string[];
}

export function runPasses(model: Model, passes: readonly Pass[], options: PassOptions, ctx: PassContext, run: RunnerOptions = {}): RunnerReport[] {
  const list = sequence(...passes);
  const step = run.fixpoint ? fixpoint(list, { maxIterations: run.maxIterations }) : list;
  return runPipeline(model, step, options, ctx, { verify: run.verify, record: new RunRecord(run.before) }).reports;
}
