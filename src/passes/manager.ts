/**
 * Pass managers: passes composed as data, in the manner of onnx-ir's
 * `_pass_infra.py` (Sequential, PassManager), and one interpreter that runs them,
 * verifies the graph after every pass and records what ran.
 *
 *   sequence(a, b, c)                   a, b, c once, in order
 *   fixpoint(s, { maxIterations: k })   s, again, until a round changes nothing
 *                                       (at most k rounds, default 8)
 *
 * Both are steps, so they nest; the export pipeline (index.ts) is one value:
 *   sequence(shapeSubgraphs, stripHead, fixpoint(sequence(cleanup, foldBatchNorm, cleanup), { maxIterations: 4 }), shapes)
 *
 * Reports: one per pass position of the step, in order. A sequence concatenates
 * its steps' reports; a fixpoint merges each position's reports over its rounds
 * (mergeReports: counts summed, changed = changed in any round, skipped = the
 * last round's, details = those of the first round that changed something, else
 * the last) and adds `iterations`, the rounds it ran. A fixpoint still changing
 * after its last round stops there with a warning (a pass that always reports a
 * change is a bug, not a reason to loop forever).
 *
 * Record: every pass run is appended to a RunRecord (name, changed, the round of
 * each enclosing fixpoint), and every fixpoint when it ends (its passes, rounds,
 * converged or not). What a pass is told ran before it (in error messages) is
 * the record's list, so it cannot drift from what ran.
 *
 * Errors: a pass that throws is re-thrown with the passes that ran before it
 * named in the message (same error class and exit code, so the CLI still maps
 * it). A pass that leaves a broken graph is a bug in sf2-export: that becomes a
 * plain Error (exit 1, "internal") naming the pass and the broken invariant.
 */
import { Sf2Error } from '../errors.js';
import type { Model } from '../ir/model.js';
import type { Pass, PassContext, PassOptions, PassReport } from './pass.js';

export interface Sequence {
  readonly kind: 'sequence';
  readonly steps: readonly Step[];
}

export interface Fixpoint {
  readonly kind: 'fixpoint';
  readonly step: Step;
  /** Round cap (at least 1). */
  readonly maxIterations: number;
}

export type Manager = Sequence | Fixpoint;
/** A pass, or passes composed. */
export type Step = Pass | Manager;

/** A PassReport with the number of fixpoint rounds it covers. */
export type RunnerReport = PassReport & { readonly iterations?: number };

export const DEFAULT_MAX_ITERATIONS = 8;

export function sequence(...steps: readonly Step[]): Sequence {
  return { kind: 'sequence', steps };
}

export function fixpoint(step: Step, opts: { readonly maxIterations?: number } = {}): Fixpoint {
  return { kind: 'fixpoint', step, maxIterations: Math.max(1, opts.maxIterations ?? DEFAULT_MAX_ITERATIONS) };
}

function isManager(s: Step): s is Manager {
  return 'kind' in s && (s.kind === 'sequence' || s.kind === 'fixpoint');
}

/** The pass names of a step, one per report position, in order. */
export function stepPasses(step: Step): string[] {
  if (!isManager(step)) return [step.name];
  return step.kind === 'sequence' ? step.steps.flatMap(stepPasses) : stepPasses(step.step);
}

export interface PassRun {
  readonly pass: string;
  readonly changed: boolean;
  /** The round (1-based) of each enclosing fixpoint, outermost first; [] outside any. */
  readonly rounds: readonly number[];
}

export interface FixpointRun {
  readonly passes: readonly string[];
  readonly iterations: number;
  /** false: still changing after maxIterations rounds. */
  readonly converged: boolean;
}

/** What ran, in order (see the header). */
export class RunRecord {
  readonly runs: PassRun[] = [];
  readonly fixpoints: FixpointRun[] = [];
  /** `before`: passes that ran earlier, outside this record (named in error messages). */
  constructor(readonly before: readonly string[] = []) {}
  /** Every pass name that ran, `before` first. */
  ran(): string[] {
    return [...this.before, ...this.runs.map((r) => r.pass)];
  }
}

export interface RunOptions {
  /** Check graph invariants after every pass (default true). */
  readonly verify?: boolean;
  /** Append to this record (default: a new one). */
  readonly record?: RunRecord;
}

/** Run `step` on `model`: its reports (one per pass position) and the record of what ran. */
export function runPipeline(model: Model, step: Step, options: PassOptions, ctx: PassContext, run: RunOptions = {}): { reports: RunnerReport[]; record: RunRecord } {
  const record = run.record ?? new RunRecord();
  const reports = execute(step, { model, options, ctx, record, verify: run.verify ?? true, rounds: [] });
  return { reports, record };
}

interface State {
  readonly model: Model;
  readonly options: PassOptions;
  readonly ctx: PassContext;
  readonly record: RunRecord;
  readonly verify: boolean;
  /** Rounds of the enclosing fixpoints (a stack). */
  readonly rounds: number[];
}

function execute(step: Step, st: State): RunnerReport[] {
  if (!isManager(step)) {
    const report = runOne(step, st);
    st.record.runs.push({ pass: step.name, changed: report.changed, rounds: [...st.rounds] });
    return [report];
  }
  if (step.kind === 'sequence') return step.steps.flatMap((s) => execute(s, st));
  const history: PassReport[][] = [];
  let iterations = 0;
  let changed = false;
  for (let round = 1; round <= step.maxIterations; round++) {
    iterations = round;
    st.rounds.push(round);
    let reports: RunnerReport[];
    try {
      reports = execute(step.step, st);
    } finally {
      st.rounds.pop();
    }
    reports.forEach((r, i) => (history[i] ??= []).push(r));
    changed = reports.some((r) => r.changed);
    if (!changed) break;
  }
  const passes = stepPasses(step.step);
  if (changed) st.ctx.log.warn(`passes ${passes.join(', ')} still changed the graph after ${iterations} rounds; stopping there`);
  st.record.fixpoints.push({ passes, iterations, converged: !changed });
  return history.map((reports) => ({ ...mergeReports(reports), iterations }));
}

function runOne(pass: Pass, st: State): PassReport {
  const ran = st.record.ran();
  const after = ran.length ? ` (after ${ran.join(', ')})` : ' (the first pass)';
  let report: PassReport;
  try {
    report = pass.run(st.model, st.options, st.ctx);
  } catch (e) {
    if (e instanceof Error) {
      // Keep the class (and so the exit code and the hint); say where it happened.
      e.message = `pass ${pass.name}${after}: ${e.message}`;
      if (!(e instanceof Sf2Error)) (e as Error & { pass?: string }).pass = pass.name;
    }
    throw e;
  }
  if (st.verify) {
    try {
      st.model.graph.verify();
    } catch (e) {
      throw new Error(`pass ${pass.name}${after} left an invalid graph: ${(e as Error).message}`, { cause: e });
    }
  }
  st.ctx.log.debug(`${pass.name}: ${report.changed ? 'changed' : 'no change'} ${JSON.stringify(report.counts)}`);
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
