#!/usr/bin/env node
/**
 * The int8 sensitivity pass on a full-size model: static QDQ of an iresnet100
 * (512-d), each calibration method with every layer quantized, then the
 * default method with the sensitivity pass ('auto'): how many layers stay
 * float32, the embedding metric against the PyTorch references, and the time
 * it takes. Model: SF2_BENCH_FULL (default /tmp/sf2-full/iresnet100.eval.onnx)
 * with its .npz beside it (see quantize-speed.bench.mjs).
 *
 * Needs `npm run build` first (imports dist/). Prints a Markdown section.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const lib = await import(resolve(root, 'dist/index.js'));
const q = await import(resolve(root, 'dist/quantize/index.js'));
const { readNpz, toFloat32 } = await import(resolve(root, 'dist/data/npy.js'));
const { createLogger } = await import(resolve(root, 'dist/log.js'));
const full = process.env.SF2_BENCH_FULL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const npz = full.replace(/\.eval\.onnx$/, '.npz');
if (!existsSync(full) || !existsSync(npz)) {
  console.error(`skipped: ${full} or ${npz} is missing`);
  process.exit(0);
}
const log = createLogger({ verbose: true });
const model = lib.loadOnnx(full);
lib.optimize(model, {}, { log: createLogger({ quiet: true }) });
const z = readNpz(npz);
const inputs = { data: toFloat32(z.get('inputs')), dims: z.get('inputs').shape, reference: toFloat32(z.get('embeddings')), pairs: { pairs: Int32Array.from(toFloat32(z.get('pairs'))), issame: Uint8Array.from(toFloat32(z.get('issame')), (v) => (v ? 1 : 0)) }, source: npz };
const rows = [];
const methods = (process.env.SF2_BENCH_METHODS ?? 'minmax,percentile,entropy').split(',').filter(Boolean);
for (const method of methods) {
  const t = performance.now();
  const r = await q.quantizeInt8(model, inputs, { scheme: 'qdq', method, sensitivity: 'off' });
  rows.push({ what: `QDQ ${method}, every layer int8`, s: (performance.now() - t) / 1000, d: r.details });
  process.stderr.write(`${rows.at(-1).what}: ${JSON.stringify(r.details.result)} ${rows.at(-1).s.toFixed(0)} s\n`);
}
const best = process.env.SF2_BENCH_SENSITIVITY_METHOD ?? q.DEFAULT_CALIBRATION_METHOD;
const t = performance.now();
const r = await q.quantizeInt8(model, inputs, { scheme: 'qdq', method: best, log });
rows.push({ what: `QDQ ${best}, sensitivity pass`, s: (performance.now() - t) / 1000, d: r.details });
const w = await q.quantizeInt8(model, inputs, { scheme: 'weight-only' });
rows.push({ what: 'weight-only', s: NaN, d: w.details });
console.log(`Machine: ${cpus()[0].model}, ${cpus().length} cores; Node ${process.version}; date ${new Date().toISOString().slice(0, 10)}; model ${full} (${inputs.dims[0]} reference rows, ${inputs.pairs.issame.length} pairs).\n`);
console.log('| int8 bundle | min cosine | mean cosine | flips | layers kept float32 | models measured | time (s) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const x of rows) console.log(`| ${x.what} | ${x.d.result.minCosine.toFixed(6)} | ${x.d.result.meanCosine.toFixed(6)} | ${x.d.result.flips} | ${x.d.higherPrecision.length} | ${x.d.sensitivity.evaluations} | ${Number.isNaN(x.s) ? '-' : x.s.toFixed(0)} |`);
const sens = rows.find((x) => x.what.includes('sensitivity')).d;
console.log(`\nKept float32 (worst first): ${sens.higherPrecision.map((h) => `${h.node} (${h.op})`).join(', ') || 'none'}.`);
console.log(`Worst layers alone (scan rows ${sens.sensitivity.scanRows}): ${sens.sensitivity.worst.slice(0, 8).map((l) => `${l.node} ${l.minCosine.toFixed(4)}`).join('; ')}.`);
