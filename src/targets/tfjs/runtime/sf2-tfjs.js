// sf2-tfjs.js: the on-device self-test of an sf2-export TensorFlow.js bundle,
// on any loaded GraphModel and any backend (cpu, wasm, webgl, webgpu). No
// dependencies: pass the tf module you use. It runs the bundle's golden set (a
// few reference faces and the embeddings PyTorch gave for them, golden.bin
// beside this file) through your model and compares.
//
//   import * as tf from '@tensorflow/tfjs';
//   import { selfTest } from './tfjs/fp32/sf2-tfjs.js';
//   const model = await tf.loadGraphModel('./tfjs/fp32/model.json');
//   const r = await selfTest(model, { tf });                    // r.pass, r.minCosine...
//
// options.golden: the golden set (URL, or its bytes) instead of golden.bin beside
// this file; options.weights: { 'group1-shard1of1.bin': bytes, ... } to check
// the shards' sha256 (WebCrypto) too, or options.checkWeights: true to fetch
// them from beside the golden set and check them.

/** Every error this module throws: `code` is 'usage' or 'golden'. */
export class Sf2Error extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'Sf2Error';
    this.code = code;
  }
}

/**
 * Run the golden set on `model`; resolves to
 * { pass, minCosine, maxAbsDiff, rows, worstRow, threshold, failures, adapter, backend, precision, weights, synthetic, ms }.
 * A failing check is pass: false with the reason per row in failures; only a
 * missing or unreadable golden set or bad arguments throw (Sf2Error).
 */
export async function selfTest(model, options = {}) {
  const t0 = performance.now();
  const tf = options.tf;
  if (!tf || typeof tf.tensor !== 'function') throw new Sf2Error('usage', "selfTest(model, { tf }): pass the TensorFlow.js module (import * as tf from '@tensorflow/tfjs')");
  if (!model || typeof model.executeAsync !== 'function') throw new Sf2Error('usage', 'selfTest(model, ...): model must be a tf.GraphModel (tf.loadGraphModel)');
  const src = options.golden ?? new URL('./golden.bin', import.meta.url);
  const { golden, failures } = await goldenLoad(src, 'selfTest');
  const files = new Map();
  if (options.weights) for (const [k, v] of Object.entries(options.weights)) files.set(k, await goldenBytes(v, `weights ${k}`));
  else if (options.checkWeights) {
    const base = src instanceof ArrayBuffer || ArrayBuffer.isView(src) ? null : new URL(String(src), globalThis.location && globalThis.location.href);
    if (!base) throw new Sf2Error('usage', 'checkWeights: true needs the golden set as a URL (the shards are fetched from beside it)');
    for (const w of golden.header.weights) files.set(w.path, await goldenBytes(new URL(w.path, base), `weights ${w.path}`));
  }
  const wc = await goldenCheckWeights(golden.header, files);
  failures.push(...wc.failures);
  const [c, h, w] = golden.header.inputShape;
  const rows = golden.header.rows, nhwc = golden.header.feedLayout === 'NHWC';
  const x = tf.tensor(goldenFeed(golden, golden.header.feedLayout), nhwc ? [rows, h, w, c] : [rows, c, h, w], 'float32');
  let out;
  try {
    // execute() for the static graphs sf2-export writes; executeAsync() for a graph with control flow.
    let y;
    try {
      y = model.execute(x);
    } catch (e) {
      if (!/executeAsync/.test(String(e && e.message))) throw e;
      y = await model.executeAsync(x);
    }
    const t = Array.isArray(y) ? y[0] : y;
    out = await t.data();
    tf.dispose(y);
  } finally {
    x.dispose();
  }
  const backend = typeof tf.getBackend === 'function' ? tf.getBackend() : '';
  let info = null;
  try {
    const b = typeof tf.backend === 'function' ? tf.backend() : null;
    info = b && (b.adapterInfo || (b.adapter && b.adapter.info)) || null;
  } catch (e) {
    info = null;
  }
  const adapter = { vendor: (info && info.vendor) || '', architecture: (info && info.architecture) || '', isFallbackAdapter: !!(info && info.isFallbackAdapter) };
  return goldenResult(golden, goldenCompare(golden, out), failures, wc.weights, adapter, backend, t0);
}
