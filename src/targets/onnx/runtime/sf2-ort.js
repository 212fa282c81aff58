// sf2-ort.js: the on-device self-test of an sf2-export ONNX bundle, for
// onnxruntime-web and onnxruntime-node sessions. No dependencies: pass the
// onnxruntime module you use. It runs the bundle's golden set (a few reference
// faces and the embeddings PyTorch gave for them, model.<precision>.golden.bin
// beside the model) through your session and compares.
//
//   import * as ort from 'onnxruntime-web';
//   import { selfTest } from './onnx/sf2-ort.js';
//   const session = await ort.InferenceSession.create('./onnx/model.fp32.onnx');
//   const r = await selfTest(session, { ort, precision: 'fp32' });   // r.pass, r.minCosine...
//
// options.golden: the golden set (URL, or its bytes) instead of the one beside
// this file for options.precision; options.modelBytes: the .onnx bytes the
// session was made from, to check their sha256 (WebCrypto) too.

/** Every error this module throws: `code` is 'usage' or 'golden'. */
export class Sf2Error extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'Sf2Error';
    this.code = code;
  }
}

/**
 * Run the golden set on `session`; resolves to
 * { pass, minCosine, maxAbsDiff, rows, worstRow, threshold, failures, adapter, backend, precision, weights, synthetic, ms }.
 * A failing check is pass: false with the reason per row in failures; only a
 * missing or unreadable golden set or bad arguments throw (Sf2Error).
 */
export async function selfTest(session, options = {}) {
  const t0 = performance.now();
  const ort = options.ort;
  if (!ort || typeof ort.Tensor !== 'function') throw new Sf2Error('usage', "selfTest(session, { ort }): pass the onnxruntime module (import * as ort from 'onnxruntime-web')");
  if (!session || typeof session.run !== 'function' || !session.inputNames) throw new Sf2Error('usage', 'selfTest(session, ...): session must be an onnxruntime InferenceSession');
  const src = options.golden ?? (options.precision ? new URL(`./model.${options.precision}.golden.bin`, import.meta.url) : null);
  if (!src) throw new Sf2Error('usage', "selfTest(session, { ort, precision }): say which bundle's golden set (precision 'fp32', 'fp16' or 'int8'), or pass { golden }");
  const { golden, failures } = await goldenLoad(src, 'selfTest');
  const files = new Map();
  if (options.modelBytes && golden.header.weights[0]) files.set(golden.header.weights[0].path, await goldenBytes(options.modelBytes, 'modelBytes'));
  const wc = await goldenCheckWeights(golden.header, files);
  failures.push(...wc.failures);
  const [c, h, w] = golden.header.inputShape;
  const per = c * h * w, d = golden.header.dim, rows = golden.header.rows;
  const out = new Float32Array(rows * d);
  const inName = session.inputNames[0], outName = session.outputNames[0];
  // One row at a time: works for models exported with a fixed batch of 1 too.
  for (let r = 0; r < rows; r++) {
    const x = new ort.Tensor('float32', golden.inputs.slice(r * per, (r + 1) * per), [1, c, h, w]);
    const res = await session.run({ [inName]: x });
    const y = res[outName];
    const v = y.data;
    if (v.length !== d) failures.push(`row ${r}: the model gave ${v.length} values, expected ${d}`);
    out.set(Float32Array.from(v).subarray(0, d), r * d);
    if (typeof y.dispose === 'function') y.dispose();
  }
  const info = ort.env && ort.env.webgpu && ort.env.webgpu.adapter && ort.env.webgpu.adapter.info;
  const adapter = { vendor: (info && info.vendor) || '', architecture: (info && info.architecture) || '', isFallbackAdapter: !!(info && info.isFallbackAdapter) };
  return goldenResult(golden, goldenCompare(golden, out), failures, wc.weights, adapter, options.backend || 'onnxruntime', t0);
}
