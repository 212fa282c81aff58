#!/usr/bin/env node
/**
 * The WebGPU bundle (sf2.js) against onnxruntime-web's webgpu execution provider
 * on the ONNX bundle and tfjs-backend-webgpu on the tfjs bundle: one headless
 * Chromium, one export of the same model (fp32 for all three; the sf2 fp16 bundle
 * as an extra row), each framework in its own tab, warmed up, then measured in
 * interleaved rounds.
 *
 *   latency = wall time of one call from a Float32Array of preprocessed NCHW inputs
 *             to a Float32Array of embeddings on the CPU (upload, run, read back):
 *             sf2 `model.embed(x)`, ORT `session.run` + `getData()`, tfjs
 *             `execute` + `data()`.
 *   batch 1 and 8; 3 warm-up calls; per round the median of RUNS calls; the table
 *   shows the median over rounds.
 *
 * Preprocessing and flip-TTA, sf2 only (batch 1 and 8, the same pixels):
 *   GPU: model.embed(rgbaBytes, { flipTTA: true, normalize: true })
 *   JS:  (byte - 127.5) / 127.5 into NCHW plus the mirrored copy in JS, embed of 2N
 *        rows, then e = f(x) + f(flip x) and e / |e| in JS.
 * The two are compared (max |diff|) to show they compute the same thing.
 *
 * Without a GPU the adapter is SwiftShader (Vulkan on the CPU): the numbers are
 * only relative, and Chromium runs with Dawn's disable_workgroup_init for all three
 * frameworks (SwiftShader compiles workgroup-memory zeroing very slowly; results
 * are unchanged). The adapter is printed with the results.
 *
 * The GPU side is also timed kernel by kernel (model.profile: the input kernel and
 * the finish kernel each submitted alone), against the same work in JS.
 *
 * Needs `npm run build` first (imports dist/). Model: SF2_BENCH_MODEL (default
 * fixtures/iresnet18.eval.onnx). SF2_BENCH_ROUNDS (default 3), SF2_BENCH_RUNS (5).
 * SF2_BENCH_ONLY=prep runs only the preprocessing part, =engines only the engines; SF2_BENCH_BATCHES (default
 * "1,8") and SF2_BENCH_WARMUP (3) for big models; bench/webgpu-wide-model.mjs writes a
 * full-width IResNet-18-shaped model for the tiled kernels; SF2_BENCH_TFJS=0 leaves
 * tfjs out (on that model its bundle did not finish loading in this Chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const { exportModel } = await import(join(root, 'dist/pipeline/export.js'));
const { BrowserHarness, packageDir } = await import(join(root, 'dist/parity/browser/index.js'));
const { SF2_PAGE, probeChromiumWebgpu } = await import(join(root, 'dist/parity/runtimes/webgpu-chromium.js'));
const { tfjsPageHtml, TFJS_SCRIPTS, scriptMount } = await import(join(root, 'dist/targets/tfjs/browser/page.js'));

const modelPath = resolve(root, process.env.SF2_BENCH_MODEL ?? 'fixtures/iresnet18.eval.onnx');
const ROUNDS = Number(process.env.SF2_BENCH_ROUNDS ?? 3);
const RUNS = Number(process.env.SF2_BENCH_RUNS ?? 5);
const BATCHES = (process.env.SF2_BENCH_BATCHES ?? '1,8').split(',').map(Number);
const WARMUP = Number(process.env.SF2_BENCH_WARMUP ?? 3);

const ORT_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>ort webgpu</title></head><body>
<script type="module">
import * as ort from '/ort/ort.webgpu.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.logLevel = 'error';
let s;
window.bench = {
  async load(url) { s = await ort.InferenceSession.create(url, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' }); return { version: ort.env.versions }; },
  async run(x, dims) {
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, dims) });
    return new Float32Array(await r[s.outputNames[0]].getData());
  },
};
window.benchReady = true;
</script></body></html>`;

const out = mkdtempSync(join(tmpdir(), 'sf2-bench-webgpu-'));
const log = (...a) => console.error(...a);
try {
  log(`exporting ${basename(modelPath)} (onnx, tfjs, webgpu) ...`);
  await exportModel(modelPath, { out: join(out, 'b'), targets: ['onnx', 'tfjs', 'webgpu'], precisions: ['fp32', 'fp16'], skipParity: true, force: true });
  const probe = await probeChromiumWebgpu();
  if (typeof probe === 'string') throw new Error(`no WebGPU in Chromium: ${probe}`);
  const mounts = {
    '/bundle/': join(out, 'b'),
    '/ort/': packageDir('onnxruntime-web', 'dist'),
  };
  for (const k of ['core', 'converter', 'webgpu']) mounts[scriptMount(k)] = packageDir(TFJS_SCRIPTS[k].pkg, 'dist');
  const h = await BrowserHarness.open({ mounts, files: { '/sf2.html': SF2_PAGE, '/ort.html': ORT_PAGE, '/tfjs.html': tfjsPageHtml('webgpu') }, page: '/sf2.html', args: probe.args });
  try {
    const ctx = h.page.context();
    const pages = { sf2: h.page, sf2fp16: await ctx.newPage(), ort: await ctx.newPage(), tfjs: await ctx.newPage() };
    await pages.sf2fp16.goto(h.server.url('/sf2.html'));
    await pages.ort.goto(h.server.url('/ort.html'));
    await pages.tfjs.goto(h.server.url('/tfjs.html'));
    for (const p of Object.values(pages)) p.setDefaultTimeout(600000);
    await pages.sf2.waitForFunction(() => window.sf2ready === true);
    await pages.sf2fp16.waitForFunction(() => window.sf2ready === true);
    await pages.ort.waitForFunction(() => window.benchReady === true);
    await pages.tfjs.waitForFunction(() => window.sf2tfjsReady === true);
    log('loading the sf2 bundles ...');
    const info = await pages.sf2.evaluate(() => window.sf2wg.load('/bundle/webgpu/fp32/'));
    await pages.sf2fp16.evaluate(() => window.sf2wg.load('/bundle/webgpu/fp16/'));
    log('loading the ONNX bundle in onnxruntime-web ...');
    const ortInfo = await pages.ort.evaluate(() => window.bench.load('/bundle/onnx/model.fp32.onnx'));
    const withTfjs = process.env.SF2_BENCH_TFJS !== '0';
    if (withTfjs) log('loading the tfjs bundle ...');
    const tfInfo = withTfjs ? await pages.tfjs.evaluate(async () => ({ ...(await window.sf2tfjs.init()), ...(await window.sf2tfjs.load('/bundle/tfjs/fp32/model.json')) })) : { version: '(not run)' };
    const [, H, W] = info.info.inputShape;
    const D = info.info.dim;

    // The timing loop runs inside each page (no Playwright round trip in the numbers).
    const timeIn = (page, fw, n, runs) =>
      page.evaluate(
        async ({ fw, n, runs, H, W }) => {
          const x = new Float32Array(n * 3 * H * W).map((_, i) => Math.sin(i * 0.37));
          const call =
            fw === 'ort' ? () => window.bench.run(x, [n, 3, H, W])
            : fw === 'tfjs' ? () => window.sf2tfjs.run(x, [n, 3, H, W])
            : () => window.sf2wg.embed(x);
          const t = [];
          let y;
          for (let i = 0; i < runs; i++) {
            const t0 = performance.now();
            y = await call();
            t.push(performance.now() - t0);
          }
          t.sort((a, b) => a - b);
          return { ms: t[Math.floor(t.length / 2)], head: Array.from(y.slice(0, 4)) };
        },
        { fw, n, runs, H, W },
      );
    const onlyPrep = process.env.SF2_BENCH_ONLY === 'prep';
    const fws = onlyPrep ? [] : [['sf2', pages.sf2], ['sf2fp16', pages.sf2fp16], ['ort', pages.ort], ...(withTfjs ? [['tfjs', pages.tfjs]] : [])];
    log('warming up ...');
    for (const n of BATCHES) for (const [fw, p] of fws) await timeIn(p, fw.startsWith('sf2') ? 'sf2' : fw, n, WARMUP);
    const samples = {};
    const heads = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of BATCHES) {
        for (const [fw, p] of fws) {
          const s = await timeIn(p, fw.startsWith('sf2') ? 'sf2' : fw, n, RUNS);
          (samples[`${fw}/${n}`] ??= []).push(s.ms);
          heads[`${fw}/${n}`] = s.head;
          log(`round ${r + 1} ${fw} batch ${n}: ${s.ms.toFixed(1)} ms`);
        }
      }
    }
    const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

    // Preprocessing + flipTTA: GPU vs JS (sf2 fp32).
    const prep = {};
    const skipPrep = process.env.SF2_BENCH_ONLY === 'engines';
    for (const n of skipPrep ? [] : BATCHES) {
      prep[n] = await pages.sf2.evaluate(
        async ({ n, H, W, D, runs, rounds }) => {
          const px = new Uint8Array(n * H * W * 4).map((_, i) => (i * 2654435761) >>> 24);
          const gpu = () => window.sf2wg.embed(px, { flipTTA: true, normalize: true });
          const hw = H * W;
          const prepJs = () => {
            const x = new Float32Array(2 * n * 3 * hw);
            for (let i = 0; i < n; i++) {
              for (let p = 0; p < hw; p++) {
                const w = p % W, f = p - w + (W - 1 - w);
                for (let c = 0; c < 3; c++) {
                  const v = (px[(i * hw + p) * 4 + c] - 127.5) / 127.5;
                  x[(i * 3 + c) * hw + p] = v;
                  x[((n + i) * 3 + c) * hw + f] = v;
                }
              }
            }
            return x;
          };
          const js = async () => {
            const y = await window.sf2wg.embed(prepJs());
            const e = new Float32Array(n * D);
            for (let i = 0; i < n; i++) {
              let s = 0;
              for (let d = 0; d < D; d++) { const v = y[i * D + d] + y[(n + i) * D + d]; e[i * D + d] = v; s += v * v; }
              const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
              for (let d = 0; d < D; d++) e[i * D + d] *= inv;
            }
            return e;
          };
          const time = async (f) => {
            const t = [];
            for (let i = 0; i < runs; i++) { const t0 = performance.now(); await f(); t.push(performance.now() - t0); }
            return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
          };
          await gpu(); await js();
          const g = [], j = [];
          for (let r = 0; r < rounds; r++) { g.push(await time(gpu)); j.push(await time(js)); }
          const a = await gpu(), b = await js();
          let diff = 0;
          for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
          // The JS preprocessing alone (no GPU): normalize and mirror n images; and the
          // JS post-processing alone: flip sum and L2 norm of 2n rows.
          let t0 = performance.now();
          for (let k = 0; k < 5; k++) prepJs();
          const jsOnly = (performance.now() - t0) / 5;
          const y2 = new Float32Array(2 * n * D).map((_, i) => Math.sin(i));
          t0 = performance.now();
          for (let k = 0; k < 5; k++) {
            const e = new Float32Array(n * D);
            for (let i = 0; i < n; i++) {
              let s = 0;
              for (let d = 0; d < D; d++) { const v = y2[i * D + d] + y2[(n + i) * D + d]; e[i * D + d] = v; s += v * v; }
              const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
              for (let d = 0; d < D; d++) e[i * D + d] *= inv;
            }
          }
          const jsPost = (performance.now() - t0) / 5;
          // The GPU side alone: the input kernel (bytes -> normalized NCHW + mirror) and the
          // finish kernel (flip sum + L2), each dispatch timed on its own (median of 5).
          const kern = { input: [], finish: [] };
          for (let k = 0; k < 5; k++) {
            const p = await window.sf2wg.profile(px, { flipTTA: true, normalize: true });
            kern.input.push(p.find((r) => r.name === 'input').ms);
            kern.finish.push(p.find((r) => r.name === 'finish').ms);
          }
          const m5 = (a) => [...a].sort((x, y) => x - y)[2];
          const gpuInput = m5(kern.input), gpuFinish = m5(kern.finish);
          const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
          return { gpu: med(g), js: med(j), diff, jsOnly, jsPost, gpuInput, gpuFinish, uploadGpu: n * hw * 4, uploadJs: 2 * n * 3 * hw * 4 };
        },
        { n, H, W, D, runs: RUNS, rounds: ROUNDS },
      );
      log(`preprocessing batch ${n}:`, prep[n]);
    }

    const a = info.info.adapter;
    const adapter = `${a.vendor} ${a.architecture}${a.description ? ` (${a.description})` : ''}${a.isFallbackAdapter ? ', fallback adapter' : ''}`;
    const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
    const lines = [];
    lines.push(`### ${basename(modelPath)}: sf2 WebGPU bundle vs onnxruntime-web webgpu vs tfjs-backend-webgpu`);
    lines.push('');
    lines.push(`Headless Chromium ${h.chromiumVersion}, adapter: ${adapter}; Chromium flags ${probe.args.join(' ') || '(none)'}; onnxruntime-web ${ortInfo.version?.web ?? ortInfo.version?.common ?? '?'}, tfjs ${tfInfo.version}; machine ${cpus().length} x ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadavg()[0].toFixed(1)} at the end; ${new Date().toISOString().slice(0, 10)}. Median latency (ms) of ${RUNS} calls per round, median of ${ROUNDS} rounds, after ${WARMUP} warm-up calls. Script: bench/webgpu-chromium.bench.mjs.`);
    lines.push('');
    if (!onlyPrep) {
    lines.push(`| engine | bundle | ${BATCHES.map((b) => `batch ${b}`).join(' | ')} |`);
    lines.push(`|---|---|${BATCHES.map(() => '---|').join('')}`);
    const row = (name, bundle, fw) => lines.push(`| ${name} | ${bundle} | ${BATCHES.map((b) => fmt(med(samples[`${fw}/${b}`]))).join(' | ')} |`);
    row('sf2.js (this bundle)', 'webgpu/fp32', 'sf2');
    row('sf2.js (this bundle)', 'webgpu/fp16 (f16 weights, f32 math)', 'sf2fp16');
    row('onnxruntime-web webgpu', 'onnx/model.fp32.onnx', 'ort');
    if (withTfjs) row('tfjs-backend-webgpu', 'tfjs/fp32', 'tfjs');
    lines.push('');
    }
    if (!skipPrep) {
    lines.push('Preprocessing and flip-TTA (sf2 fp32): RGBA bytes in, normalized flip-TTA embeddings out.');
    lines.push('');
    lines.push('| batch | whole call, GPU path | whole call, JS path | GPU input kernel (bytes -> x, mirror) | JS normalize + mirror | GPU finish kernel (sum, L2) | JS sum + L2 | upload GPU / JS path | max abs diff |');
    lines.push('|---|---|---|---|---|---|---|---|---|');
    for (const n of BATCHES) {
      const q = prep[n];
      lines.push(`| ${n} | ${fmt(q.gpu)} ms | ${fmt(q.js)} ms | ${q.gpuInput.toFixed(2)} ms | ${q.jsOnly.toFixed(2)} ms | ${q.gpuFinish.toFixed(2)} ms | ${q.jsPost.toFixed(3)} ms | ${(q.uploadGpu / 1024).toFixed(0)} KiB / ${(q.uploadJs / 1024).toFixed(0)} KiB | ${q.diff.toExponential(1)} |`);
    }
    lines.push('');
    }
    const b0 = BATCHES[0];
    if (!onlyPrep) lines.push(`Outputs agree: first values at batch ${b0} sf2 ${heads[`sf2/${b0}`].map((v) => v.toFixed(5)).join(', ')}; ort ${heads[`ort/${b0}`].map((v) => v.toFixed(5)).join(', ')}${withTfjs ? `; tfjs ${heads[`tfjs/${b0}`].map((v) => v.toFixed(5)).join(', ')}` : ''}.`);
    console.log(lines.join('\n'));
  } finally {
    await h.close();
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
