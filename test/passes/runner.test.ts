import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/log.js';
import { ExitCode, UnsupportedError } from '../../src/errors.js';
import type { Model } from '../../src/ir/model.js';
import { optimize, PASSES } from '../../src/passes/index.js';
import type { Pass, PassReport } from '../../src/passes/pass.js';
import { mergeReports, runPasses } from '../../src/passes/runner.js';
import { headModel, input, newModel } from './graphs.js';

function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...createLogger({ quiet: true }), warn: (m: string) => void warnings.push(m), warnings };
}

const report = (pass: string, changed: boolean, counts: Record<string, number> = {}): PassReport => ({ pass, changed, counts, skipped: [] });

/** A pass that adds one Relu the first `times` runs. */
function growing(times: number): Pass & { runs: number } {
  const p = {
    name: 'grow',
    description: 'adds a Relu',
    runs: 0,
    run(m: Model): PassReport {
      p.runs++;
      if (p.runs > times) return report('grow', false, { added: 0 });
      const g = m.graph;
      const y = g.addNode({ op: 'Relu', inputs: [g.outputs[0]!] }).outputs[0]!;
      g.outputs = [y];
      return { ...report('grow', true, { added: 1 }), skipped: [{ node: `run${p.runs}`, reason: 'demo' }] };
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

describe('optimize', () => {
  it('runs shape-subgraphs, strip-head, cleanup, fold-batchnorm, cleanup, shapes and names every pass in PASSES', () => {
    const { model } = headModel(9, { d: 8, classes: 30, layout: 'DxC', withEmbedding: true });
    const reps = optimize(model, {}, { log: recordingLog() });
    expect(reps.map((r) => r.pass)).toEqual(['shape-subgraphs', 'strip-head', 'cleanup', 'fold-batchnorm', 'cleanup', 'shapes']);
    expect(Object.keys(PASSES).sort()).toEqual(['cleanup', 'fold-batchnorm', 'shape-subgraphs', 'shapes', 'strip-head']);
    // the head model's two BNs (BN2d before Flatten -> Gemm, BN1d after it) both fold
    expect(reps[3]!.counts).toMatchObject({ folded: 2, bnFlattenGemm: 1, gemmBn: 1 });
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['Conv', 'PRelu', 'Flatten', 'Gemm']);
  });
});
