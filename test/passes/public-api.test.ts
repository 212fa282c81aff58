/**
 * The pass managers and the builder from the package entry (src/index.ts), as a
 * library user composes them: a graph built with GraphBuilder
 *   x [N, 4] -> Identity -> Identity -> Relu -> y
 * run through fixpoint(sequence(cleanup)): round 1 removes both Identities,
 * round 2 changes nothing, so the fixpoint converges after 2 rounds; the
 * RunRecord lists both runs with their round. PIPELINE is the export's pipeline.
 */
import { describe, expect, it } from 'vitest';
import { detailsOf, fixpoint, GraphBuilder, optimize, PASSES, PIPELINE, RunRecord, runPipeline, sequence, stepPasses } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';
import { headModel } from './graphs.js';

function identities() {
  const b = new GraphBuilder();
  const x = b.input('x', ['N', 4]);
  b.output(b.node('Relu', [b.node('Identity', [b.node('Identity', [x])])]), 'y');
  return b.model(13);
}

describe('the passes API from the package entry', () => {
  it('fixpoint(sequence(cleanup)) on a built model: converges in 2 rounds, recorded', () => {
    const m = identities();
    const record = new RunRecord(['before']);
    const { reports, record: r } = runPipeline(m, fixpoint(sequence(PASSES.cleanup!)), {}, { log: silentLogger }, { record });
    expect(r).toBe(record);
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ pass: 'cleanup', changed: true, iterations: 2 });
    expect(r.runs).toEqual([
      { pass: 'cleanup', changed: true, rounds: [1] },
      { pass: 'cleanup', changed: false, rounds: [2] },
    ]);
    expect(r.fixpoints).toEqual([{ passes: ['cleanup'], iterations: 2, converged: true }]);
    expect(r.ran()).toEqual(['before', 'cleanup', 'cleanup']);
  });

  it('PIPELINE is what optimize runs; detailsOf reads strip-head typed', () => {
    expect(stepPasses(PIPELINE)).toEqual(['shape-subgraphs', 'strip-head', 'cleanup', 'fold-batchnorm', 'cleanup', 'shapes']);
    const { model, embedding } = headModel(3, { d: 8, classes: 30, layout: 'DxC' });
    const reports = optimize(model, {}, { log: silentLogger });
    expect(reports.map((x) => x.pass)).toEqual(stepPasses(PIPELINE));
    const head = detailsOf(reports, 'strip-head');
    expect(head?.reason).toBe('head removed');
    expect(head?.embeddingTensor).toBe(embedding);
    expect(head?.classes).toBe(30);
  });
});
