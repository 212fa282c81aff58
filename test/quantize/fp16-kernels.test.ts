/**
 * Measures which ops onnxruntime-node's cpu EP runs natively in float16: one
 * float16 node per op, then the session's optimized graph is read back; an op
 * without a float16 kernel is wrapped in Casts by onnxruntime itself
 * (InsertCastTransformer). The table in src/quantize/fp16-ops.ts must match.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../src/ir/model.js';
import { DType } from '../../src/ir/dtype.js';
import { TensorData } from '../../src/ir/tensor.js';
import { attr, type Attribute } from '../../src/ir/attribute.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { toFloat16 } from '../../src/quantize/schemes.js';
import { FP16_OPS, ORT_CPU_FP16_KERNELS } from '../../src/quantize/fp16-ops.js';
import { loadOrt } from '../../src/data/ort-run.js';

type Extra = TensorData | 'x';
interface Case { readonly inputs?: readonly Extra[]; readonly attrs?: Record<string, Attribute>; readonly x?: readonly number[] }

const half = (dims: number[]) => TensorData.float16Bits(dims, toFloat16(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 0.5)));
const i64 = (v: number[]) => TensorData.int64([v.length], v);

/** Extra inputs/attributes per op (x is [1, 4, 4, 4] float16 unless given). */
const CASES: Readonly<Record<keyof typeof FP16_OPS, Case>> = {
  Conv: { inputs: ['x', half([4, 4, 3, 3]), half([4])], attrs: { pads: attr.ints([1, 1, 1, 1]) } },
  ConvTranspose: { inputs: ['x', half([4, 4, 3, 3]), half([4])] },
  Gemm: { x: [2, 4], inputs: ['x', half([3, 4]), half([3])], attrs: { transB: attr.int(1) } },
  MatMul: { x: [2, 4], inputs: ['x', half([4, 3])] },
  Add: { inputs: ['x', half([1, 4, 4, 4])] }, Sub: { inputs: ['x', half([1, 4, 4, 4])] },
  Mul: { inputs: ['x', half([1, 4, 4, 4])] }, Div: { inputs: ['x', half([1, 4, 4, 4])] },
  Sum: { inputs: ['x', half([1, 4, 4, 4])] }, Mean: { inputs: ['x', half([1, 4, 4, 4])] },
  Max: { inputs: ['x', half([1, 4, 4, 4])] }, Min: { inputs: ['x', half([1, 4, 4, 4])] },
  PRelu: { inputs: ['x', half([4, 1, 1])] },
  Relu: {}, LeakyRelu: {}, Sigmoid: {}, Tanh: {}, HardSigmoid: {}, HardSwish: {}, Elu: {}, Selu: {}, Softplus: {},
  Abs: {}, Neg: {}, Sqrt: {}, Erf: {},
  Clip: {},
  MaxPool: { attrs: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) } },
  AveragePool: { attrs: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) } },
  GlobalMaxPool: {}, GlobalAveragePool: {},
  Flatten: {}, Identity: {}, Dropout: {},
  Reshape: { inputs: ['x', i64([1, -1])] },
  Transpose: { attrs: { perm: attr.ints([0, 2, 3, 1]) } },
  Squeeze: { inputs: ['x', i64([0])] }, Unsqueeze: { inputs: ['x', i64([0])] },
  Expand: { inputs: ['x', i64([2, 4, 4, 4])] },
  Slice: { inputs: ['x', i64([0]), i64([2]), i64([1])] },
  Gather: { inputs: ['x', i64([0, 2])], attrs: { axis: attr.int(1) } },
  Tile: { inputs: ['x', i64([1, 1, 2, 1])] },
  DepthToSpace: { attrs: { blocksize: attr.int(2) } },
  SpaceToDepth: { attrs: { blocksize: attr.int(2) } },
  Pad: { inputs: ['x', i64([0, 0, 1, 1, 0, 0, 1, 1])] },
  Concat: { inputs: ['x', half([1, 4, 4, 4])], attrs: { axis: attr.int(1) } },
  Split: { attrs: { axis: attr.int(1) } },
  Resize: { inputs: ['x', TensorData.float32([0], []), TensorData.float32([4], [1, 1, 2, 2])] },
  Upsample: { inputs: ['x', TensorData.float32([4], [1, 1, 2, 2])] },
  Where: { inputs: [TensorData.fromBytes(DType.BOOL, [1, 4, 4, 4], new Uint8Array(64).map((_, i) => i % 2)), 'x', half([1, 4, 4, 4])] },
};

describe('onnxruntime-node cpu float16 kernels', () => {
  it('match ORT_CPU_FP16_KERNELS (measured op by op)', async () => {
    const ort = await loadOrt();
    const dir = mkdtempSync(join(tmpdir(), 'sf2-fp16k-'));
    const native: string[] = [];
    const failed: string[] = [];
    try {
      for (const [op, c] of Object.entries(CASES)) {
        const m = new Model();
        m.opsetImports = [{ domain: '', version: op === 'Upsample' ? 9 : 17 }];
        const g = m.graph;
        const xs = [...(c.x ?? [1, 4, 4, 4])];
        const x = g.addValue('x', { dtype: DType.FLOAT16, shape: xs });
        g.inputs.push(x);
        const ins = (c.inputs ?? ['x']).map((e, k) => (e === 'x' ? x : g.addConstant(`c${k}`, e)));
        const n = g.addNode({ op, inputs: ins, attrs: c.attrs ?? {}, outputs: op === 'Split' ? ['y', 'y2'] : ['y'] });
        for (const o of n.outputs) {
          o.dtype = DType.FLOAT16;
          g.outputs.push(o);
        }
        const path = join(dir, `${op}.onnx`);
        try {
          const s = await ort.InferenceSession.create(encodeOnnx(m), { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', optimizedModelFilePath: path, logSeverityLevel: 3 });
          await s.run({ x: new ort.Tensor('float16', toFloat16(new Float32Array(xs.reduce((a, b) => a * b, 1)).fill(0.5)), xs) });
          await s.release();
        } catch (e) {
          failed.push(`${op}: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        const ops = loadOnnx(path).graph.nodes.map((k) => k.op);
        if (!ops.includes('Cast')) native.push(op);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(failed).toEqual([]);
    expect(native.sort()).toEqual([...ORT_CPU_FP16_KERNELS].sort());
  });
});
