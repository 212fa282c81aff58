import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { attr, type Attribute } from '../../src/ir/attribute.js';
import { cloneModel } from '../../src/ir/clone.js';
import { DType } from '../../src/ir/dtype.js';
import { toFloat16Bits } from '../../src/ir/float16.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Model } from '../../src/ir/model.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { TensorData } from '../../src/ir/tensor.js';
import type { Value } from '../../src/ir/value.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { cleanup } from '../../src/passes/cleanup.js';
import { shapes } from '../../src/passes/shapes.js';
import { evaluate, fromTensorData } from '../../src/passes/const-eval.js';
import type { PassReport } from '../../src/passes/pass.js';
import { maxAbsDiff, rng, runOrtTensors, seededFloats } from '../helpers/ort.js';
import { constant, input, newModel, uniform } from './graphs.js';

const ctx = { log: createLogger({ quiet: true }) };

function clean(m: Model): PassReport {
  const r = cleanup.run(m, {}, ctx);
  m.graph.verify();
  return r;
}

const i64 = (g: Graph, name: string, values: number[], dims = [values.length]) => g.addConstant(name, TensorData.int64(dims, values));
const node = (g: Graph, op: string, inputs: (Value | null)[], name: string, attrs: Record<string, Attribute> = {}) =>
  g.addNode({ op, name, inputs, outputs: [`${name}_out`], attrs }).outputs[0]!;

/**
 * x[N, 4, 3, 3] -> Identity -> Conv(W from a Constant node) -> Dropout -> Flatten -> Flatten (no-op)
 *   -> Reshape([0, 36]) (no-op) -> Reshape([-1, 6, 6]) -> Reshape(shape computed from Shape(x)[1] * 9)
 *   -> Reshape(dynamic [N, 36] from Shape(x)[0]: stays) -> MatMul(Wa) + MatMul(Wb), Wa == Wb
 */
function messyModel(): Model {
  const r = rng(5);
  const { m, g } = newModel(17);
  const x = input(g, 'x', ['N', 4, 3, 3]);
  const id = node(g, 'Identity', [x], 'id');
  const w = node(g, 'Constant', [], 'wconst', { value: attr.tensor(TensorData.float32([4, 4, 1, 1], uniform(r, 16, -1, 1))) });
  const c = node(g, 'Conv', [id, w], 'conv');
  const d = node(g, 'Dropout', [c, g.addConstant('ratio', TensorData.float32([], [0.5])), g.addConstant('train', TensorData.fromBytes(DType.BOOL, [], new Uint8Array([0])))], 'drop');
  const f = node(g, 'Flatten', [d], 'flat', { axis: attr.int(1) });
  const f2 = node(g, 'Flatten', [f], 'flat2', { axis: attr.int(1) });
  const r1 = node(g, 'Reshape', [f2, i64(g, 's_same', [0, 36])], 'r_same');
  const r2 = node(g, 'Reshape', [r1, i64(g, 's_366', [-1, 6, 6])], 'r_366');
  // shape subgraph: [-1, Shape(x)[1] * 9] = [-1, 36], all static
  const shp = node(g, 'Shape', [x], 'shape');
  const c1 = node(g, 'Gather', [shp, i64(g, 'idx1', [1], [])], 'gather_c', { axis: attr.int(0) });
  const c9 = node(g, 'Mul', [c1, i64(g, 'nine', [9], [])], 'times9');
  const u = node(g, 'Unsqueeze', [c9, i64(g, 'ax0', [0])], 'unsq');
  const tgt = node(g, 'Concat', [i64(g, 'minus1', [-1]), u], 'concat', { axis: attr.int(0) });
  const r3 = node(g, 'Reshape', [r2, tgt], 'r_computed');
  // dynamic: [Shape(x)[0], 36] depends on N, so it stays
  const n0 = node(g, 'Gather', [shp, i64(g, 'idx0', [0], [])], 'gather_n', { axis: attr.int(0) });
  const un = node(g, 'Unsqueeze', [n0, i64(g, 'ax0b', [0])], 'unsq_n');
  const tn = node(g, 'Concat', [un, i64(g, 'c36', [36])], 'concat_n', { axis: attr.int(0) });
  const r4 = node(g, 'Reshape', [r3, tn], 'r_dynamic');
  const wv = uniform(r, 36 * 5, -0.2, 0.2);
  const a = node(g, 'MatMul', [r4, constant(g, 'Wa', [36, 5], wv)], 'mm_a');
  const b = node(g, 'MatMul', [r4, constant(g, 'Wb', [36, 5], Float32Array.from(wv))], 'mm_b');
  const sum = node(g, 'Add', [a, b], 'sum');
  g.addConstant('unused', TensorData.float32([3], [1, 2, 3]));
  g.outputs = [sum];
  return m;
}

