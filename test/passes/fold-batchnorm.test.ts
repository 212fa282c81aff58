/**
 * fold-batchnorm against onnxruntime (graph optimizations off) on the unfolded
 * original.
 *
 * Tolerance. Every output element is a float32 dot product of length K (the
 * conv's Cin/group * kh * kw taps, or the Gemm's K) plus a few elementwise
 * roundings (the BN's subtract, scale, shift; the bias add). A float32 sum of K
 * products has |error| <= gamma_K * sum|w*x| with gamma_K = K*u/(1 - K*u),
 * u = 2^-24 (Higham, recursive summation; blocked and FMA accumulation, as MLAS
 * does, are no worse), and each elementwise op adds u relative to its operands.
 * Both sides (original and folded) carry such an error, hence
 *     tol = 2 * (K + 6) * 2^-24 * M
 * where M bounds every partial sum's magnitude for that output: for an output-side
 * fold |s| * (sum|W| * max|x| + |b| + |mean|) + |beta|, for an input-side fold
 * sum|W| * ((max|x| + |mean|) * |s| + |beta|) + |b|. A wrong fold (a channel
 * off by one, a transposed weight, a missed shift) is off by O(1), far beyond it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { classifyBatchNorms } from '../../src/analysis/batchnorm.js';
import { attr } from '../../src/ir/attribute.js';
import { cloneModel } from '../../src/ir/clone.js';
import type { Model } from '../../src/ir/model.js';
import { inferShapes } from '../../src/ir/shape-infer.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { foldBatchNorm } from '../../src/passes/fold-batchnorm.js';
import type { PassReport } from '../../src/passes/pass.js';
import { runOrt, seededFloats } from '../helpers/ort.js';
import {
  bnConvModel, bnFlattenGemmModel, convBnModel, gemmBnModel, input, newModel, residualBnModel, bn, conv,
  type BnStats, type ConvSpec, type GemmSpec,
} from './graphs.js';
import { rng } from '../helpers/ort.js';

const ctx = { log: createLogger({ quiet: true }) };
const U = 2 ** -24;

function fold(m: Model, mode: 'keep' | 'affine' = 'keep'): PassReport {
  const r = foldBatchNorm.run(m, { bnUnfoldable: mode }, ctx);
  m.graph.verify();
  return r;
}

/** The model's bytes once shape annotations are filled in (the pass infers shapes first). */
function settled(m: Model): Uint8Array {
  inferShapes(m.graph);
  return encodeOnnx(m);
}

const vals = (m: Model, name: string) => m.graph.requireValue(name).const!.float32();
const bnCount = (m: Model) => m.graph.nodes.filter((n) => n.op === 'BatchNormalization').length;

interface BnArrays { s: Float64Array; t: Float64Array; mean: Float32Array; beta: Float32Array }
function bnArrays(m: Model, name = 'bn'): BnArrays {
  const gm = vals(m, `${name}.gamma`), be = vals(m, `${name}.beta`), mu = vals(m, `${name}.mean`), va = vals(m, `${name}.var`);
  const eps = m.graph.nodes.find((n) => n.name === name)!.attrFloat('epsilon', 1e-5);
  const s = Float64Array.from(gm, (g, i) => g / Math.sqrt(va[i]! + eps));
  const t = Float64Array.from(be, (b, i) => b - mu[i]! * s[i]!);
  return { s, t, mean: mu, beta: be };
}

/** Output-side fold bound: M_o = |s_o| (sum_k |W_ok| X + |b_o| + |mean_o|) + |beta_o|, rows of `w` are outputs. */
function outputSideTol(w: Float32Array, rows: number, bias: Float32Array | undefined, p: BnArrays, k: number, x = 1): number {
  const cols = w.length / rows;
  let m = 0;
  for (let o = 0; o < rows; o++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.abs(w[o * cols + j]!);
    m = Math.max(m, Math.abs(p.s[o]!) * (sum * x + Math.abs(bias?.[o] ?? 0) + Math.abs(p.mean[o]!)) + Math.abs(p.beta[o]!));
  }
  return 2 * (k + 6) * U * m;
}

