import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/log.js';
import { ExitCode, UnsupportedError } from '../../src/errors.js';
import type { Model } from '../../src/ir/model.js';
import { optimize, PASSES, PIPELINE } from '../../src/passes/index.js';
import { fixpoint, RunRecord, runPipeline, sequence, stepPasses } from '../../src/passes/manager.js';
import { detailsOf, type Pass, type PassReport } from '../../src/passes/pass.js';
import { mergeReports, runPasses } from '../../src/passes/runner.js';
import { headModel, input, newModel } from './graphs.js';

function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...createLogger({ quiet: true }), warn: (m: string) => void warnings.push(m), warnings };
}

const report = (pass: string, changed: boolean, counts: Record<string, number> = {}): PassReport => ({ pass, changed, counts, skipped: [] });

/** A pass that adds one Relu the first `times` runs. */
function growing(times: number, name = 'grow'): Pass & { runs: number } {
  const p = {
    name,
    description: 'adds a Relu',
    runs: 0,
    run(m: Model): PassReport {
      p.runs++;
      if (p.runs > times) return report(name, false, { added: 0 });
      const g = m.graph;
      const y = g.addNode({ op: 'Relu', inputs: [g.outputs[0]!] }).outputs[0]!;
      g.outputs = [y];
      return { ...report(name, true, { added: 1 }), skipped: [{ node: `run${p.runs}`, reason: 'demo' }] };
    },
  };
  return p;
}

function tiny(): Model {
  const { m, g } = newModel();
  const x = input(g, 'x', ['N', 4]);
  g.outputs = [g.addNode({ op: 'Relu', inputs: [x] }).outputs[0]!];
  return m;
}

