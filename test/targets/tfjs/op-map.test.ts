/**
 * The op mapping held to a schema (the installed tfjs-converter's op list) and
 * to numbers (every entry converts a small model that matches onnxruntime on
 * the tfjs cpu and wasm backends).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { hasShapeRule } from '../../../src/ir/shape-infer.js';
import { encodeOnnx } from '../../../src/onnx/export.js';
import { ort } from '../../../src/parity/runtimes/ort-node.js';
import { loadTfjs, useBackend } from '../../../src/parity/runtimes/tfjs-node.js';
import { convertGraph } from '../../../src/targets/tfjs/convert.js';
import { OP_MAP } from '../../../src/targets/tfjs/op-map.js';
import { loadOpTable } from '../../../src/targets/registry.js';
import { encodeWeights, joinWeightBytes, shardWeights } from '../../../src/targets/tfjs/weights.js';
import { CaseBuilder, OP_CASES, rand, type OpCase } from './op-cases.js';
import { knownAttrs, tfjsOpList, type TfjsOpDef } from './tfjs-op-list.js';

/** TF ops the converter adds around any entry's own ops to move between layouts. */
const GLUE = new Set(['Placeholder', 'Const', 'Identity', 'Transpose', 'Reshape']);
const INPUT_DIMS = [2, 4, 9, 9];

let ops: Map<string, TfjsOpDef>;
beforeAll(async () => {
  ops = await tfjsOpList();
});

describe('OP_MAP schema', () => {
  test('every entry: TF ops that tfjs-converter executes, constraints as text, a check and a lowering', () => {
    for (const [onnxOp, rule] of Object.entries(OP_MAP)) {
      expect(onnxOp, 'ONNX op names are PascalCase').toMatch(/^[A-Z][A-Za-z0-9]*$/);
      for (const tf of rule.tf) expect(ops.has(tf), `${onnxOp} -> ${tf} is not in tfjs-converter's op list`).toBe(true);
      expect(Array.isArray(rule.constraints)).toBe(true);
      for (const c of rule.constraints) expect(c.trim().length, `${onnxOp}: empty constraint`).toBeGreaterThan(0);
      expect(typeof rule.lower).toBe('function');
      expect(typeof rule.check).toBe('function');
      // Shapes are needed for layouts: every mapped op must have a shape rule in the IR.
      expect(hasShapeRule(onnxOp), `${onnxOp} has no shape-inference rule`).toBe(true);
    }
  });

  test('docs/targets.md lists every entry', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/targets.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## TensorFlow.js'));
    const listed = new Set([...section.matchAll(/^\| ([A-Z][A-Za-z0-9]*) \|/gm)].map((m) => m[1]));
    expect(Object.keys(OP_MAP).filter((op) => !listed.has(op))).toEqual([]);
  });

  test('the registry lists this table; every op case passes its rows\' checks', async () => {
    expect(await loadOpTable('tfjs')).toBe(OP_MAP);
    expect(await loadOpTable('onnx')).toBeUndefined();
    for (const c of OP_CASES) {
      const b = new CaseBuilder();
      const model = b.model(c.build(b), c.opset ?? 13);
      for (const n of model.graph.nodes) expect((await loadOpTable('tfjs'))![n.op]!.check(n), `${c.name}: ${n.op}`).toEqual([]);
    }
  });

  test('joinWeightBytes: the shards joined are the weight bytes again', () => {
    const data = Uint8Array.from({ length: 23 }, (_, i) => (i * 37) % 251);
    const shards = shardWeights(data, 5);
    expect(shards.length).toBe(5);
    expect([...joinWeightBytes(shards.map((s) => s.bytes))]).toEqual([...data]);
  });

  test('every entry is exercised by an op case', () => {
    const covered = new Set<string>();
    for (const c of OP_CASES) {
      const b = new CaseBuilder();
      c.build(b);
      for (const n of b.g.nodes) covered.add(n.op);
    }
    const missing = Object.keys(OP_MAP).filter((op) => !covered.has(op));
    expect(missing).toEqual([]);
  });
});

async function runOrt(c: OpCase, bytes: Uint8Array, input: Float32Array): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await ort().InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const r = await s.run({ x: new (ort().Tensor)('float32', input, INPUT_DIMS) });
  await s.release();
  const t = r[s.outputNames[0]!]!;
  void c;
  return { data: t.data as Float32Array, dims: t.dims };
}

describe('op cases: tfjs vs onnxruntime', () => {
  for (const c of OP_CASES) {
    test(c.name, async () => {
      const b = new CaseBuilder();
      const out = c.build(b);
      const model = b.model(out, c.opset ?? 13);
      const input = c.input ? c.input(648) : rand(648, 12345);
      const ref = await runOrt(c, encodeOnnx(model), input);

      const conv = convertGraph(model.graph, { inputLayout: 'nchw' });
      // Schema: every node an op tfjs executes, with attributes tfjs reads.
      const allowed = new Set([...GLUE, ...model.graph.nodes.flatMap((n) => OP_MAP[n.op]!.tf)]);
      for (const n of conv.nodes) {
        const def = ops.get(n.op);
        expect(def, `${n.name}: ${n.op} is not a tfjs op`).toBeDefined();
        expect(allowed.has(n.op), `${n.op} is not listed by the entries of ${[...new Set(model.graph.nodes.map((m) => m.op))].join(', ')}`).toBe(true);
        const known = knownAttrs(def!);
        for (const k of Object.keys(n.attr ?? {})) expect(known.has(k), `${n.op}.${k} is not read by tfjs`).toBe(true);
      }
      const w = encodeWeights(conv.nodes, conv.consts, 'fp32');
      const tf = await loadTfjs();
      for (const backend of ['cpu', 'wasm'] as const) {
        expect(await useBackend(tf, backend)).toBe(true);
        const m = await tf.converter.loadGraphModel({
          load: async () => ({
            modelTopology: { node: w.nodes, library: {}, versions: {} },
            weightSpecs: w.entries.map((e) => ({ ...e, shape: [...e.shape] })),
            weightData: w.data.slice().buffer,
            signature: { inputs: { x: { name: conv.input.tensor } }, outputs: { y: { name: conv.output.tensor } } },
          }),
        });
        const y = m.execute({ x: tf.core.tensor4d(input, INPUT_DIMS as [number, number, number, number]) }) as import('@tensorflow/tfjs-core').Tensor;
        expect(y.shape, backend).toEqual([...ref.dims]);
        const got = (await y.data()) as Float32Array;
        y.dispose();
        m.dispose();
        // float32 math in another order: differences are a few ulps of the
        // largest intermediate (sums of <= 324 products of O(1) values, and
        // tfjs's own Erf/Exp approximations, ~1e-7 relative), so 1e-5 of the
        // output's scale is far above rounding and far below any layout or
        // mapping error (those are O(1) of the scale).
        let scale = 1;
        for (const v of ref.data) scale = Math.max(scale, Math.abs(v));
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref.data[i]!));
        expect(worst / scale, `${backend}: max |tfjs - onnxruntime| / scale`).toBeLessThan(1e-5);
      }
    });
  }
});