/** Input-side fold bound: M_o = sum_j |W_oj| ((X + |mean_c(j)|) |s_c(j)| + |beta_c(j)|) + |b_o|. */
function inputSideTol(wAbsRowSums: (o: number, perChannel: (c: number) => number) => number, outs: number, bias: Float32Array | undefined, p: BnArrays, k: number, x = 1): number {
  let m = 0;
  const z = (c: number) => (x + Math.abs(p.mean[c]!)) * Math.abs(p.s[c]!) + Math.abs(p.beta[c]!);
  for (let o = 0; o < outs; o++) m = Math.max(m, wAbsRowSums(o, z) + Math.abs(bias?.[o] ?? 0));
  return 2 * (k + 6) * U * m;
}

async function compare(original: Model, folded: Model, dims: number[], seed: number): Promise<number> {
  const feeds = { x: { data: seededFloats(dims.reduce((a, b) => a * b, 1), seed), dims } };
  const a = await runOrt(original, feeds);
  const b = await runOrt(folded, feeds);
  let worst = 0;
  for (const name of Object.keys(a)) {
    const x = a[name]!, y = b[name]!;
    expect(y.length).toBe(x.length);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

// ---- conv-bn --------------------------------------------------------------------------

async function checkConvBn(seed: number, s: ConvSpec, h: number, st?: BnStats): Promise<{ diff: number; tol: number }> {
  const m = convBnModel(seed, s, h, st);
  const original = cloneModel(m);
  const r = fold(m);
  expect(r.counts).toMatchObject({ folded: 1, convBn: 1 });
  expect(r.skipped).toEqual([]);
  expect(bnCount(m)).toBe(0);
  expect(m.graph.nodes.map((n) => n.op)).toEqual(['Conv']);
  expect(m.graph.outputs[0]!.name).toBe('bn_out'); // the BN's output name survives
  const k = (s.cin / (s.group ?? 1)) * s.k * s.k;
  const tol = outputSideTol(vals(original, 'conv.weight'), s.cout, s.bias ? vals(original, 'conv.bias') : undefined, bnArrays(original), k);
  const diff = await compare(original, m, [2, s.cin, h, h], seed + 1);
  return { diff, tol };
}

describe('fold-batchnorm: conv-bn', () => {
  for (const [label, s] of [
    ['plain, bias', { cin: 4, cout: 6, k: 3, pad: 1, bias: true }],
    ['plain, no bias, stride 2', { cin: 3, cout: 5, k: 3, pad: 1, stride: 2, bias: false }],
    ['grouped (2)', { cin: 4, cout: 6, k: 3, pad: 1, group: 2, bias: true }],
    ['depthwise', { cin: 6, cout: 6, k: 3, pad: 1, group: 6, bias: false }],
  ] as [string, ConvSpec][]) {
    it(`${label}: one Conv left, output equal within the dot-product bound`, async () => {
      const { diff, tol } = await checkConvBn(11, s, 9);
      expect(diff).toBeLessThanOrEqual(tol);
    });
  }

  it('is idempotent, and a second run reports no change', () => {
    const m = convBnModel(3, { cin: 2, cout: 3, k: 1, pad: 0, bias: true }, 4);
    fold(m);
    const bytes = settled(m);
    const again = fold(m);
    expect(again.changed).toBe(false);
    expect(again.counts.folded).toBe(0);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('property: random shapes, groups, epsilons and statistics, with and without bias', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          cinPerGroup: fc.integer({ min: 1, max: 4 }),
          groupsKind: fc.constantFrom('one', 'two', 'depthwise'),
          coutPerGroup: fc.integer({ min: 1, max: 3 }),
          k: fc.constantFrom(1, 3),
          pad: fc.constantFrom(0, 1),
          stride: fc.constantFrom(1, 2),
          bias: fc.boolean(),
          eps: fc.constantFrom(1e-5, 1e-3, 0.1, 1),
          varLo: fc.constantFrom(1e-4, 0.05, 0.5),
          h: fc.integer({ min: 3, max: 8 }),
        }),
        async (c) => {
          const group = c.groupsKind === 'one' ? 1 : c.groupsKind === 'two' ? 2 : c.cinPerGroup * 2;
          const cin = c.groupsKind === 'depthwise' ? group : c.cinPerGroup * group;
          const cout = c.groupsKind === 'depthwise' ? group * c.coutPerGroup : c.coutPerGroup * group;
          const r = rng(c.seed);
          const st: BnStats = {
            gamma: Float32Array.from({ length: cout }, () => -2 + 4 * r()),
            beta: Float32Array.from({ length: cout }, () => -2 + 4 * r()),
            mean: Float32Array.from({ length: cout }, () => -2 + 4 * r()),
            variance: Float32Array.from({ length: cout }, () => c.varLo + 3 * r()),
            eps: c.eps,
          };
          const { diff, tol } = await checkConvBn(c.seed, { cin, cout, k: c.k, pad: c.pad, stride: c.stride, group, bias: c.bias }, c.h, st);
          expect(diff).toBeLessThanOrEqual(tol);
        },
      ),
      { numRuns: 30, seed: 20240917 },
    );
  });
});

