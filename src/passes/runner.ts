/**
 * The pass manager (in the manner of onnx-ir's): run passes in order, verify
 * the graph's invariants after each one, and optionally rerun a list until no
 * pass changes anything.
 *
 *   runPasses(model, [a, b, c], options, ctx)                   a, b, c once
 *   runPasses(model, [a, b], options, ctx, { fixpoint: true })  (a, b)* until quiet
 *
 * Errors: a pass that throws is re-thrown with the passes that ran before it
 * named in the message (same error class and exit code, so the CLI still maps
 * it). A pass that leaves a broken graph is a bug in sf2-export: that becomes a
 * plain Error (exit 1, "internal") naming the pass and the broken invariant.
 *
 * Fixpoint reports: one report per pass of the list (by position), merged over
 * the iterations: counts summed, changed = changed in any iteration, skipped =
 * the last iteration's (what is still left alone at the end), details = those
 * of the first iteration that changed something (else the last). `iterations`
 * says how many rounds ran. A list that still changes after `maxIterations`
 * rounds stops there with a warning (a pass that always reports a change is a
 * bug, not a reason to loop forever).
 */
import { Sf2Error } from '../errors.js';
import type { Model } from '../ir/model.js';
import type { Pass, PassContext, PassOptions, PassReport } from './pass.js';

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

/** A PassReport with the number of fixpoint rounds it covers. */
export type RunnerReport = PassReport & { readonly iterations?: number };

export function runPasses(model: Model, passes: readonly Pass[], options: PassOptions, ctx: PassContext, run: RunnerOptions = {}): RunnerReport[] {
  const ran: string[] = [...(run.before ?? [])];
  const verify = run.verify ?? true;
  const rounds = run.fixpoint ? Math.max(1, run.maxIterations ?? 8) : 1;
  const history: PassReport[][] = passes.map(() => []);
  let iterations = 0;
  for (let round = 0; round < rounds; round++) {
    iterations++;
    let changed = false;
    passes.forEach((pass, i) => {
      const report = runOne(model, pass, options, ctx, ran, verify);
      ran.push(pass.name);
      history[i]!.push(report);
      changed ||= report.changed;
    });
    if (!changed) break;
    if (run.fixpoint && round === rounds - 1) {
      ctx.log.warn(`passes ${passes.map((p) => p.name).join(', ')} still changed the graph after ${rounds} rounds; stopping there`);
    }
  }
  return history.map((reports) => (run.fixpoint ? { ...mergeReports(reports), iterations } : reports[0]!));
}

function runOne(model: Model, pass: Pass, options: PassOptions, ctx: PassContext, ran: readonly string[], verify: boolean): PassReport {
  const after = ran.length ? ` (after ${ran.join(', ')})` : ' (the first pass)';
  let report: PassReport;
  try {
    report = pass.run(model, options, ctx);
  } catch (e) {
    if (e instanceof Error) {
      // Keep the class (and so the exit code and the hint); say where it happened.
      e.message = `pass ${pass.name}${after}: ${e.message}`;
      if (!(e instanceof Sf2Error)) (e as Error & { pass?: string }).pass = pass.name;
    }
    throw e;
  }
  if (verify) {
    try {
      model.graph.verify();
    } catch (e) {
      throw new Error(`pass ${pass.name}${after} left an invalid graph: ${(e as Error).message}`, { cause: e });
    }
  }
  ctx.log.debug(`${pass.name}: ${report.changed ? 'changed' : 'no change'} ${JSON.stringify(report.counts)}`);
  return report;
}

/** One report for several runs of the same pass (see the header). */
export function mergeReports(reports: readonly PassReport[]): PassReport {
  if (reports.length === 0) throw new Error('mergeReports: no reports');
  const counts: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + v;
  const last = reports[reports.length - 1]!;
  const firstChanged = reports.find((r) => r.changed);
  const details = (firstChanged ?? last).details;
  return {
    pass: last.pass,
    changed: reports.some((r) => r.changed),
    counts,
    skipped: last.skipped,
    ...(details ? { details } : {}),
  };
}
