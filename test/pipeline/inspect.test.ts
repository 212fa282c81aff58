/**
 * inspect's findings against what the fixture generator recorded from the
 * PyTorch side (fixtures/*.meta.json): the head (classes, feature dim, weight
 * layout, embedding tensor) and every batch-norm with its pattern.
 */
import { describe, expect, it } from 'vitest';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadOnnx } from '../../src/onnx/import.js';
import { inspect } from '../../src/pipeline/inspect.js';
import { mainFixtures, metaOf, variantFixtures } from '../helpers/fixtures.js';

interface Meta {
  head: { present: boolean; classes?: number; featureDim?: number; weightLayout?: string; embeddingTensor: string; weightInitializer?: string; labelInput?: string | null };
  bn: { total: number; counts: Record<string, number> };
}

const models = [...mainFixtures(), ...variantFixtures()].filter((m) => metaOf(m));
const BIN = join(import.meta.dirname, '../../bin/sf2-export.js');

describe.skipIf(models.length === 0)('inspect on every fixture', () => {
  it.each(models.map((m) => [basename(m), m]))('%s: head and batch-norms as the generator recorded', (_n, path) => {
    const meta = metaOf(path) as unknown as Meta;
    const r = inspect(loadOnnx(path));
    expect(r.head.found).toBe(meta.head.present);
    expect(r.head.embedding).toBe(meta.head.embeddingTensor);
    if (meta.head.present) {
      expect(r.head.classes).toBe(meta.head.classes);
      expect(r.head.featureDim).toBe(meta.head.featureDim);
      expect(r.head.weightLayout).toBe(meta.head.weightLayout);
      if (meta.head.weightInitializer) expect(r.head.weight).toBe(meta.head.weightInitializer);
      expect(r.head.headInputs).toEqual(meta.head.labelInput ? [meta.head.labelInput] : []);
    }
    const counts: Record<string, number> = { 'conv-bn': 0, 'bn-conv': 0, 'bn-flatten-gemm': 0, 'gemm-bn': 0, standalone: 0 };
    for (const b of r.batchNorms) counts[b.pattern]!++;
    expect(r.batchNorms).toHaveLength(meta.bn.total);
    expect(counts).toEqual({ ...counts, ...meta.bn.counts });
    for (const b of r.batchNorms) expect(b.reason.length).toBeGreaterThan(0);
    expect(r.flops).toBeGreaterThan(0);
  });
});

describe.skipIf(models.length === 0)('sf2-export inspect --json', () => {
  it('prints one JSON object with the documented keys and nothing else', () => {
    const res = spawnSync(process.execPath, [BIN, 'inspect', models[0]!, '--json'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const obj = JSON.parse(lines[0]!);
    for (const k of ['model', 'inputs', 'outputs', 'ops', 'parameters', 'parameterBytes', 'batchNorms', 'head', 'flops']) expect(obj).toHaveProperty(k);
    for (const k of ['path', 'bytes', 'irVersion', 'opset', 'producer']) expect(obj.model).toHaveProperty(k);
    for (const k of ['found', 'weight', 'featureDim', 'classes', 'bytes', 'embedding', 'nodes']) expect(obj.head).toHaveProperty(k);
  });

  it('--embedding overrides detection, and an unknown name is a usage error', () => {
    const meta = metaOf(models[0]!) as unknown as Meta;
    const ok = spawnSync(process.execPath, [BIN, 'inspect', models[0]!, '--json', '--embedding', meta.head.embeddingTensor], { encoding: 'utf8' });
    expect(JSON.parse(ok.stdout).head.embedding).toBe(meta.head.embeddingTensor);
    const bad = spawnSync(process.execPath, [BIN, 'inspect', models[0]!, '--embedding', 'no_such_tensor'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/no_such_tensor/);
  });
});