describe('runPasses', () => {
  it('runs passes in order and returns one report each', () => {
    const order: string[] = [];
    const mk = (name: string): Pass => ({ name, description: name, run: () => (order.push(name), report(name, false)) });
    const reps = runPasses(tiny(), [mk('a'), mk('b'), mk('c')], {}, { log: recordingLog() });
    expect(order).toEqual(['a', 'b', 'c']);
    expect(reps.map((r) => r.pass)).toEqual(['a', 'b', 'c']);
  });

  it('re-throws a pass error with the passes that ran before, keeping class and exit code', () => {
    const ok: Pass = { name: 'first', description: '', run: () => report('first', false) };
    const bad: Pass = { name: 'second', description: '', run: () => { throw new UnsupportedError('x', 'cannot do it', 'try this'); } };
    let err: unknown;
    try {
      runPasses(tiny(), [ok, bad], {}, { log: recordingLog() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as UnsupportedError).exitCode).toBe(ExitCode.unsupported);
    expect((err as UnsupportedError).message).toBe('pass second (after first): cannot do it');
    expect((err as UnsupportedError).hint).toBe('try this');
  });

  it('verifies the graph after every pass: a pass that breaks it is an internal error naming it', () => {
    const breaker: Pass = {
      name: 'breaker',
      description: '',
      run(m) {
        const n = m.graph.nodes[0]!;
        m.graph.nodes.splice(0, 1); // drops the node without unhooking it
        void n;
        return report('breaker', true);
      },
    };
    const ok: Pass = { name: 'ok', description: '', run: () => report('ok', false) };
    expect(() => runPasses(tiny(), [ok, breaker], {}, { log: recordingLog() })).toThrow(/^pass breaker \(after ok\) left an invalid graph: /);
  });

  it('fixpoint: reruns the list until nothing changes, merging reports', () => {
    const p = growing(2);
    const reps = runPasses(tiny(), [p], {}, { log: recordingLog() }, { fixpoint: true });
    expect(p.runs).toBe(3);
    expect(reps).toEqual([{ pass: 'grow', changed: true, counts: { added: 2 }, skipped: [], iterations: 3 }]);
  });

  it('fixpoint: stops at the iteration cap with a warning', () => {
    const p = growing(100);
    const log = recordingLog();
    const reps = runPasses(tiny(), [p], {}, { log }, { fixpoint: true, maxIterations: 3 });
    expect(p.runs).toBe(3);
    expect(reps[0]).toMatchObject({ changed: true, counts: { added: 3 }, iterations: 3, skipped: [{ node: 'run3', reason: 'demo' }] });
    expect(log.warnings).toEqual(['passes grow still changed the graph after 3 rounds; stopping there']);
  });

  it('mergeReports keeps the first changing details and the last skips', () => {
    const a = { ...report('p', true, { n: 1 }), details: { first: true } };
    const b = { ...report('p', false, { n: 0, m: 2 }), skipped: [{ node: 'x', reason: 'y' }] };
    expect(mergeReports([a, b])).toEqual({ pass: 'p', changed: true, counts: { n: 1, m: 2 }, skipped: [{ node: 'x', reason: 'y' }], details: { first: true } });
  });
});

/** A pass that changes nothing and says so. */
const quiet = (name: string): Pass => ({ name, description: name, run: () => report(name, false) });

describe('sequence and fixpoint', () => {
  it('a sequence runs its steps once, in order, and records each run outside any fixpoint', () => {
    const { reports, record } = runPipeline(tiny(), sequence(quiet('a'), sequence(quiet('b'), quiet('c'))), {}, { log: recordingLog() });
    expect(reports.map((r) => r.pass)).toEqual(['a', 'b', 'c']);
    expect(record.runs).toEqual([
      { pass: 'a', changed: false, rounds: [] },
      { pass: 'b', changed: false, rounds: [] },
      { pass: 'c', changed: false, rounds: [] },
    ]);
    expect(record.fixpoints).toEqual([]);
  });

  it('a fixpoint that converges: the record has every round, the reports one per position with iterations', () => {
    const p = growing(2);
    const log = recordingLog();
    const { reports, record } = runPipeline(tiny(), sequence(quiet('first'), fixpoint(sequence(p, quiet('after')), { maxIterations: 5 })), {}, { log });
    // rounds 1 and 2 add a Relu, round 3 changes nothing: 3 rounds of 5
    expect(p.runs).toBe(3);
    expect(record.runs.map((r) => `${r.pass}${r.rounds.join('.')}:${r.changed}`)).toEqual(['first:false', 'grow1:true', 'after1:false', 'grow2:true', 'after2:false', 'grow3:false', 'after3:false']);
    expect(record.fixpoints).toEqual([{ passes: ['grow', 'after'], iterations: 3, converged: true }]);
    expect(record.ran()).toEqual(['first', 'grow', 'after', 'grow', 'after', 'grow', 'after']);
    expect(reports).toEqual([
      { pass: 'first', changed: false, counts: {}, skipped: [] },
      { pass: 'grow', changed: true, counts: { added: 2 }, skipped: [], iterations: 3 },
      { pass: 'after', changed: false, counts: {}, skipped: [], iterations: 3 },
    ]);
    expect(log.warnings).toEqual([]);
  });

  it('a fixpoint that stops at maxIterations: recorded as not converged, with the warning', () => {
    const p = growing(100);
    const log = recordingLog();
    const { reports, record } = runPipeline(tiny(), fixpoint(p, { maxIterations: 2 }), {}, { log });
    expect(p.runs).toBe(2);
    expect(record.fixpoints).toEqual([{ passes: ['grow'], iterations: 2, converged: false }]);
    expect(record.runs.map((r) => r.rounds)).toEqual([[1], [2]]);
    expect(reports).toEqual([{ pass: 'grow', changed: true, counts: { added: 2 }, skipped: [{ node: 'run2', reason: 'demo' }], iterations: 2 }]);
    expect(log.warnings).toEqual(['passes grow still changed the graph after 2 rounds; stopping there']);
  });

  it('nested fixpoints record the round of each enclosing fixpoint, inner first when it ends', () => {
    const inner = growing(3, 'inner');
    const { record } = runPipeline(tiny(), fixpoint(sequence(fixpoint(inner, { maxIterations: 2 }), quiet('outer')), { maxIterations: 3 }), {}, { log: recordingLog() });
    // outer round 1: inner changes twice (cap 2, not converged); round 2: inner changes once then is quiet; round 3: quiet
    expect(record.runs.filter((r) => r.pass === 'inner').map((r) => r.rounds)).toEqual([[1, 1], [1, 2], [2, 1], [2, 2], [3, 1]]);
    expect(record.fixpoints).toEqual([
      { passes: ['inner'], iterations: 2, converged: false },
      { passes: ['inner'], iterations: 2, converged: true },
      { passes: ['inner'], iterations: 1, converged: true },
      { passes: ['inner', 'outer'], iterations: 3, converged: true },
    ]);
  });

  it('an error names every pass the record holds, fixpoint rounds included', () => {
    const bad: Pass = { name: 'bad', description: '', run: () => { throw new UnsupportedError('x', 'no'); } };
    const step = sequence(fixpoint(growing(1), { maxIterations: 4 }), bad);
    expect(() => runPipeline(tiny(), step, {}, { log: recordingLog() }, { record: new RunRecord(['earlier']) })).toThrow('pass bad (after earlier, grow, grow): no');
  });

  it('fixpoint caps below 1 run one round; stepPasses lists the report positions', () => {
    expect(fixpoint(quiet('a'), { maxIterations: 0 }).maxIterations).toBe(1);
    expect(fixpoint(quiet('a')).maxIterations).toBe(8);
    expect(stepPasses(PIPELINE)).toEqual(['shape-subgraphs', 'strip-head', 'cleanup', 'fold-batchnorm', 'cleanup', 'shapes']);
  });
});

describe('optimize', () => {
  it('runs shape-subgraphs, strip-head, cleanup, fold-batchnorm, cleanup, shapes and names every pass in PASSES', () => {
    const { model } = headModel(9, { d: 8, classes: 30, layout: 'DxC', withEmbedding: true });
    const reps = optimize(model, {}, { log: recordingLog() });
    expect(reps.map((r) => r.pass)).toEqual(['shape-subgraphs', 'strip-head', 'cleanup', 'fold-batchnorm', 'cleanup', 'shapes']);
    expect(Object.keys(PASSES).sort()).toEqual(['cleanup', 'fold-batchnorm', 'shape-subgraphs', 'shapes', 'strip-head']);
    // the head model's two BNs (BN2d before Flatten -> Gemm, BN1d after it) both fold
    expect(reps[3]!.counts).toMatchObject({ folded: 2, bnFlattenGemm: 1, gemmBn: 1 });
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['Conv', 'PRelu', 'Flatten', 'Gemm']);
    // the fixpoint's reports carry its rounds; the typed details read back without a cast
    expect(reps.map((r) => 'iterations' in r)).toEqual([false, false, true, true, true, false]);
    expect(detailsOf(reps, 'fold-batchnorm')?.folded.map((f) => f.pattern)).toEqual(['bn-flatten-gemm', 'gemm-bn']);
    expect(detailsOf(reps, 'strip-head')?.reason).toBe('head removed');
  });
});