// ---- gemm-bn --------------------------------------------------------------------------

async function checkGemmBn(seed: number, s: GemmSpec, st?: BnStats): Promise<{ diff: number; tol: number; m: Model }> {
  const m = gemmBnModel(seed, s, st);
  const original = cloneModel(m);
  const r = fold(m);
  expect(r.counts).toMatchObject({ folded: 1, gemmBn: 1 });
  expect(bnCount(m)).toBe(0);
  const w = vals(original, 'fc.weight');
  // rows = outputs: transpose a [K, N] weight
  const rowsW = s.op === 'Gemm' && s.transB ? w : Float32Array.from({ length: w.length }, (_, i) => w[(i % s.k) * s.nOut + Math.floor(i / s.k)]!);
  const alpha = Math.abs(s.alpha ?? 1), beta = Math.abs(s.beta ?? 1);
  const bias = s.bias ? Float32Array.from(vals(original, 'fc.bias'), (b) => b * beta) : undefined;
  const tol = outputSideTol(Float32Array.from(rowsW, (v) => v * alpha), s.nOut, bias, bnArrays(original), s.k);
  const diff = await compare(original, m, [3, s.k], seed + 1);
  return { diff, tol, m };
}

describe('fold-batchnorm: gemm-bn', () => {
  for (const [label, s, ops] of [
    ['Gemm transB=1 with bias', { op: 'Gemm', transB: true, k: 12, nOut: 5, bias: true }, ['Gemm']],
    ['Gemm transB=0 without bias, alpha 0.5', { op: 'Gemm', transB: false, k: 7, nOut: 4, bias: false, alpha: 0.5 }, ['Gemm']],
    ['Gemm with beta 2', { op: 'Gemm', transB: true, k: 6, nOut: 3, bias: true, beta: 2 }, ['Gemm']],
    ['MatMul', { op: 'MatMul', k: 9, nOut: 4, bias: false }, ['MatMul', 'Add']],
    ['MatMul + Add', { op: 'MatMulAdd', k: 9, nOut: 4, bias: true }, ['MatMul', 'Add']],
  ] as [string, GemmSpec, string[]][]) {
    it(`${label}`, async () => {
      const { diff, tol, m } = await checkGemmBn(21, s);
      expect(m.graph.nodes.map((n) => n.op)).toEqual(ops);
      expect(diff).toBeLessThanOrEqual(tol);
    });
  }

  it('property: random widths, transB, bias, epsilons and statistics', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          op: fc.constantFrom('Gemm', 'MatMul', 'MatMulAdd'),
          transB: fc.boolean(),
          k: fc.integer({ min: 1, max: 64 }),
          nOut: fc.integer({ min: 1, max: 16 }),
          bias: fc.boolean(),
          eps: fc.constantFrom(1e-5, 1e-3, 0.5),
        }),
        async (c) => {
          const r = rng(c.seed);
          const st: BnStats = {
            gamma: Float32Array.from({ length: c.nOut }, () => -2 + 4 * r()),
            beta: Float32Array.from({ length: c.nOut }, () => -2 + 4 * r()),
            mean: Float32Array.from({ length: c.nOut }, () => -2 + 4 * r()),
            variance: Float32Array.from({ length: c.nOut }, () => 1e-3 + 3 * r()),
            eps: c.eps,
          };
          const spec: GemmSpec = { op: c.op as GemmSpec['op'], transB: c.transB, k: c.k, nOut: c.nOut, bias: c.op === 'MatMulAdd' ? true : c.bias };
          const { diff, tol } = await checkGemmBn(c.seed, spec, st);
          expect(diff).toBeLessThanOrEqual(tol);
        },
      ),
      { numRuns: 30, seed: 20240918 },
    );
  });
});

