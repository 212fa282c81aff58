#!/usr/bin/env node
/**
 * Accuracy of the quantized ONNX bundles on every eval fixture, against the
 * PyTorch references (fixtures/<arch>.npz: 32 held-out images, 64 pairs), on
 * onnxruntime-node cpu: fp16 (bundle and float16 emulation), int8 weight-only,
 * int8 static QDQ with each calibration method, every layer quantized, and the
 * QDQ default (percentile) after the sensitivity pass. The table of
 * docs/quantization.md ("Measured on the fixtures").
 *
 * Needs `npm run build` first (imports dist/). Prints a Markdown table.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const lib = await import(resolve(root, 'dist/index.js'));
const q = await import(resolve(root, 'dist/quantize/index.js'));
const { readNpz, toFloat32 } = await import(resolve(root, 'dist/data/npy.js'));
const { createLogger } = await import(resolve(root, 'dist/log.js'));
const log = createLogger({ quiet: true });
const f = (r) => `${r.minCosine.toFixed(6)}${r.flips ? ` (${r.flips} flips)` : ''}`;
console.log('| fixture | fp16 (emulated) | int8 weight-only | QDQ minmax | QDQ percentile | QDQ entropy | QDQ percentile + sensitivity |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const arch of ['sfnet10', 'sfnet10bn', 'iresnet18']) {
  const path = resolve(root, `fixtures/${arch}.eval.onnx`);
  if (!existsSync(path)) continue;
  const model = lib.loadOnnx(path);
  lib.optimize(model, {}, { log });
  const z = readNpz(resolve(root, `fixtures/${arch}.npz`));
  const inputs = { data: toFloat32(z.get('inputs')), dims: z.get('inputs').shape, reference: toFloat32(z.get('embeddings')), pairs: { pairs: Int32Array.from(toFloat32(z.get('pairs'))), issame: Uint8Array.from(toFloat32(z.get('issame')), (v) => (v ? 1 : 0)) } };
  const h = (await q.quantizeFloat16(model, inputs)).details;
  const w = (await q.quantizeInt8(model, inputs, { scheme: 'weight-only' })).details;
  const m = {};
  for (const method of ['minmax', 'percentile', 'entropy']) m[method] = (await q.quantizeInt8(model, inputs, { scheme: 'qdq', method, sensitivity: 'off' })).details;
  const s = (await q.quantizeInt8(model, inputs, { scheme: 'qdq' })).details;
  console.log(`| ${arch} | ${f(h.result)} (${h.emulated.minCosine.toFixed(6)}) | ${f(w.result)} | ${f(m.minmax.result)} | ${f(m.percentile.result)} | ${f(m.entropy.result)} | ${f(s.result)}, ${s.higherPrecision.length ? `${s.higherPrecision.length} units kept float32` : 'nothing kept'} |`);
}