describe('cleanup', () => {
  it('removes pass-through nodes, folds static shapes and constants, dedupes: structure and exact numbers', async () => {
    const m = messyModel();
    const original = cloneModel(m);
    const r = clean(m);
    expect(r.changed).toBe(true);
    expect(r.counts).toMatchObject({
      identityRemoved: 1,
      dropoutRemoved: 1,
      flattenRemoved: 1,
      reshapeCollapsed: 2, // r_366 onto the Flatten's input, then r_computed onto r_366's
      constantsToInitializers: 1,
      shapeFolded: 1, // Gather(Shape(x), 1) = 4 while N is symbolic
      folded: 3, // Mul, Unsqueeze, Concat on the folded shape
      initializersDeduped: 1,
    });
    // r_same ([0, 36] on [N, 36]); r_366 goes as dead code once r_computed reads the conv output
    expect(r.counts.reshapeRemoved).toBe(1);
    expect(r.skipped).toEqual([]);
    // Flatten -> Reshape(-1,6,6) -> Reshape([-1,36]) collapsed into one Reshape(conv_out, [-1, 36])
    expect(m.graph.nodes.map((n) => n.name)).toEqual(['conv', 'shape', 'r_computed', 'gather_n', 'unsq_n', 'concat_n', 'r_dynamic', 'mm_a', 'mm_b', 'sum']);
    expect([...m.graph.nodes[2]!.inputs[1]!.const!.bigints()]).toEqual([-1n, 36n]);
    const mm = m.graph.nodes.filter((n) => n.op === 'MatMul');
    expect(mm[0]!.inputs[1]).toBe(mm[1]!.inputs[1]);
    expect(m.graph.value('unused')).toBeUndefined();
    expect(m.graph.value('Wb')).toBeUndefined();
    expect(m.graph.requireValue('wconst_out').const!.dims).toEqual([4, 4, 1, 1]);
    // numbers: removals and exact folds change nothing, bit for bit
    const feeds = { x: { data: seededFloats(3 * 36, 9), dims: [3, 4, 3, 3] } };
    const want = await runOrtTensors(original, feeds);
    const got = await runOrtTensors(m, feeds);
    expect(got.sum_out!.dims).toEqual([3, 5]);
    expect(maxAbsDiff(got.sum_out!.data, want.sum_out!.data)).toBe(0);
    // idempotent
    const bytes = encodeOnnx(m);
    const again = clean(m);
    expect(again.changed).toBe(false);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('with a fixed batch, never folds dim 0 of a computed tensor (shapes makes it symbolic later)', async () => {
    const { m, g } = newModel(13);
    const x = input(g, 'x', [1, 4, 2, 2]);
    const relu = node(g, 'Relu', [x], 'relu');
    const shp = node(g, 'Shape', [relu], 'shape');
    const n0 = node(g, 'Unsqueeze', [node(g, 'Gather', [shp, i64(g, 'i0', [0], [])], 'g0'), i64(g, 'a0', [0])], 'u0');
    const c1 = node(g, 'Unsqueeze', [node(g, 'Gather', [shp, i64(g, 'i1', [1], [])], 'g1'), i64(g, 'a1', [0])], 'u1');
    const tgt = node(g, 'Concat', [n0, c1, i64(g, 'm1', [-1])], 'cat', { axis: attr.int(0) });
    g.outputs = [node(g, 'Reshape', [relu, tgt], 'reshape')];
    const r = clean(m);
    expect(r.counts).toMatchObject({ shapeFolded: 1, folded: 1 }); // Gather(.., 1) and its Unsqueeze
    expect(g.nodes.map((n) => n.name)).toEqual(['relu', 'shape', 'g0', 'u0', 'cat', 'reshape']);
    // the shapes pass can now make the batch symbolic and the graph runs on any N
    shapes.run(m, {}, ctx);
    const out = await runOrtTensors(m, { x: { data: seededFloats(48, 1), dims: [3, 4, 2, 2] } });
    expect(out.reshape_out!.dims).toEqual([3, 4, 4]);
  });

  it('leaves places whose preconditions fail, with the reasons, and changes nothing', () => {
    const { m, g } = newModel(17);
    const x = input(g, 'x', ['N', 4]);
    const drop = g.addNode({ op: 'Dropout', name: 'drop_mask', inputs: [x], outputs: ['d', 'mask'] });
    const id = node(g, 'Identity', [x], 'id_io');
    const pw = node(g, 'Pow', [g.addConstant('base', TensorData.float32([2], [2, 3])), g.addConstant('e', TensorData.float32([], [0.5]))], 'pow');
    const dyn = g.addNode({ op: 'Dropout', name: 'drop_dyn', inputs: [x, null, input(g, 'training', [], DType.BOOL)], outputs: ['dd'] });
    const add = node(g, 'Add', [drop.outputs[0]!, pw], 'add');
    g.outputs = [add, drop.outputs[1]!, id, dyn.outputs[0]!];
    inferShapes(g);
    const bytes = encodeOnnx(m);
    const r = clean(m);
    expect(r.changed).toBe(false);
    expect(r.skipped).toEqual([
      { node: 'drop_mask', reason: 'its mask output is used' },
      { node: 'id_io', reason: 'Identity maps a graph input straight to graph output id_io_out; removing it would rename the output' },
      { node: 'pow', reason: expect.stringMatching(/Pow is not in the constant-folding list/) },
      { node: 'drop_dyn', reason: 'its training_mode input is not a constant' },
    ]);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('keeps a graph output name when bypassing the node that produced it', () => {
    const { m, g } = newModel(17);
    const x = input(g, 'x', ['N', 4]);
    const relu = node(g, 'Relu', [x], 'relu');
    const id = node(g, 'Identity', [relu], 'id');
    g.rename(id, 'embedding');
    g.outputs = [id];
    const r = clean(m);
    expect(r.counts.identityRemoved).toBe(1);
    expect(g.outputs[0]!.name).toBe('embedding');
    expect(g.outputs[0]!.producer!.op).toBe('Relu');
  });

  it('removes unused initializers listed as graph inputs (IR < 4 style)', () => {
    const { m, g } = newModel(9);
    const x = input(g, 'x', ['N', 2]);
    const w = g.addConstant('w', TensorData.float32([2], [1, 2]));
    const old = g.addConstant('old', TensorData.float32([2], [3, 4]));
    g.inputs.push(w, old);
    g.outputs = [node(g, 'Mul', [x, w], 'mul')];
    const r = clean(m);
    expect(r.counts.inputsRemoved).toBe(1);
    expect(g.inputs.map((v) => v.name)).toEqual(['x', 'w']);
  });
});

// ---- the evaluator, op by op, against onnxruntime ---------------------------------------

interface OpCase {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly (TensorData | null)[];
  readonly attrs?: Record<string, Attribute>;
  readonly opset?: number;
}

const f32 = (dims: number[], v: number[]) => TensorData.float32(dims, v);
const i64t = (dims: number[], v: number[]) => TensorData.int64(dims, v);
const i32t = (dims: number[], v: number[]) => TensorData.int32(dims, v);
const boolt = (dims: number[], v: number[]) => TensorData.fromBytes(DType.BOOL, dims, Uint8Array.from(v));
const r = rng(77);
const a6 = Array.from({ length: 6 }, () => Math.fround(-3 + 6 * r()));
const b3 = Array.from({ length: 3 }, () => Math.fround(0.5 + 2 * r()));
const seq = (n: number) => Array.from({ length: n }, (_, i) => i);

const CASES: readonly OpCase[] = [
  { name: 'Add float broadcast', op: 'Add', inputs: [f32([2, 3], a6), f32([3], b3)] },
  { name: 'Sub int64', op: 'Sub', inputs: [i64t([3], [5, -2, 7]), i64t([1], [9])] },
  { name: 'Mul int32 wraps', op: 'Mul', inputs: [i32t([2], [65536, -3]), i32t([2], [65536, 7])] },
  { name: 'Div int64 truncates toward zero', op: 'Div', inputs: [i64t([4], [-7, 7, -8, 9]), i64t([4], [2, -2, 3, 4])] },
  { name: 'Div float', op: 'Div', inputs: [f32([2, 3], a6), f32([3], b3)] },
  { name: 'Max float', op: 'Max', inputs: [f32([2, 3], a6), f32([3], b3)] },
  { name: 'Min int64', op: 'Min', inputs: [i64t([3], [5, -2, 7]), i64t([3], [1, 1, 1])] },
  { name: 'Equal int64', op: 'Equal', inputs: [i64t([3], [1, 2, 3]), i64t([1], [2])] },
  { name: 'Less float', op: 'Less', inputs: [f32([2, 3], a6), f32([1], [0])] },
  { name: 'Where', op: 'Where', inputs: [boolt([3], [1, 0, 1]), f32([2, 3], a6), f32([1], [42])] },
  { name: 'Neg int64', op: 'Neg', inputs: [i64t([2], [3, -4])] },
  { name: 'Abs float', op: 'Abs', inputs: [f32([2, 3], a6)] },
  { name: 'Sqrt float', op: 'Sqrt', inputs: [f32([3], b3)] },
  { name: 'Reciprocal float', op: 'Reciprocal', inputs: [f32([3], b3)] },
  { name: 'Floor', op: 'Floor', inputs: [f32([2, 3], a6)] },
  { name: 'Ceil', op: 'Ceil', inputs: [f32([2, 3], a6)] },
  { name: 'Cast float -> int64 truncates', op: 'Cast', inputs: [f32([4], [-2.7, 2.7, -0.5, 3])], attrs: { to: attr.int(DType.INT64) } },
  { name: 'Cast float -> float16 rounds', op: 'Cast', inputs: [f32([4], [1 / 3, 65519, 1e-7, -2.5])], attrs: { to: attr.int(DType.FLOAT16) } },
  { name: 'Cast int64 -> float', op: 'Cast', inputs: [i64t([3], [16777217, -3, 0])], attrs: { to: attr.int(DType.FLOAT) } },
  { name: 'Cast float -> bool', op: 'Cast', inputs: [f32([3], [0, -0.5, 2])], attrs: { to: attr.int(DType.BOOL) } },
  { name: 'Reshape with 0 and -1', op: 'Reshape', inputs: [f32([2, 3], a6), i64t([3], [0, -1, 1])] },
  { name: 'Flatten axis 2', op: 'Flatten', inputs: [f32([1, 2, 3], a6)], attrs: { axis: attr.int(2) } },
  { name: 'Unsqueeze axes input', op: 'Unsqueeze', inputs: [f32([2, 3], a6), i64t([2], [0, -1])] },
  { name: 'Unsqueeze axes attribute (opset 11)', op: 'Unsqueeze', inputs: [f32([2, 3], a6)], attrs: { axes: attr.ints([1]) }, opset: 11 },
  { name: 'Squeeze axes input', op: 'Squeeze', inputs: [f32([1, 6, 1], a6), i64t([1], [2])] },
  { name: 'Transpose', op: 'Transpose', inputs: [f32([2, 3], a6)], attrs: { perm: attr.ints([1, 0]) } },
  { name: 'Transpose float16 (bits move unchanged)', op: 'Transpose', inputs: [TensorData.float16Bits([2, 3], toFloat16Bits(a6))], attrs: { perm: attr.ints([1, 0]) } },
  { name: 'Gather axis 1, negative index', op: 'Gather', inputs: [f32([2, 3], a6), i64t([2], [-1, 0])], attrs: { axis: attr.int(1) } },
  { name: 'Gather scalar index', op: 'Gather', inputs: [i64t([4], [1, 3, 112, 112]), i64t([], [2])] },
  { name: 'Slice negative step, clamped ends', op: 'Slice', inputs: [f32([6], a6), i64t([1], [-1]), i64t([1], [-1e15]), i64t([1], [0]), i64t([1], [-2])] },
  { name: 'Slice 2-D on axis 1', op: 'Slice', inputs: [f32([2, 3], a6), i64t([1], [1]), i64t([1], [1e15]), i64t([1], [1])] },
  { name: 'Slice attributes (opset 9)', op: 'Slice', inputs: [f32([2, 3], a6)], attrs: { starts: attr.ints([0, 1]), ends: attr.ints([1, 3]) }, opset: 9 },
  { name: 'Concat axis 1', op: 'Concat', inputs: [f32([2, 3], a6), f32([2, 1], [7, 8])], attrs: { axis: attr.int(1) } },
  { name: 'Expand', op: 'Expand', inputs: [f32([3], b3), i64t([2], [2, 1])] },
  { name: 'ConstantOfShape int64', op: 'ConstantOfShape', inputs: [i64t([2], [2, 2])], attrs: { value: attr.tensor(i64t([1], [5])) } },
  { name: 'ConstantOfShape default', op: 'ConstantOfShape', inputs: [i64t([1], [3])] },
  { name: 'Range int64', op: 'Range', inputs: [i64t([], [10]), i64t([], [1]), i64t([], [-3])] },
  { name: 'Identity', op: 'Identity', inputs: [i64t([3], seq(3))] },
  { name: 'Constant value_ints', op: 'Constant', inputs: [], attrs: { value_ints: attr.ints([1, -1]) } },
  { name: 'Constant value_float', op: 'Constant', inputs: [], attrs: { value_float: attr.float(0.1) } },
];

describe('cleanup: constant evaluation is bit-exact against onnxruntime', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { m, g } = newModel(c.opset ?? 17);
      const ins = c.inputs.map((t, i) => (t ? g.addConstant(`in${i}`, t) : null));
      const n = g.addNode({ op: c.op, name: 'op', inputs: ins, outputs: ['y'], attrs: c.attrs ?? {} });
      g.outputs = [n.outputs[0]!];
      const want = (await runOrtTensors(m, {}))['y']!;
      const got = evaluate(n, c.inputs.map((t) => (t ? fromTensorData(t) : null)), c.opset ?? 17)[0]!;
      expect([...got.dims]).toEqual([...want.dims]);
      expect(Float32Array.from(got.v, Number)).toEqual(want.data);
    });
  }
});
