/**
 * End to end on every committed fixture (fixtures/*.onnx, fixtures/variants/*.onnx):
 * optimize(), then onnxruntime (graph optimizations off) on the fixture's
 * reference inputs against the PyTorch embeddings recorded by fixtures/generate.py.
 *
 * Threshold: min row cosine >= 0.99999 (the export's parity gate). What the
 * passes change numerically is only BN folding, whose float32 error is a few
 * ulps per dot product (fold-batchnorm.test.ts); PyTorch vs onnxruntime
 * kernels differ by about as much, so measured cosines are 1 - 1e-12 or so.
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { classifyBatchNorms } from '../../src/analysis/batchnorm.js';
import { inspect } from '../../src/pipeline/inspect.js';
import { DType } from '../../src/ir/dtype.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { readNpz, toFloat32 } from '../../src/data/npy.js';
import { optimize } from '../../src/passes/index.js';
import { FIXTURES, mainFixtures, metaOf, variantFixtures } from '../helpers/fixtures.js';
import { maxAbsDiff, minRowCosine, runOrt } from '../helpers/ort.js';

interface Meta {
  head: { present: boolean; classes?: number; featureDim: number; embeddingTensor: string; weightInitializer?: string; weightBytes?: number; labelInput?: string | null };
  bn: { total: number; counts: Record<string, number>; bnConvPadded: number; bnConvUnpadded: number };
  reference: { npz: string; inputsFrom?: string };
}

const ctx = { log: createLogger({ quiet: true }) };
const npzCache = new Map<string, ReturnType<typeof readNpz>>();
/** The variants share fixtures/variants/sfnet4.npz (compressed): read it once. */
function npz(rel: string): ReturnType<typeof readNpz> {
  let z = npzCache.get(rel);
  if (!z) npzCache.set(rel, (z = readNpz(`${FIXTURES}/${rel}`)));
  return z;
}
const models = [...mainFixtures(), ...variantFixtures()].filter((m) => metaOf(m));

describe.skipIf(models.length === 0)('optimize on every fixture, against the PyTorch embeddings', () => {
  it.each(models.map((m) => [basename(m), m]))('%s', async (_name, path) => {
    const meta = metaOf(path) as unknown as Meta;

    // The analyses agree with what the generator recorded on the PyTorch side.
    const before = loadOnnx(path);
    const findings = classifyBatchNorms(before.graph);
    const counts: Record<string, number> = { 'conv-bn': 0, 'bn-conv': 0, 'bn-flatten-gemm': 0, 'gemm-bn': 0, standalone: 0 };
    for (const f of findings) counts[f.pattern]!++;
    expect(counts).toEqual(meta.bn.counts);
    expect(findings.filter((f) => f.pattern === 'bn-conv' && !f.foldable)).toHaveLength(meta.bn.bnConvPadded);
    expect(findings.filter((f) => f.pattern === 'bn-conv' && f.foldable)).toHaveLength(meta.bn.bnConvUnpadded);
    const head = inspect(loadOnnx(path)).head;
    expect(head.embedding).toBe(meta.head.embeddingTensor);
    expect(head.featureDim).toBe(meta.head.featureDim);
    if (meta.head.present) expect(head.classes).toBe(meta.head.classes);

    // optimize (the runner verifies the graph after every pass)
    const m = loadOnnx(path);
    const reports = optimize(m, {}, ctx);
    expect(reports.map((r) => r.pass)).toEqual(['shape-subgraphs', 'strip-head', 'cleanup', 'fold-batchnorm', 'cleanup', 'shapes']);
    const g = m.graph;
    expect(g.outputs.map((v) => v.name)).toEqual(['embedding']);
    const out = g.outputs[0]!;
    expect(out.dtype).toBe(DType.FLOAT);
    expect(typeof out.shape?.[0]).toBe('string');
    expect(out.shape?.[1]).toBe(meta.head.featureDim);
    expect(g.realInputs().map((v) => v.name)).toEqual(['input']);
    expect(g.realInputs()[0]!.shape).toEqual([out.shape![0], 3, 112, 112]);
    const strip = reports[1]!;
    if (meta.head.present) {
      expect(strip.details).toMatchObject({ classes: meta.head.classes, featureDim: meta.head.featureDim, embeddingTensor: meta.head.embeddingTensor });
      if (meta.head.weightInitializer) expect(g.value(meta.head.weightInitializer)).toBeUndefined();
      expect(strip.details!.bytesRemoved as number).toBeGreaterThanOrEqual(meta.head.weightBytes!);
    } else {
      expect(strip.details).toMatchObject({ reason: 'no head' });
    }
    // Every BatchNormalization left is explained in some report.
    const explained = new Set(reports.flatMap((r) => r.skipped.map((s) => s.node)));
    const left = g.nodes.filter((n) => n.op === 'BatchNormalization');
    for (const n of left) expect(explained.has(n.name), n.name).toBe(true);
    expect(left).toHaveLength(meta.bn.bnConvPadded + meta.bn.counts.standalone!);
    // Every value has a dtype and a shape.
    expect(reports[5]!.counts.unknown).toBe(0);

    // Numbers: all reference images in one batch (a fixed-batch export must now take 32).
    const ref = npz(meta.reference.npz);
    const inputs = meta.reference.inputsFrom ? npz(meta.reference.inputsFrom).get('inputs')! : ref.get('inputs')!;
    const want = ref.get('embeddings')!;
    const got = (await runOrt(m, { input: { data: toFloat32(inputs), dims: inputs.shape } })).embedding!;
    const cos = minRowCosine(got, toFloat32(want), want.shape[1]!);
    expect(cos, `max abs diff ${maxAbsDiff(got, toFloat32(want))}`).toBeGreaterThanOrEqual(0.99999);

    // Idempotent, and deterministic: a second optimize of the result changes nothing;
    // a second optimize of a fresh load writes the same bytes.
    const bytes = encodeOnnx(m);
    expect(optimize(m, {}, ctx).map((r) => r.changed)).toEqual([false, false, false, false, false, false]);
    expect(encodeOnnx(m)).toEqual(bytes);
    const again = loadOnnx(path);
    optimize(again, {}, ctx);
    expect(encodeOnnx(again)).toEqual(bytes);
  });
});
