/**
 * The export loads or computes its references once (src/pipeline/export.ts
 * exportReferences): the golden sets take their rows from the same set parity
 * measures, and the original model is run once for the reference embeddings
 * and once for the flip references, never again for parity. With --no-parity
 * no flip references are computed (the golden sets do not use them).
 *
 * The counts come from the log steps of the real runs (onnxruntime-node cpu on
 * the sfnet10 fixture); the golden rows are compared bit for bit with
 * references loaded independently (goldenMismatches: embeddings exactly equal,
 * inputs within the storage's rounding), the same deterministic runtime.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/log.js';
import type { ModelContract } from '../../src/analysis/contract.js';
import { exportModel } from '../../src/pipeline/export.js';
import { loadReferences } from '../../src/data/references.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { goldenMismatches, goldenPath } from '../../src/bundle/golden-set.js';
import { FIXTURES } from '../helpers/fixtures.js';

const MODEL = join(FIXTURES, 'sfnet10.eval.onnx');
const REF = join(FIXTURES, 'sfnet10.npz');
const CPU = RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu');

function stepLogger(): { log: Logger; steps: string[] } {
  const steps: string[] = [];
  const log: Logger = {
    verbose: false,
    info() {},
    warn() {},
    debug() {},
    step: (msg) => {
      steps.push(msg);
      return () => {};
    },
    progress: () => ({ tick() {}, done() {} }),
  };
  return { log, steps };
}

const count = (steps: readonly string[], prefix: string) => steps.filter((s) => s.startsWith(prefix)).length;

describe.skipIf(!existsSync(MODEL))('export: one reference set for the golden sets and parity', () => {
  // Order matters: flip references are cached per process by (model, inputs); each case below uses other inputs.
  it('--no-parity without --reference: the original model embeds the synthetic rows once, no flip references', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-refonce-'));
    try {
      const { log, steps } = stepLogger();
      const out = join(dir, 'b');
      const res = await exportModel(MODEL, { targets: ['onnx'], precisions: ['fp32'], out, skipParity: true, log });
      expect(count(steps, 'reference embeddings of')).toBe(1);
      expect(count(steps, 'flip references')).toBe(0);
      const ref = await loadReferences({ originalModel: MODEL, contract: res.manifest.model as ModelContract, flip: false });
      expect(goldenMismatches(out, goldenPath('onnx', 'fp32'), ref)).toEqual({ problems: [], notes: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('without --reference: reference embeddings once and flip references once, for the golden sets and parity together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-refonce-'));
    try {
      const { log, steps } = stepLogger();
      const out = join(dir, 'b');
      const res = await exportModel(MODEL, { targets: ['onnx'], precisions: ['fp32', 'fp16'], out, runtimes: CPU, device: 'cpu', log });
      expect(res.ok).toBe(true);
      expect(count(steps, 'reference embeddings of')).toBe(1);
      expect(count(steps, 'flip references')).toBe(1);
      const ref = await loadReferences({ originalModel: MODEL, contract: res.manifest.model as ModelContract, flip: false });
      for (const p of ['fp32', 'fp16'] as const) expect(goldenMismatches(out, goldenPath('onnx', p), ref)).toEqual({ problems: [], notes: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('with --reference REF.npz: the original model only embeds the flipped rows, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-refonce-'));
    try {
      const { log, steps } = stepLogger();
      const out = join(dir, 'b');
      const res = await exportModel(MODEL, { targets: ['onnx'], precisions: ['fp32'], out, reference: REF, runtimes: CPU, device: 'cpu', log });
      expect(res.ok).toBe(true);
      expect(count(steps, 'reference embeddings of')).toBe(0);
      expect(count(steps, 'flip references')).toBe(1);
      const ref = await loadReferences({ reference: REF, flip: false });
      expect(goldenMismatches(out, goldenPath('onnx', 'fp32'), ref)).toEqual({ problems: [], notes: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
