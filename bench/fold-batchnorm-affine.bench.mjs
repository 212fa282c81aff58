#!/usr/bin/env node
/**
 * fold-batchnorm: what to do with a BatchNormalization that cannot fold exactly
 * (before a padded conv, after a residual Add): keep it, or rewrite it as one
 * per-channel affine x * s + t (Mul + Add with [1, C, 1, 1] constants)?
 * Measured on onnxruntime-node (cpu), which is where the exported ONNX runs.
 *
 * A. One op in isolation: x -> (BN | Mul+Add) -> Relu, 8 times in a chain (Relu
 *    keeps the 8 sites apart), on the feature-map shapes of an iresnet at 112x112.
 * B. A whole model: fixtures/iresnet18.eval.onnx optimized both ways (its padded
 *    pre-activation BNs are the unfoldable ones), batch 1 and 8.
 * Each at graph optimization level 'all' (what a deployment uses) and 'disabled'
 * (what the parity reference uses), 1 intra-op thread. The two variants are timed
 * interleaved (21 rounds, each sample the mean of enough runs to take ~40 ms):
 * fastest sample of each, and the median of the per-round ratios.
 *
 * Needs `npm run build` first (imports dist/). Prints a Markdown section.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

const root = resolve(import.meta.dirname, '..');
const lib = await import(resolve(root, 'dist/index.js'));
const { Graph, Model, TensorData, attr, encodeOnnx, loadOnnx, optimize } = lib;
const { createLogger } = await import(resolve(root, 'dist/log.js'));

const { mulberry32: rng } = await import(resolve(root, 'dist/data/synthetic.js')); // the PRNG of the synthetic references
const floats = (n, r, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());

/** x -> 8 x (BN or Mul+Add -> Relu) on [n, c, h, w]. */
function chain(kind, [n, c, h, w]) {
  const g = new Graph();
  const r = rng(7);
  let x = g.addValue('x', { dtype: 1, shape: ['N', c, h, w] });
  g.inputs = [x];
  for (let i = 0; i < 8; i++) {
    let y;
    if (kind === 'bn') {
      const p = (lo, hi) => g.addConstant(`p${i}_${g.initializers().length}`, TensorData.float32([c], floats(c, r, lo, hi)));
      y = g.addNode({ op: 'BatchNormalization', inputs: [x, p(0.5, 1.5), p(-0.5, 0.5), p(-0.5, 0.5), p(0.5, 2)], attrs: { epsilon: attr.float(1e-5) } }).outputs[0];
    } else {
      const s = g.addConstant(`s${i}`, TensorData.float32([1, c, 1, 1], floats(c, r, 0.5, 1.5)));
      const t = g.addConstant(`t${i}`, TensorData.float32([1, c, 1, 1], floats(c, r, -0.5, 0.5)));
      const m = g.addNode({ op: 'Mul', inputs: [x, s] }).outputs[0];
      y = g.addNode({ op: 'Add', inputs: [m, t] }).outputs[0];
    }
    x = g.addNode({ op: 'Relu', inputs: [y] }).outputs[0];
  }
  g.outputs = [x];
  void n;
  return new Model(g);
}

/**
 * Time two models on the same feeds, interleaved sample by sample so both see the
 * same machine load (this 2-core machine is shared). Returns the fastest sample of
 * each (the least disturbed) and the median of the per-round ratio b / a.
 */
async function timePair(bytesA, bytesB, feeds, level) {
  const open = (b) => ort.InferenceSession.create(b, { graphOptimizationLevel: level, intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
  const [a, b] = [await open(bytesA), await open(bytesB)];
  for (let i = 0; i < 5; i++) {
    await a.run(feeds);
    await b.run(feeds);
  }
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await a.run(feeds);
    if (performance.now() - t0 > 40 || reps > 1000) break;
    reps *= 2;
  }
  const sample = async (s) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await s.run(feeds);
    return (performance.now() - t0) / reps;
  };
  const ta = [], tb = [], ratio = [];
  for (let k = 0; k < ROUNDS; k++) {
    const x = k % 2 ? await sample(b) : await sample(a);
    const y = k % 2 ? await sample(a) : await sample(b);
    const [sa, sb] = k % 2 ? [y, x] : [x, y];
    ta.push(sa);
    tb.push(sb);
    ratio.push(sb / sa);
  }
  await a.release();
  await b.release();
  ratio.sort((p, q) => p - q);
  return { a: Math.min(...ta), b: Math.min(...tb), ratio: ratio[ratio.length >> 1] };
}
const ROUNDS = 21;

const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} us` : `${ms.toFixed(2)} ms`);
const lines = [];
lines.push('## fold-batchnorm: unfoldable BN as affine vs BatchNormalization', '');
lines.push(`onnxruntime-node ${ort.env.versions?.common ?? ''} cpu, 1 intra-op thread; ${cpus()[0]?.model ?? 'cpu'}; ${new Date().toISOString().slice(0, 10)}. Times: fastest of 21 interleaved samples; ratio: median of the 21 per-round ratios. Script: bench/fold-batchnorm-affine.bench.mjs.`, '');
lines.push('A. 8 sites of (BN or Mul+Add) -> Relu in a chain', '');
lines.push('| input | level | BatchNormalization | Mul + Add | Mul+Add / BN |', '|---|---|---|---|---|');
const shapes = [[1, 64, 56, 56], [1, 128, 28, 28], [1, 256, 14, 14], [1, 512, 7, 7], [8, 64, 56, 56]];
for (const shape of shapes) {
  const r = rng(11);
  const feeds = { x: new ort.Tensor('float32', floats(shape.reduce((a, b) => a * b, 1), r), shape) };
  for (const level of ['all', 'disabled']) {
    const t = await timePair(encodeOnnx(chain('bn', shape)), encodeOnnx(chain('affine', shape)), feeds, level);
    lines.push(`| [${shape.join(', ')}] | ${level} | ${fmt(t.a)} | ${fmt(t.b)} | ${t.ratio.toFixed(2)} |`);
  }
}
const fixture = resolve(root, process.env.SF2_BENCH_BN_MODEL ?? 'fixtures/iresnet18.eval.onnx');
lines.push('');
if (existsSync(fixture)) {
  const log = createLogger({ quiet: true });
  const keep = loadOnnx(fixture);
  const kr = optimize(keep, { bnUnfoldable: 'keep' }, { log });
  const aff = loadOnnx(fixture);
  const ar = optimize(aff, { bnUnfoldable: 'affine' }, { log });
  const fb = (reps) => reps.find((p) => p.pass === 'fold-batchnorm');
  const kept = fb(kr).skipped.length;
  const rewritten = fb(ar).counts.affine;
  lines.push(`B. ${fixture.slice(root.length + 1)} after optimize: ${kept} unfoldable BNs kept vs rewritten as Mul+Add (${rewritten})`, '');
  lines.push('| batch | level | kept as BN | as Mul + Add | Mul+Add / BN |', '|---|---|---|---|---|');
  const kb = encodeOnnx(keep), ab = encodeOnnx(aff);
  for (const n of [1, 8]) {
    const feeds = { input: new ort.Tensor('float32', floats(n * 3 * 112 * 112, rng(5)), [n, 3, 112, 112]) };
    for (const level of ['all', 'disabled']) {
      const t = await timePair(kb, ab, feeds, level);
      lines.push(`| ${n} | ${level} | ${fmt(t.a)} | ${fmt(t.b)} | ${t.ratio.toFixed(2)} |`);
    }
  }
} else {
  lines.push(`B. skipped: ${fixture} does not exist`);
}
console.log(lines.join('\n') + '\n');
