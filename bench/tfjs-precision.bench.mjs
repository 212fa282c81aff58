#!/usr/bin/env node
/**
 * tfjs bundles per precision: weight bytes and min cosine against the PyTorch
 * references on tfjs wasm (Node). For int8 the two manifest-level schemes are
 * measured on every model, forced for all kernels, next to the per-kernel
 * choice the target makes (src/targets/tfjs/quantize.ts):
 *   per-tensor   uint8 affine in the manifest (min, scale): no extra op
 *   per-channel  int8 symmetric per output channel: uint8 weight + [C] scale
 *                Const + one Mul per kernel at run time
 *
 * Models: fixtures/{sfnet10,sfnet10bn,iresnet18}.eval.onnx (32 reference rows)
 * and the full-size iresnet100 when SF2_BENCH_FULL (default
 * /tmp/sf2-full/iresnet100.eval.onnx) and its .npz exist (first 8 rows).
 * Needs `npm run build` first (imports dist/). Prints a Markdown section.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const lib = await import(resolve(root, 'dist/index.js'));
const { loadOnnx, optimize } = lib;
const { createLogger } = await import(resolve(root, 'dist/log.js'));
const { contractOf } = await import(resolve(root, 'dist/pipeline/export.js'));
const { buildTfjsBundle } = await import(resolve(root, 'dist/targets/tfjs/bundle.js'));
const { readNpz, toFloat32 } = await import(resolve(root, 'dist/data/npy.js'));
const tf = await import('@tensorflow/tfjs-core');
const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
const tfwasm = await import('@tensorflow/tfjs-backend-wasm');
tfwasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
tf.env().set('PROD', true);
await tf.setBackend('wasm');

const log = createLogger({ quiet: true });
const full = process.env.SF2_BENCH_FULL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const models = ['sfnet10', 'sfnet10bn', 'iresnet18'].map((a) => ({ name: a, path: resolve(root, `fixtures/${a}.eval.onnx`), npz: resolve(root, `fixtures/${a}.npz`), rows: 32 }));
if (existsSync(full) && existsSync(full.replace(/\.eval\.onnx$/, '.npz'))) models.push({ name: 'iresnet100', path: full, npz: full.replace(/\.eval\.onnx$/, '.npz'), rows: 8 });
const only = process.env.SF2_BENCH_ONLY?.split(',');

function minCosine(a, b, n, d) {
  let min = 1;
  for (let r = 0; r < n; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = 0; j < d; j++) {
      const x = a[r * d + j], y = b[r * d + j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    min = Math.min(min, ab / Math.sqrt(aa * bb));
  }
  return min;
}

const variants = [
  ['fp32', 'fp32', {}],
  ['fp16', 'fp16', {}],
  ['int8 (per kernel choice)', 'int8', {}],
  ['int8 all per-tensor', 'int8', { int8Scheme: 'per-tensor' }],
  ['int8 all per-channel', 'int8', { int8Scheme: 'per-channel' }],
];

const rows = [];
for (const m of models) {
  if (only && !only.includes(m.name)) continue;
  const model = loadOnnx(m.path);
  optimize(model, {}, { log });
  const contract = contractOf(model);
  const z = readNpz(m.npz);
  const inputs = toFloat32(z.get('inputs')).subarray(0, m.rows * 3 * 112 * 112);
  const ref = toFloat32(z.get('embeddings'));
  for (const [label, precision, opts] of variants) {
    const b = buildTfjsBundle(model, contract, precision, opts);
    const json = JSON.parse(b.modelJson);
    const w = Buffer.concat(b.shards.map((s) => s.bytes));
    const tm = await loadGraphModel({ load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength), signature: json.signature }) });
    const out = new Float32Array(m.rows * contract.embeddingDim);
    for (let r = 0; r < m.rows; r += 8) {
      const n = Math.min(8, m.rows - r);
      const y = tm.execute({ [contract.input.name]: tf.tensor4d(inputs.subarray(r * 3 * 112 * 112, (r + n) * 3 * 112 * 112), [n, 3, 112, 112]) });
      out.set(await y.data(), r * contract.embeddingDim);
      y.dispose();
    }
    tm.dispose();
    const row = { model: m.name, label, bytes: b.details.weightBytes, shards: b.details.shards, kernels: b.details.kernelsStored, minCos: minCosine(out, ref, m.rows, contract.embeddingDim), rows: m.rows };
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
}

const mb = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} MB` : `${(x / 1e3).toFixed(0)} kB`);
console.log('## tfjs bundles per precision (tfjs wasm, Node)\n');
console.log(`Machine: ${cpus()[0].model}, ${cpus().length} cores; Node ${process.version}; date ${new Date().toISOString().slice(0, 10)} (bench/tfjs-precision.bench.mjs).\n`);
console.log('| model | bundle | weights | shards | kernels stored | min cosine vs PyTorch (rows) |');
console.log('|---|---|---:|---:|---|---:|');
for (const r of rows) console.log(`| ${r.model} | ${r.label} | ${mb(r.bytes)} | ${r.shards} | ${Object.entries(r.kernels).map(([k, v]) => `${v} ${k}`).join(', ')} | ${r.minCos > 0.99999 ? `1 - ${(1 - r.minCos).toExponential(1)}` : r.minCos.toFixed(6)} (${r.rows}) |`);
