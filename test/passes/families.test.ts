/**
 * optimize() on the model-family fixtures (fixtures/families/, real PyTorch exports):
 * the dynamic flatten becomes a Flatten, Shape subgraphs (Resize sizes, F.pad's pads,
 * F.normalize's expand_as) fold, the opensphere 2023 head is cut at the backbone's
 * output, and each head is named by its kind. Then onnxruntime (optimizations off)
 * on the optimized graph against the PyTorch references, all 8 rows in one batch
 * (a fixed-batch export must take 8 after the shapes pass).
 *
 * Threshold: min row cosine >= 0.99999, the export's fp32 parity gate: only BN folding
 * changes numbers (a few float32 ulps per dot product); measured 1 - 1e-11 or closer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { findHead } from '../../src/analysis/head.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { readNpz, toFloat32 } from '../../src/data/npy.js';
import { optimize } from '../../src/passes/index.js';
import { resizeScale, shapeSubgraphs } from '../../src/passes/shape-subgraphs.js';
import { FIXTURES, mainFixtures, metaOf, variantFixtures } from '../helpers/fixtures.js';
import { maxAbsDiff, minRowCosine, runOrt } from '../helpers/ort.js';

const DIR = join(FIXTURES, 'families');
const ctx = { log: createLogger({ quiet: true }) };
const SHAPE_OPS = ['Shape', 'Gather', 'ConstantOfShape', 'Unsqueeze', 'Squeeze', 'Cast'];

interface FamilyMeta {
  files: { dynamic: string; fixed1: string };
  input: { layout: string };
  embeddingDim: number;
  head: { present: boolean; kind?: string; classes?: number };
  references: { npz: string };
  variants: { file: string; head: { present: boolean; kind?: string; classes?: number } }[];
}

const cases: { file: string; npz: string; kind: string | null; classes?: number; dim: number; layout: string; family: string }[] = [];
for (const name of ['mfn_insight', 'mfn_dw', 'facenet160', 'ghostv2', 'se80', 'nhwc', 'sfnet2023']) {
  const meta = JSON.parse(readFileSync(join(DIR, `${name}.meta.json`), 'utf8')) as FamilyMeta;
  const kind = meta.head.present ? meta.head.kind!.toLowerCase() : null;
  for (const f of [meta.files.dynamic, meta.files.fixed1]) cases.push({ file: f, npz: meta.references.npz, kind, classes: meta.head.classes, dim: meta.embeddingDim, layout: meta.input.layout, family: name });
  for (const v of meta.variants) {
    const vdim = v.file.includes('cls3') ? 3 : meta.embeddingDim;
    cases.push({ file: v.file, npz: v.file.replace(/\.onnx$/, '.npz'), kind: v.head.present ? v.head.kind! : null, classes: v.head.classes, dim: vdim, layout: meta.input.layout, family: name });
  }
}

describe('optimize on the model-family fixtures', () => {
  it.each(cases.map((c) => [c.file, c]))('%s', async (_f, c) => {
    const m = loadOnnx(join(DIR, c.file));
    const reports = optimize(m, {}, ctx);
    const g = m.graph;
    // no shape arithmetic left, nothing of unknown shape
    const ops = new Set(g.nodes.map((n) => n.op));
    for (const op of SHAPE_OPS) expect(ops.has(op), `${op} left`).toBe(false);
    expect(reports.find((r) => r.pass === 'shapes')!.counts.unknown).toBe(0);
    const out = g.outputs[0]!;
    expect(g.outputs).toHaveLength(1);
    expect(typeof out.shape?.[0]).toBe('string');
    expect(out.shape?.[1]).toBe(c.dim);
    // the head, named by its kind
    const strip = reports.find((r) => r.pass === 'strip-head')!.details!;
    expect(strip.kind).toBe(c.kind);
    if (c.kind) expect(strip.classes).toBe(c.classes);
    if (c.family === 'sfnet2023') {
      // cut at the backbone: nothing of f_wrapping / f_fusing / f_scoring stays
      expect([...ops].sort()).toEqual(['Add', 'Conv', 'Flatten', 'Gemm', 'Relu']);
    }
    if (c.file.includes('cls3')) expect(String(strip.classifierWarning)).toMatch(/looks like a classifier's, not an embedding \(only 3 values per row, it is computed by Softmax\)/);
    else expect(strip.classifierWarning).toBeUndefined();
    if (c.family === 'ghostv2') {
      const resizes = g.nodes.filter((n) => n.op === 'Resize');
      expect(resizes.length).toBe(5);
      for (const r of resizes) expect(r.inputs[2]?.const && r.inputs.length === 3, r.name).toBeTruthy();
    }
    // deterministic and idempotent: a fresh load optimizes to the same bytes; again changes nothing
    const bytes = encodeOnnx(m);
    const again = loadOnnx(join(DIR, c.file));
    optimize(again, {}, ctx);
    expect(encodeOnnx(again)).toEqual(bytes);
    expect(optimize(again, {}, ctx).every((r) => !r.changed)).toBe(true);
    // numbers
    const z = readNpz(join(DIR, c.npz));
    const x = z.get('inputs')!;
    const want = toFloat32(z.get('embeddings')!);
    const got = (await runOrt(m, { input: { data: toFloat32(x), dims: x.shape } })).embedding!;
    expect(minRowCosine(got, want, c.dim), `max abs diff ${maxAbsDiff(got, want)}`).toBeGreaterThanOrEqual(0.99999);
  });

  it('shape-subgraphs changes nothing on a graph without Shape ops, and leaves the input annotation as it was', () => {
    const m = loadOnnx(join(DIR, 'nhwc.fixed1.onnx'));
    const before = m.graph.realInputs()[0]!.shape;
    const r = shapeSubgraphs.run(m, {}, ctx);
    expect(r.changed).toBe(false);
    expect(m.graph.realInputs()[0]!.shape).toEqual(before);
  });
});

describe('resizeScale', () => {
  it('s0 = float(out / in) where it reproduces the size, a float32 above it for nearest/asymmetric where not', () => {
    expect(resizeScale(7, 14, 'nearest', 'asymmetric', 'floor')).toBe(2);
    expect(resizeScale(3, 6, 'linear', 'half_pixel', 'floor')).toBe(2);
    const s = resizeScale(3, 7, 'nearest', 'asymmetric', 'floor')!; // 3 * float(7 / 3) = 6.9999998 in double
    expect(s).toBeGreaterThan(Math.fround(7 / 3));
    expect(Math.trunc(s * 3)).toBe(7);
    expect(Math.trunc(Math.fround(s * 3))).toBe(7);
    // no nearest/asymmetric mapping to rely on: sizes stay
    expect(resizeScale(3, 7, 'linear', 'half_pixel', 'floor')).toBeUndefined();
  });
});

describe('head kinds on the other fixtures', () => {
  const models = [...mainFixtures(), ...variantFixtures()].filter((p) => (metaOf(p) as { head?: { present?: boolean } } | undefined)?.head?.present);
  it.each(models.map((p) => [p.split('/').slice(-2).join('/'), p]))('%s: SphereFace2', (_n, p) => {
    const g = loadOnnx(p).graph;
    inferShapes(g);
    const h = findHead(g);
    expect(h.kind).toBe('sphereface2');
    expect(h.description).toMatch(/^SphereFace2 head: /);
  });
});