// ---- bn-flatten-gemm ------------------------------------------------------------------

async function checkBnFlattenGemm(seed: number, c: number, h: number, s: Omit<GemmSpec, 'k'>, st?: BnStats, flatten: 'Flatten' | 'Reshape' = 'Flatten'): Promise<{ diff: number; tol: number; m: Model }> {
  const m = bnFlattenGemmModel(seed, c, h, s, st, flatten);
  const original = cloneModel(m);
  expect(classifyBatchNorms(m.graph).map((f) => f.pattern)).toEqual(['bn-flatten-gemm']);
  const r = fold(m);
  expect(r.counts).toMatchObject({ folded: 1, bnFlattenGemm: 1 });
  expect(bnCount(m)).toBe(0);
  const k = h ? c * h * h : c;
  const hw = h ? h * h : 1;
  const w = vals(original, 'fc.weight');
  const transB = s.op === 'Gemm' && !!s.transB;
  const alpha = Math.abs(s.alpha ?? 1), beta = Math.abs(s.beta ?? 1);
  const bias = s.bias ? Float32Array.from(vals(original, 'fc.bias'), (b) => b * beta) : undefined;
  const tol = inputSideTol((o, z) => {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += alpha * Math.abs(transB ? w[o * k + j]! : w[j * s.nOut + o]!) * z(Math.floor(j / hw));
    return sum;
  }, s.nOut, bias, bnArrays(original), k);
  const diff = await compare(original, m, h ? [2, c, h, h] : [2, c], seed + 1);
  return { diff, tol, m };
}

describe('fold-batchnorm: bn-flatten-gemm (input side)', () => {
  for (const [label, c, h, s, flatten, ops] of [
    ['BN2d -> Flatten -> Gemm transB=1', 4, 3, { op: 'Gemm', transB: true, nOut: 5, bias: true }, 'Flatten', ['Flatten', 'Gemm']],
    ['BN2d -> Flatten -> Gemm transB=0, no bias, alpha 2', 3, 4, { op: 'Gemm', transB: false, nOut: 6, bias: false, alpha: 2 }, 'Flatten', ['Flatten', 'Gemm']],
    ['BN2d -> Reshape([0,-1]) -> Gemm', 2, 5, { op: 'Gemm', transB: true, nOut: 3, bias: true }, 'Reshape', ['Reshape', 'Gemm']],
    ['BN2d -> Flatten -> MatMul', 3, 3, { op: 'MatMul', nOut: 4, bias: false }, 'Flatten', ['Flatten', 'MatMul', 'Add']],
    ['BN2d -> Flatten -> MatMul + Add', 3, 3, { op: 'MatMulAdd', nOut: 4, bias: true }, 'Flatten', ['Flatten', 'MatMul', 'Add']],
    ['BN1d -> Gemm', 7, 0, { op: 'Gemm', transB: true, nOut: 4, bias: true }, 'Flatten', ['Gemm']],
  ] as [string, number, number, Omit<GemmSpec, 'k'>, 'Flatten' | 'Reshape', string[]][]) {
    it(label, async () => {
      const { diff, tol, m } = await checkBnFlattenGemm(31, c, h, s, undefined, flatten);
      expect(m.graph.nodes.map((n) => n.op)).toEqual(ops);
      expect(diff).toBeLessThanOrEqual(tol);
    });
  }

  it('property: random channels, spatial sizes, transB, statistics', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          c: fc.integer({ min: 1, max: 8 }),
          h: fc.integer({ min: 0, max: 5 }),
          op: fc.constantFrom('Gemm', 'MatMul'),
          transB: fc.boolean(),
          nOut: fc.integer({ min: 1, max: 8 }),
          bias: fc.boolean(),
          eps: fc.constantFrom(1e-5, 1e-2, 1),
        }),
        async (p) => {
          const r = rng(p.seed);
          const st: BnStats = {
            gamma: Float32Array.from({ length: p.c }, () => -2 + 4 * r()),
            beta: Float32Array.from({ length: p.c }, () => -2 + 4 * r()),
            mean: Float32Array.from({ length: p.c }, () => -2 + 4 * r()),
            variance: Float32Array.from({ length: p.c }, () => 1e-3 + 3 * r()),
            eps: p.eps,
          };
          const { diff, tol } = await checkBnFlattenGemm(p.seed, p.c, p.h, { op: p.op as 'Gemm' | 'MatMul', transB: p.transB, nOut: p.nOut, bias: p.op === 'Gemm' && p.bias }, st);
          expect(diff).toBeLessThanOrEqual(tol);
        },
      ),
      { numRuns: 30, seed: 20240919 },
    );
  });
});

