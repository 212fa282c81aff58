#!/usr/bin/env node
/**
 * Embeddings per second of the tfjs bundle on tfjs's wasm backend against the
 * ONNX bundle on onnxruntime-web's wasm execution provider: same process, same
 * optimized model (the tfjs bundle is written from it; the ONNX bundle is
 * encodeOnnx of it, the bytes saveOnnx writes), batch 1 and 8.
 *
 *   tfjs:         @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; single-threaded in
 *                 Node), loadGraphModel of the fp32 bundle.
 *   onnxruntime:  onnxruntime-web wasm provider, graph optimization 'all',
 *                 numThreads 1 (the same single thread) and, for reference, 2.
 *
 * Models: fixtures/{sfnet10,sfnet10bn,iresnet18}.eval.onnx and, when it exists,
 * the full-size iresnet100 (SF2_BENCH_FULL, default /tmp/sf2-full/iresnet100.eval.onnx,
 * made by `/usr/bin/python3 fixtures/generate.py --full --only iresnet100 --out /tmp/sf2-full`).
 * Timing: the engines alternate in rounds (SF2_BENCH_ROUNDS, default 9, for the
 * fixtures; 3 for the full model); each sample is the mean of enough runs to take ~100 ms after 3 warm-up
 * runs; the table shows the median sample. The two outputs are compared
 * (cosine) so both engines provably ran the same model.
 *
 * Needs `npm run build` first (imports dist/). Prints a Markdown section.
 * SF2_BENCH_ONLY=iresnet18,... limits the models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const lib = await import(resolve(root, 'dist/index.js'));
const { loadOnnx, optimize, encodeOnnx } = lib;
const { createLogger } = await import(resolve(root, 'dist/log.js'));
const { contractOf } = await import(resolve(root, 'dist/pipeline/export.js'));
const { buildTfjsBundle } = await import(resolve(root, 'dist/targets/tfjs/bundle.js'));
const { readNpz, toFloat32 } = await import(resolve(root, 'dist/data/npy.js'));
const tf = await import('@tensorflow/tfjs-core');
const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
const tfwasm = await import('@tensorflow/tfjs-backend-wasm');
const ort = await import('onnxruntime-web');

tfwasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
tf.env().set('PROD', true);
await tf.setBackend('wasm');
ort.env.logLevel = 'error';

const log = createLogger({ quiet: true });
const full = process.env.SF2_BENCH_FULL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const models = ['sfnet10', 'sfnet10bn', 'iresnet18'].map((a) => ({ name: a, path: resolve(root, `fixtures/${a}.eval.onnx`), npz: resolve(root, `fixtures/${a}.npz`), big: false }));
if (existsSync(full)) models.push({ name: 'iresnet100', path: full, npz: full.replace(/\.eval\.onnx$/, '.npz'), big: true });
const only = process.env.SF2_BENCH_ONLY?.split(',');
const ROUNDS = Number(process.env.SF2_BENCH_ROUNDS ?? 9);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Mean ms per call of `fn`, over enough calls to take ~100 ms. */
async function sample(fn, oneMs) {
  const inner = Math.max(1, Math.round(100 / Math.max(oneMs, 0.01)));
  const t = performance.now();
  for (let i = 0; i < inner; i++) await fn();
  return (performance.now() - t) / inner;
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

const rows = [];
for (const m of models) {
  if (only && !only.includes(m.name)) continue;
  const model = loadOnnx(m.path);
  optimize(model, {}, { log });
  const contract = contractOf(model);
  const per = 3 * 112 * 112;
  let data;
  if (existsSync(m.npz)) data = toFloat32(readNpz(m.npz).get('inputs'));
  else data = Float32Array.from({ length: 8 * per }, (_, i) => Math.sin(i * 0.37));

  const bundle = buildTfjsBundle(model, contract, 'fp32');
  const json = JSON.parse(bundle.modelJson);
  const weights = Buffer.concat(bundle.shards.map((s) => s.bytes));
  const tfModel = await loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  });
  const onnxBytes = encodeOnnx(model);
  const sessions = {};
  for (const threads of [1, 2]) {
    ort.env.wasm.numThreads = threads;
    sessions[threads] = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  }

  for (const batch of [1, 8]) {
    const x = data.slice(0, batch * per);
    const tfRun = async () => {
      const y = tfModel.execute({ [contract.input.name]: tf.tensor4d(x, [batch, 3, 112, 112]) });
      const out = await y.data();
      y.dispose();
      return out;
    };
    const ortRun = (threads) => async () => {
      const r = await sessions[threads].run({ [contract.input.name]: new ort.Tensor('float32', x, [batch, 3, 112, 112]) });
      return r[contract.output].data;
    };
    const contenders = { tfjs: tfRun, ort1: ortRun(1), ort2: ortRun(2) };
    const one = {};
    for (const [k, fn] of Object.entries(contenders)) {
      for (let i = 0; i < (m.big ? 1 : 3); i++) await fn();
      const t = performance.now();
      await fn();
      one[k] = performance.now() - t;
    }
    const cos = cosine(await tfRun(), await ortRun(1)());
    const samples = { tfjs: [], ort1: [], ort2: [] };
    for (let r = 0; r < (m.big ? 3 : ROUNDS); r++) for (const [k, fn] of Object.entries(contenders)) samples[k].push(await sample(fn, one[k]));
    const row = { model: m.name, batch, cos, ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) };
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  tfModel.dispose();
  for (const s of Object.values(sessions)) await s.release();
}

const tfjsVersion = JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8')).version;
const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
const eps = (ms, b) => { const v = (1000 * b) / ms; return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2); };
console.log('## tfjs bundle on tfjs wasm vs the ONNX bundle on onnxruntime-web wasm\n');
console.log(`Machine: ${cpus()[0].model}, ${cpus().length} cores; Node ${process.version}; tfjs ${tfjsVersion} wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'single thread'}); onnxruntime-web ${ort.env.versions.web} wasm; date ${new Date().toISOString().slice(0, 10)}. Median of interleaved samples; load average ${loadavg()[0].toFixed(1)} at the end (bench/tfjs-wasm-speed.bench.mjs).\n`);
console.log('| model | batch | tfjs wasm: ms / emb/s | onnxruntime-web wasm 1 thread: ms / emb/s | tfjs / ort (1 thread) speed | ort-web 2 threads: ms / emb/s | cosine tfjs vs ort |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const f = (k) => `${r.ms[k] >= 100 ? r.ms[k].toFixed(0) : r.ms[k].toFixed(2)} / ${eps(r.ms[k], r.batch)}`;
  console.log(`| ${r.model} | ${r.batch} | ${f('tfjs')} | ${f('ort1')} | ${(r.ms.ort1 / r.ms.tfjs).toFixed(2)}x | ${f('ort2')} | ${r.cos.toFixed(9)} |`);
}
