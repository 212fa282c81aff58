/**
 * The WebGPU target without a GPU: lowering and fusion, the refusal of
 * unsupported ops, the memory plan, weights.bin layout, packing, determinism.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../../src/errors.js';
import { TensorData } from '../../../src/ir/tensor.js';
import { contractOf } from '../../../src/pipeline/export.js';
import { planGraph, perChannel } from '../../../src/targets/webgpu/plan.js';
import { buildBundle, WEIGHT_ALIGN, type WebGpuManifest } from '../../../src/targets/webgpu/program.js';
import { packQuads } from '../../../src/targets/webgpu/pack.js';
import { webgpuTarget } from '../../../src/targets/webgpu/target.js';
import { float16BitsToFloat32 } from '../../../src/ir/float16.js';
import { seededFloats } from '../../helpers/ort.js';
import { Builder, tinyFace, unsupported, wide, zoo } from './models.js';
import type { ConvLayer } from '../../../src/targets/webgpu/plan.js';
import { chooseTile } from '../../../src/targets/webgpu/wgsl/conv.js';

const build = (m = zoo(), precision: 'fp32' | 'fp16' | 'int8' = 'fp32') => buildBundle(m.graph, { precision, contract: contractOf(m), generatedBy: 'test' });

describe('lowering and fusion', () => {
  it('fuses the zoo into 13 layers with the expected epilogues and prologue', () => {
    const p = planGraph(zoo().graph);
    const rows = p.layers.map((l) => {
      const epi = 'epi' in l ? l.epi.map((e) => e.op) : [];
      const pro = l.kind === 'conv' && l.prologue ? ['prologue'] : [];
      return [l.kind, ...pro, ...epi].join('+');
    });
    expect(rows).toEqual([
      'conv+affine+prelu', // conv -> BN -> PRelu
      'maxpool',
      'conv+prologue+prelu', // BN -> conv (zero padding kept exact) -> PRelu
      'conv', // conv s2
      'conv+add+relu', // the 1x1 downsample takes the residual add and the Relu
      'conv', // grouped
      'avgpool',
      'eltwise+affine+affine+affine+affine', // Mul, Add, Sub, Div by constants
      'conv',
      'conv+clip+prelu', // split-K conv, Clip, LeakyRelu
      'gap',
      'fc+affine', // Gemm + BN1d
      'fc+affine', // MatMul + Add
    ]);
  });

  it('gives the wide model every tile shape of the tiled convolution (the Dawn test runs it)', () => {
    const tiles = planGraph(wide().graph).layers.filter((l): l is ConvLayer => l.kind === 'conv').map((l) => chooseTile(l));
    const tiled = tiles.filter((t) => t.kind === 'tiled').map((t) => `rm${t.rm} rnq${t.rnq} split${t.splitK}`);
    expect(tiled).toEqual(['rm4 rnq2 split1', 'rm2 rnq2 split1', 'rm1 rnq1 split1', 'rm1 rnq2 split1', 'rm1 rnq1 split1', 'rm1 rnq1 split8', 'rm1 rnq1 split8']);
    expect(tiles.filter((t) => t.kind === 'direct')).toHaveLength(2);
  });

  it('refuses every unsupported op at once, naming each node, before anything is written', () => {
    const m = unsupported();
    let err: unknown;
    try {
      webgpuTarget.check(m, 'fp32');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    const msg = (err as UnsupportedError).message;
    expect(msg).toMatch(/cannot convert 3 node\(s\) \[Erf, Softmax, Transpose\]/);
    for (const op of ['Erf', 'Softmax', 'Transpose']) expect(msg).toMatch(new RegExp(`${op} \\(${op}_\\d+\\)`));
    expect((err as UnsupportedError).hint).toMatch(/supported ops: Conv/);
  });

  it('refuses a residual add of different shapes and a dilated conv, with reasons', () => {
    const b = new Builder();
    const x = b.input(8, 8);
    const y = b.g.addNode({ op: 'Conv', inputs: [x, b.const([4, 3, 3, 3], seededFloats(108, 1))], attrs: { dilations: { type: 'INTS', value: [2n, 2n] }, kernel_shape: { type: 'INTS', value: [3n, 3n] } } }).outputs[0]!;
    const m = b.finish(b.node('Flatten', [y]));
    expect(() => planGraph(m.graph)).toThrow(/Conv \(.*\): dilation other than 1/);
  });

  it('reads per-channel constants of every broadcast form and refuses the others', () => {
    const s = [4, 2, 2];
    expect(Array.from(perChannel(TensorData.float32([], [3]), s) as Float32Array)).toEqual([3, 3, 3, 3]);
    expect(Array.from(perChannel(TensorData.float32([4, 1, 1], [1, 2, 3, 4]), s) as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(perChannel(TensorData.float32([1, 4, 1, 1], [1, 2, 3, 4]), s) as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(perChannel(TensorData.float32([1, 1, 2, 1], [1, 2]), s)).toMatch(/varies along axis 2/);
    expect(perChannel(TensorData.float32([3, 1, 1], [1, 2, 3]), s)).toMatch(/does not match 4 channels/);
  });
});

function checkManifest(m: WebGpuManifest, weights: Uint8Array): void {
  // Weights: aligned, in bounds, disjoint.
  let end = 0;
  for (const t of m.weights.tensors) {
    expect(t.offset % WEIGHT_ALIGN).toBe(0);
    expect(t.offset).toBeGreaterThanOrEqual(end);
    end = t.offset + t.byteLength;
    expect(t.byteLength % 4).toBe(0);
  }
  expect(end).toBeLessThanOrEqual(weights.byteLength);
  expect(m.weights.byteLength).toBe(weights.byteLength);
  // Memory plan: no step writes a slot it reads; every bound slot is big enough.
  const elementsOf = new Map<number, number>(m.values.map((v) => [v.slot, 0]));
  for (const v of m.values) elementsOf.set(v.slot, Math.max(elementsOf.get(v.slot)!, v.shape.reduce((a, b) => a * b, 1)));
  for (const [slot, e] of elementsOf) expect(m.slots[slot]!.elementsPerImage).toBeGreaterThanOrEqual(e);
  m.steps.forEach((s) => {
    const slots = s.bindings.filter((b) => b.buffer === 'slot').map((b) => (b as { slot: number }).slot);
    const written = slots[slots.length - 1]!;
    expect(slots.slice(0, -1)).not.toContain(written);
  });
  // Every shader declares exactly the bindings its step lists.
  for (const v of Object.values(m.variants)) {
    v.steps.forEach((shader, i) => {
      const declared = v.shaders[shader]!.match(/@binding\(\d+\)/g)!.length;
      expect(declared, m.steps[i]!.kernel).toBe(m.steps[i]!.bindings.length);
    });
  }
}

describe('bundle layout', () => {
  it.each(['fp32', 'fp16', 'int8'] as const)('%s: weights aligned and disjoint, a memory plan without read/write overlap, bindings as declared', (precision) => {
    const b = build(zoo(), precision);
    checkManifest(b.manifest, b.weights);
    expect(Object.keys(b.manifest.variants).sort()).toEqual(precision === 'fp16' ? ['f16', 'f32'] : ['f32']);
    if (precision === 'fp16') expect(b.manifest.variants.f16!.requires).toEqual(['shader-f16']);
    // The zoo's activations fit in a few reused slots (13 layers, 4 slots).
    expect(b.manifest.slots.length).toBeLessThanOrEqual(5);
  });

  it('is deterministic and shrinks with precision (fp16 half, int8 a quarter of the conv/fc weights)', () => {
    const a = build(tinyFace()), again = build(tinyFace());
    expect(JSON.stringify(a.manifest)).toBe(JSON.stringify(again.manifest));
    expect(Buffer.from(a.weights).equals(Buffer.from(again.weights))).toBe(true);
    const h = build(tinyFace(), 'fp16'), q = build(tinyFace(), 'int8');
    const w = (x: typeof a) => x.manifest.weights.tensors.filter((t) => t.name.endsWith('.w')).reduce((s, t) => s + t.byteLength, 0);
    expect(w(h)).toBe(w(a) / 2);
    expect(w(q)).toBe(w(a) / 4);
  });

  it('records the preprocessing contract and the layers in model.json', () => {
    const m = build(tinyFace()).manifest;
    expect(m.input).toMatchObject({ height: 112, width: 112, channels: 3, layout: 'NCHW', colorOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] });
    expect(m.output.dim).toBe(16);
    expect(m.layers.map((l) => l.op)).toEqual(['conv', 'conv', 'maxpool', 'fc']);
    expect(m.layers[3]!.inputShape).toEqual([784]);
  });
});

describe('weight packing', () => {
  const rows = 5, cols = 7;
  const w = seededFloats(rows * cols, 3, -2, 2);
  const get = (r: number, c: number) => w[r * cols + c]!;

  it('pads columns to quads with zeros (f32) and rounds to binary16 (f16)', () => {
    const p = packQuads(rows, cols, get, 'f32', 'cols', 'w');
    expect(p.shape).toEqual([5, 8]);
    const f = new Float32Array(p.bytes.buffer, p.bytes.byteOffset, 40);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) expect(f[r * 8 + c]).toBe(get(r, c));
      expect(f[r * 8 + 7]).toBe(0);
    }
    const h = packQuads(rows, cols, get, 'f16', 'cols', 'w');
    const bits = new Uint16Array(h.bytes.buffer, h.bytes.byteOffset, 40);
    // Round to nearest: |w - f16(w)| <= 2^-11 |w| (half an ulp of an 11-bit significand).
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(Math.abs(float16BitsToFloat32(bits[r * 8 + c]!) - get(r, c))).toBeLessThanOrEqual(Math.abs(get(r, c)) * 2 ** -11);
    expect(() => packQuads(1, 1, () => 1e5, 'f16', 'cols', 'big')).toThrow(/does not fit in float16/);
  });

  it.each(['rows', 'cols'] as const)('int8 per output channel along %s: |w - q s| <= s / 2', (axis) => {
    const p = packQuads(rows, cols, get, 'i8', axis, 'w', 4);
    const q = new Int8Array(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
    const colsP = p.shape[1];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const s = p.scales![axis === 'rows' ? r : c]!;
        expect(Math.abs(q[r * colsP + c]! * s - get(r, c))).toBeLessThanOrEqual(s / 2 + 1e-7);
      }
    }
    // Each channel uses the full range: its largest |w| maps to +-127.
    const ch = axis === 'rows' ? rows : cols;
    for (let o = 0; o < ch; o++) {
      let m = 0;
      for (let i = 0; i < (axis === 'rows' ? cols : rows); i++) m = Math.max(m, Math.abs(q[axis === 'rows' ? o * colsP + i : i * colsP + o]!));
      expect(m).toBe(127);
    }
  });
});