// ---- bn-conv --------------------------------------------------------------------------

async function checkBnConv(seed: number, s: ConvSpec, h: number, st?: BnStats, consumers = 1): Promise<{ diff: number; tol: number; m: Model }> {
  const m = bnConvModel(seed, s, h, st, consumers);
  const original = cloneModel(m);
  const r = fold(m);
  expect(r.counts).toMatchObject({ folded: 1, bnConv: 1 });
  expect(bnCount(m)).toBe(0);
  const group = s.group ?? 1;
  const cg = s.cin / group, og = s.cout / group, taps = s.k * s.k;
  const k = cg * taps;
  let tol = 0;
  for (let i = 0; i < consumers; i++) {
    const w = vals(original, `conv${i}.weight`);
    const bias = s.bias ? vals(original, `conv${i}.bias`) : undefined;
    tol = Math.max(tol, inputSideTol((o, z) => {
      let sum = 0;
      for (let ci = 0; ci < cg; ci++) for (let q = 0; q < taps; q++) sum += Math.abs(w[(o * cg + ci) * taps + q]!) * z(Math.floor(o / og) * cg + ci);
      return sum;
    }, s.cout, bias, bnArrays(original), k));
  }
  const diff = await compare(original, m, [2, s.cin, h, h], seed + 1);
  return { diff, tol, m };
}

describe('fold-batchnorm: bn-conv without padding (input side)', () => {
  for (const [label, s, consumers] of [
    ['1x1 stride 2 with bias', { cin: 4, cout: 6, k: 1, pad: 0, stride: 2, bias: true }, 1],
    ['1x1 no bias, two consumer convs', { cin: 3, cout: 2, k: 1, pad: 0, bias: false }, 2],
    ['3x3 valid, grouped', { cin: 4, cout: 6, k: 3, pad: 0, group: 2, bias: true }, 1],
    ['1x1 depthwise', { cin: 5, cout: 5, k: 1, pad: 0, group: 5, bias: false }, 1],
  ] as [string, ConvSpec, number][]) {
    it(label, async () => {
      const { diff, tol, m } = await checkBnConv(41, s, 6, undefined, consumers);
      expect(m.graph.nodes.map((n) => n.op)).toEqual(Array(consumers).fill('Conv'));
      expect(diff).toBeLessThanOrEqual(tol);
    });
  }

  it('property: random unpadded convs, groups, statistics', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          cinPerGroup: fc.integer({ min: 1, max: 4 }),
          group: fc.constantFrom(1, 2, 3),
          coutPerGroup: fc.integer({ min: 1, max: 3 }),
          k: fc.constantFrom(1, 2, 3),
          stride: fc.constantFrom(1, 2),
          bias: fc.boolean(),
          eps: fc.constantFrom(1e-5, 1e-3, 0.1),
        }),
        async (p) => {
          const cin = p.cinPerGroup * p.group, cout = p.coutPerGroup * p.group;
          const r = rng(p.seed);
          const st: BnStats = {
            gamma: Float32Array.from({ length: cin }, () => -2 + 4 * r()),
            beta: Float32Array.from({ length: cin }, () => -2 + 4 * r()),
            mean: Float32Array.from({ length: cin }, () => -2 + 4 * r()),
            variance: Float32Array.from({ length: cin }, () => 1e-3 + 3 * r()),
            eps: p.eps,
          };
          const { diff, tol } = await checkBnConv(p.seed, { cin, cout, k: p.k, pad: 0, stride: p.stride, group: p.group, bias: p.bias }, 6, st);
          expect(diff).toBeLessThanOrEqual(tol);
        },
      ),
      { numRuns: 25, seed: 20240920 },
    );
  });
});

