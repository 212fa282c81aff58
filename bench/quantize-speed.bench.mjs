#!/usr/bin/env node
/**
 * ONNX bundles per precision on onnxruntime-node (cpu): size, embedding
 * accuracy against the PyTorch references, and speed.
 *
 * Bundles (all from the optimized float32 model, as the ONNX target writes them):
 *   fp32; fp16 (float16 compute, the default); fp16 with 'ort-cpu' islands;
 *   int8 weight-only (also timed with onnxruntime's session option
 *   session.disable_quant_qdq=1, which folds the DequantizeLinear of constant
 *   weights at load); int8 static QDQ with every layer int8 (percentile
 *   calibration on the fixture inputs; no sensitivity pass: see
 *   quantize-sensitivity.bench.mjs).
 * Models: fixtures/{sfnet10,sfnet10bn,iresnet18}.eval.onnx with their .npz
 * references, and a full-size iresnet100 (512-d) when SF2_BENCH_FULL (default
 * /tmp/sf2-full/iresnet100.eval.onnx, made by
 *   /usr/bin/python3 fixtures/generate.py --full --only iresnet100 --out /tmp/sf2-full)
 * and its .npz exist.
 * Speed: graph optimization 'all' (what a deployment uses), 1 and 2 intra-op
 * threads, batch 1 and 8 (batch 1 only for iresnet100); median of REPS
 * timings, each the mean of enough runs to take about 50 ms, after 3 warm-up runs.
 *
 * Needs `npm run build` first (imports dist/). Prints a Markdown section.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

const root = resolve(import.meta.dirname, '..');
const lib = await import(resolve(root, 'dist/index.js'));
const q = await import(resolve(root, 'dist/quantize/index.js'));
const { buildWeightOnly } = await import(resolve(root, 'dist/quantize/int8.js'));
const { convertToFloat16 } = await import(resolve(root, 'dist/quantize/fp16.js'));
const { checkEmbeddings } = await import(resolve(root, 'dist/quantize/metric.js'));
const { runEmbeddings } = await import(resolve(root, 'dist/data/ort-run.js'));
const { readNpz, toFloat32 } = await import(resolve(root, 'dist/data/npy.js'));
const { createLogger } = await import(resolve(root, 'dist/log.js'));
const { loadOnnx, optimize, encodeOnnx } = lib;

const log = createLogger({ quiet: true });
const full = process.env.SF2_BENCH_FULL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const models = ['sfnet10', 'sfnet10bn', 'iresnet18'].map((a) => ({ name: a, path: resolve(root, `fixtures/${a}.eval.onnx`), npz: resolve(root, `fixtures/${a}.npz`), big: false }));
if (existsSync(full) && existsSync(full.replace(/\.eval\.onnx$/, '.npz'))) models.push({ name: 'iresnet100', path: full, npz: full.replace(/\.eval\.onnx$/, '.npz'), big: true });
const only = process.env.SF2_BENCH_ONLY?.split(',');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(bytes, x, dims, threads, reps, extra) {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, ...(extra ? { extra } : {}) });
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, dims) };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const t0 = performance.now();
  await s.run(feeds);
  const one = performance.now() - t0;
  const inner = Math.max(1, Math.ceil(50 / Math.max(one, 0.01)));
  const out = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    for (let i = 0; i < inner; i++) await s.run(feeds);
    out.push((performance.now() - t) / inner);
  }
  await s.release();
  return median(out);
}

const rows = [];
for (const m of models) {
  if (only && !only.includes(m.name)) continue;
  const model = loadOnnx(m.path);
  optimize(model, {}, { log });
  const z = readNpz(m.npz);
  const inputs = { data: toFloat32(z.get('inputs')), dims: z.get('inputs').shape, reference: toFloat32(z.get('embeddings')), pairs: { pairs: Int32Array.from(toFloat32(z.get('pairs'))), issame: Uint8Array.from(toFloat32(z.get('issame')), (v) => (v ? 1 : 0)) } };
  const dim = z.get('embeddings').shape[1];
  const out = model.graph.outputs[0].name;
  const opts = { sensitivity: 'off' };
  const bundles = [
    ['fp32', model],
    ['fp16', convertToFloat16(model).model],
    ['fp16 (ort-cpu islands)', convertToFloat16(model, { islands: 'ort-cpu' }).model],
    ['int8 weight-only', buildWeightOnly(model).model],
    ['int8 weight-only, folded at load (session.disable_quant_qdq=1)', buildWeightOnly(model).model, { session: { disable_quant_qdq: '1' } }],
    ['int8 QDQ', (await q.quantizeInt8(model, inputs, { ...opts, scheme: 'qdq', method: 'percentile' })).model],
  ];
  for (const [name, bm, extra] of bundles) {
    const bytes = encodeOnnx(bm);
    const e = await runEmbeddings(bytes, inputs, out, { batch: m.big ? 4 : 16 });
    const c = checkEmbeddings(inputs.reference, e, dim, { minCosine: 0, maxFlips: 0 }, inputs.pairs);
    const row = { model: m.name, bundle: name, bytes: bytes.length, minCos: c.minCosine, flips: c.flips, t: {} };
    const per = inputs.data.length / inputs.dims[0];
    for (const batch of m.big ? [1] : [1, 8]) {
      const x = inputs.data.slice(0, batch * per);
      for (const threads of [1, 2]) row.t[`b${batch}t${threads}`] = await time(bytes, x, [batch, ...inputs.dims.slice(1)], threads, m.big ? 5 : 15, extra);
    }
    rows.push(row);
    process.stderr.write(`${m.name} ${name}: ${JSON.stringify(row)}\n`);
  }
}

const mb = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(0)} kB`);
const ms = (x) => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
console.log(`Machine: ${cpus()[0].model}, ${cpus().length} cores; Node ${process.version}; onnxruntime-node ${ort.env.versions.common} (cpu EP); date ${new Date().toISOString().slice(0, 10)}.\n`);
console.log('| model | bundle | size | vs fp32 | min cosine vs PyTorch | flips | ms/batch 1 (1 thr) | 1 (2 thr) | ms/batch 8 (1 thr) | 8 (2 thr) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const base = rows.find((x) => x.model === r.model && x.bundle === 'fp32');
  console.log(`| ${r.model} | ${r.bundle} | ${mb(r.bytes)} | ${(r.bytes / base.bytes).toFixed(3)} | ${r.minCos.toFixed(6)} | ${r.flips} | ${ms(r.t.b1t1)} | ${ms(r.t.b1t2)} | ${ms(r.t.b8t1)} | ${ms(r.t.b8t2)} |`);
}
