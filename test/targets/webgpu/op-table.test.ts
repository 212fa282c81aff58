/**
 * The WebGPU op table held to its docs and to numbers: every row is covered by
 * an op case (op-cases.ts), listed in docs/targets.md, and every case runs as a
 * WebGPU bundle (fp32, the f32 variant) on Dawn and matches onnxruntime-node
 * (CPU, graph optimizations off).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { attr } from '../../../src/ir/attribute.js';
import { encodeOnnx } from '../../../src/onnx/export.js';
import { OP_TABLE } from '../../../src/targets/webgpu/op-table.js';
import { planGraph } from '../../../src/targets/webgpu/plan.js';
import { runOrt, seededFloats } from '../../helpers/ort.js';
import { CaseBuilder } from '../tfjs/op-cases.js';
import { DawnHarness, dawnUnavailable, writeBundle } from './harness.js';
import { GPU_CASES, type GpuCase } from './op-cases.js';

const N = 2;
const DIMS = [N, 3, 9, 9];

function caseModel(c: GpuCase) {
  const b = new CaseBuilder(['N', 3, 9, 9]);
  const y = c.build(b);
  const flat = b.op('Flatten', [y], { axis: attr.int(1) });
  return { b, model: b.model(flat, c.opset ?? 13) };
}

describe('WebGPU op table', () => {
  test('every row is exercised by an op case', () => {
    const covered = new Set<string>();
    for (const c of GPU_CASES) for (const n of caseModel(c).b.g.nodes) covered.add(n.op);
    expect(Object.keys(OP_TABLE).filter((op) => !covered.has(op))).toEqual([]);
  });

  test('docs/targets.md lists every row in the WebGPU column', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/targets.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Op tables of both targets'));
    const rows = new Map([...table.matchAll(/^\| ([A-Z][A-Za-z0-9]*) \| ([^|]*) \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[3]!.trim()]));
    expect(Object.keys(OP_TABLE).filter((op) => !rows.has(op) || rows.get(op) === '-')).toEqual([]);
  });

  test('every case lowers (a plan with no problem) and refusals name the node', () => {
    for (const c of GPU_CASES) expect(() => planGraph(caseModel(c).model.graph), c.name).not.toThrow();
    const b = new CaseBuilder(['N', 3, 9, 9]);
    const m = b.model(b.op('Flatten', [b.op('Slice', [b.x, b.i64([1]), b.i64([2]), b.i64([0])])], { axis: attr.int(1) }));
    expect(() => planGraph(m.graph)).toThrow(/Slice \(.*\): slices the batch axis/);
  });
});

const why = await dawnUnavailable();
if (why) console.warn(`skipping the WebGPU op cases on Dawn: ${why}`);

describe.skipIf(!!why)('WebGPU op cases on Dawn vs onnxruntime', () => {
  let h: DawnHarness;
  beforeAll(async () => {
    h = await DawnHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });
  test('an NHWC input [N, 9, 9, 3] read by a Transpose to NCHW: the input kernel transposes, flipTTA mirrors W', async () => {
    const b = new CaseBuilder(['N', 9, 9, 3]);
    const t = b.op('Transpose', [b.x], { perm: attr.ints([0, 3, 1, 2]) });
    const y = b.op('Relu', [b.op('Conv', [t, b.c([4, 3, 3, 3], 0.5), b.c([4], 0.1)], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) })]);
    const model = b.model(b.op('Flatten', [y], { axis: attr.int(1) }));
    expect(planGraph(model.graph).inputLayout).toBe('NHWC');
    const x = seededFloats(N * 243, 99);
    // The mirror image along W of an [N, H, W, C] batch.
    const flipped = new Float32Array(x.length);
    for (let i = 0; i < N; i++) for (let h = 0; h < 9; h++) for (let w = 0; w < 9; w++) for (let c = 0; c < 3; c++) flipped[((i * 9 + h) * 9 + w) * 3 + c] = x[((i * 9 + h) * 9 + (8 - w)) * 3 + c]!;
    const run = async (d: Float32Array) => Object.values(await runOrt(encodeOnnx(model), { x: { data: d, dims: [N, 9, 9, 3] } }))[0]!;
    const ref = await run(x), refF = await run(flipped);
    const w = await writeBundle(model, ['fp32']);
    try {
      const { id } = await h.load(w.dir, 'fp32');
      const y1 = await h.embed(id, x);
      const y2 = await h.embed(id, x, { flipTTA: true });
      await h.dispose(id);
      const sum = ref.map((v, i) => v + refF[i]!);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y1[i]! - ref[i]!), Math.abs(y2[i]! - sum[i]!));
      // Same float32 sums in another order (27 products per output): 1e-5 absolute on O(1) outputs.
      expect(worst).toBeLessThan(1e-5);
    } finally {
      w.cleanup();
    }
  });

  for (const c of GPU_CASES) {
    test(c.name, async () => {
      const { model } = caseModel(c);
      const x = seededFloats(N * 3 * 81, 4242);
      const ref = Object.values(await runOrt(encodeOnnx(model), { x: { data: x, dims: DIMS } }))[0]!;
      const w = await writeBundle(model, ['fp32']);
      try {
        const { id } = await h.load(w.dir, 'fp32');
        const y = await h.embed(id, x);
        await h.dispose(id);
        expect(y.length).toBe(ref.length);
        // float32 in another summation order (<= 27 products per output here) and
        // WGSL's exp (a few ulps): 1e-5 of the output's scale is far above rounding
        // and far below any indexing or broadcasting error (O(1) of the scale).
        let scale = 1, worst = 0;
        for (const v of ref) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - ref[i]!));
        expect(worst / scale).toBeLessThan(1e-5);
      } finally {
        w.cleanup();
      }
    });
  }
});