// ---- what does not fold ---------------------------------------------------------------

describe('fold-batchnorm: BNs that cannot fold exactly', () => {
  it('BN before a padded conv is kept, with the reason; nothing changes', () => {
    const m = bnConvModel(51, { cin: 3, cout: 4, k: 3, pad: 1, bias: true }, 6);
    const bytes = settled(m);
    const r = fold(m);
    expect(r.changed).toBe(false);
    expect(r.counts.folded).toBe(0);
    expect(r.skipped).toEqual([{ node: 'bn', reason: expect.stringMatching(/zero-pads after the BN.*kept as BatchNormalization/) }]);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('BN after a residual Add is kept, with the reason', () => {
    const m = residualBnModel(52, 4, 5);
    const r = fold(m);
    expect(r.changed).toBe(false);
    expect(r.skipped).toEqual([{ node: 'bn', reason: expect.stringMatching(/between Add residual and PRelu: no linear op to fold into; kept/) }]);
    expect(bnCount(m)).toBe(1);
  });

  it("bnUnfoldable 'affine' rewrites them as Mul + Add, numerically equal", async () => {
    for (const m of [residualBnModel(53, 4, 5), bnConvModel(54, { cin: 3, cout: 4, k: 3, pad: 1, bias: true }, 6)]) {
      const original = cloneModel(m);
      const r = fold(m, 'affine');
      expect(r.counts.affine).toBe(1);
      expect(r.skipped).toEqual([]);
      expect(bnCount(m)).toBe(0);
      const mul = m.graph.nodes.find((n) => n.op === 'Mul')!;
      expect(mul.inputs[1]!.const!.dims).toEqual([1, mul.inputs[1]!.const!.dims[1], 1, 1]);
      // x*s + t vs ORT's BN: a few roundings of terms bounded by (|x|+|mean|)|s|+|beta| on
      // top of the conv's own error, which both sides share exactly (same conv).
      const diff = await compare(original, m, (m.graph.inputs[0]!.shape as (number | string)[]).map((d) => (typeof d === 'number' ? d : 2)), 55);
      expect(diff).toBeLessThan(1e-5);
    }
  });

  it('a training-mode BN and a BN with non-constant statistics are listed and left alone', () => {
    const { m, g } = newModel(15);
    const x = input(g, 'x', ['N', 3, 4, 4]);
    const r = rng(1);
    const y = conv(g, r, x, { cin: 3, cout: 3, k: 1, pad: 0, bias: true }).y;
    const st = { gamma: new Float32Array(3).fill(1), beta: new Float32Array(3), mean: new Float32Array(3), variance: new Float32Array(3).fill(1), eps: 1e-5 };
    const b1 = bn(g, y, st, 'bn_train');
    g.nodes.find((n) => n.name === 'bn_train')!.setAttr('training_mode', attr.int(1));
    const mean = input(g, 'mean', [3]);
    const b2 = bn(g, b1, st, 'bn_dyn');
    g.nodes.find((n) => n.name === 'bn_dyn')!.setInput(3, mean);
    g.outputs = [b2];
    const bytes = settled(m);
    const rep = fold(m);
    expect(rep.changed).toBe(false);
    expect(rep.skipped).toEqual([
      { node: 'bn_train', reason: expect.stringMatching(/training-mode BatchNormalization/) },
      { node: 'bn_dyn', reason: 'scale, bias, mean or variance is not a constant' },
    ]);
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('a conv whose output is also read elsewhere is not folded into (classifyBn precondition)', () => {
    const m = convBnModel(56, { cin: 2, cout: 3, k: 1, pad: 0, bias: true }, 4);
    m.graph.outputs.push(m.graph.requireValue('conv_out'));
    const r = fold(m);
    expect(r.counts.folded).toBe(0);
    expect(r.skipped[0]!.reason).toMatch(/no linear op to fold into/);
  });
});
