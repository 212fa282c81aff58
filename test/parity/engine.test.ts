/**
 * The engine on a real model: the sfnet10 fixture (a SphereFace2-trained
 * backbone, PyTorch references in fixtures/sfnet10.npz), bundled by hand
 * (the original graph cut at its embedding) and measured on onnxruntime-node
 * cpu and webgpu (SwiftShader here, a GPU where there is one).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx } from '../../src/onnx/import.js';
import { saveOnnx } from '../../src/onnx/export.js';
import { TensorData } from '../../src/ir/tensor.js';
import { runParity, failingRows, unverifiedLines } from '../../src/parity/engine.js';
import { reportLogicProblems } from '../../src/verify/verify.js';
import { ortNodeCpu } from '../../src/parity/runtimes/ort-node.js';
import { loadReferences, type ReferenceSet } from '../../src/data/references.js';
import { limitReferences } from '../../src/parity/run.js';
import { reportJson } from '../../src/parity/report-json.js';
import { checkSchema } from '../../src/verify/schema-check.js';
import { reportSchema } from '../../src/verify/verify.js';
import { RUNTIMES, type RuntimeEntry } from '../../src/parity/runtimes/registry.js';
import type { ParityRuntime } from '../../src/parity/runtime.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ, type HandBundle } from './helpers.js';

const byId = (...ids: string[]): RuntimeEntry[] => RUNTIMES.filter((r) => ids.includes(r.id));

let bundle: HandBundle;
let refs: ReferenceSet;
beforeAll(async () => {
  bundle = buildOnnxBundle(SFNET10, mkdtempSync(join(tmpdir(), 'sf2-engine-')));
  refs = await loadReferences({ reference: SFNET10_NPZ, originalModel: SFNET10, contract: bundle.contract });
}, 60000);

describe('runParity on sfnet10', () => {
  it('passes on onnxruntime-node cpu against PyTorch, with every metric, and lists cuda as skipped', async () => {
    const report = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: byId('onnxruntime-node/cpu', 'onnxruntime-node/cuda') });
    expect(report.pass).toBe(true);
    expect(report.results).toHaveLength(1);
    const r = report.results[0]!;
    const m = r.metrics!;
    expect(r.status).toBe('pass');
    expect(m.rows.rows).toBe(32);
    // fp32 end to end: ORT's fused/re-associated float32 arithmetic against PyTorch's. Each embedding
    // (norm ~20) differs by float32 rounding only: 1 - cos ~ relErr^2 / 2 with relErr ~1e-6.
    expect(1 - m.rows.cosine.min).toBeLessThan(1e-10);
    expect(m.rows.maxAbsDiff).toBeLessThan(1e-5);
    expect(m.rows.maxRelL2).toBeLessThan(1e-5);
    expect(Math.abs(m.rows.normRatio.min - 1)).toBeLessThan(1e-5);
    expect(m.rows.maxAngleDeg).toBeLessThan(1e-3);
    expect(1 - m.tta!.cosine.min).toBeLessThan(1e-10);
    expect(m.pairs!.pairs).toBe(64);
    expect(m.pairs!.scoreEmbedding).toBe('flipTTA');
    expect(m.pairs!.flipsAtFar + m.pairs!.flipsAtBestAccuracy).toBe(0);
    expect(m.pairs!.maxScoreDiff).toBeLessThan(1e-5);
    expect(r.series!.cosine).toHaveLength(32);
    expect(report.skipped).toEqual([expect.objectContaining({ runtime: 'onnxruntime-node/cuda', reason: expect.stringMatching(/cuda provider/) })]);
    expect(report.files.map((f) => f.path)).toEqual(['onnx/model.fp32.onnx']);
    expect(report.environment.runtimes.map((x) => x.id)).toEqual(['onnxruntime-node/cpu']);
    expect(report.reference.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(checkSchema(JSON.parse(reportJson(report)), reportSchema())).toEqual([]);

    // Deterministic: a second run gives the same bytes.
    const again = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: byId('onnxruntime-node/cpu', 'onnxruntime-node/cuda') });
    expect(reportJson(again)).toBe(reportJson(report));
  }, 60000);

  it('passes on onnxruntime-node webgpu and records the adapter', async () => {
    // SwiftShader runs about 1 row per second for this net: 8 rows (with their flips), keeping pairs of both kinds.
    const few = limitReferences(refs, 8);
    const report = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: few, runtimes: byId('onnxruntime-node/webgpu') });
    if (report.skipped.length) throw new Error(`webgpu was skipped: ${report.skipped[0]!.reason}`);
    const r = report.results[0]!;
    expect(r.status).toBe('pass');
    expect(r.device).toBe('gpu');
    // WebGPU kernels (SwiftShader's float32) against PyTorch: same float32 tolerance as cpu.
    expect(1 - r.metrics!.rows.cosine.min).toBeLessThan(1e-10);
    expect(r.metrics!.rows.maxAbsDiff).toBeLessThan(1e-5);
    expect(r.metrics!.pairs!.flipsAtFar).toBe(0);
    const env = report.environment.runtimes[0]!;
    expect(env.adapter).toBeDefined();
    expect(typeof env.adapter!.isFallbackAdapter).toBe('boolean');
    if (env.adapter!.architecture === 'swiftshader') expect(env.adapter!.isFallbackAdapter).toBe(true);
    expect(env.notes!.join(' ')).toMatch(/Vulkan/);
    expect(checkSchema(JSON.parse(reportJson(report)), reportSchema())).toEqual([]);
  }, 180000);

  it('with the default table and --device cpu: runs onnxruntime-node/cpu, lists every other onnx runtime as skipped', async () => {
    const report = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: limitReferences(refs, 4), device: 'cpu' });
    expect(report.results.map((r) => r.runtime)).toEqual(['onnxruntime-node/cpu']);
    const skipped = Object.fromEntries(report.skipped.map((s) => [s.runtime, s.reason]));
    expect(skipped['onnxruntime-node/webgpu']).toBe('not selected (--device cpu)');
    expect(skipped['onnxruntime-node/cuda']).toBe('not selected (--device cpu)');
    expect(skipped['onnxruntime-web/wasm']).toMatch(/^opt-in \(.*\): select it with --runtime onnxruntime-web\/wasm$/);
    expect(Object.keys(skipped).sort()).toEqual(RUNTIMES.filter((r) => r.target === 'onnx' && r.id !== 'onnxruntime-node/cpu').map((r) => r.id).sort());
  }, 60000);

  it('onnxruntime-web/wasm runs the bundle in headless Chromium (opt-in)', async () => {
    // Chromium start and 14 MB of wasm take ~17 s here; 4 rows keep the run short.
    const report = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: limitReferences(refs, 4), runtimes: byId('onnxruntime-web/wasm') });
    if (report.skipped.length) throw new Error(`skipped: ${report.skipped[0]!.reason}`);
    const r = report.results[0]!;
    expect(r.status).toBe('pass');
    // wasm float32 kernels against PyTorch: the same float32 tolerance as onnxruntime-node.
    expect(1 - r.metrics!.rows.cosine.min).toBeLessThan(1e-10);
    expect(r.metrics!.rows.maxAbsDiff).toBeLessThan(1e-5);
    expect(report.environment.runtimes[0]).toMatchObject({ id: 'onnxruntime-web/wasm', engine: 'onnxruntime-web', backend: 'wasm' });
  }, 120000);

  it('fails a bundle whose first conv weight was perturbed by up to 5%, naming the row', async () => {
    const m = loadOnnx(join(bundle.dir, 'onnx/model.fp32.onnx'));
    // The first conv's weight: every path to the embedding goes through it.
    const w = m.graph.nodes.find((n) => n.op === 'Conv')!.inputs[1]!;
    const data = w.const!.float32();
    for (let k = 0; k < data.length; k++) data[k] = data[k]! * (1 + 0.05 * Math.sin(k));
    w.const = TensorData.float32(w.const!.dims, data);
    const dir = mkdtempSync(join(tmpdir(), 'sf2-engine-bad-'));
    mkdirSync(join(dir, 'onnx'));
    saveOnnx(m, join(dir, 'onnx/model.fp32.onnx'));
    const report = await runParity({ bundleDir: dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: byId('onnxruntime-node/cpu') });
    expect(report.pass).toBe(false);
    const r = report.results[0]!;
    expect(r.status).toBe('fail');
    expect(r.failures[0]).toMatch(/^min cosine 0\.\d+ < 0\.99999 \(row \d+\)$/);
    expect(failingRows(report)[0]).toMatch(/^onnx fp32 onnxruntime-node\/cpu: min cosine/);
  }, 60000);

  it('reports a runtime that fails to run as an error result, and an unrunnable model as uncovered', async () => {
    const broken: ParityRuntime = {
      id: 'test/broken', target: 'onnx', device: 'cpu',
      probe: async () => ({ available: true, info: { engine: 'test', version: '0', device: 'cpu', backend: 'none' } }),
      open: async () => { throw new Error('kernel Foo not implemented'); },
    };
    const absent: ParityRuntime = { ...broken, id: 'test/absent', probe: async () => ({ available: false, reason: 'not installed here' }) };
    const r1 = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: [{ id: broken.id, target: 'onnx', device: 'cpu', load: async () => broken }] });
    expect(r1.pass).toBe(false);
    expect(r1.results[0]).toMatchObject({ status: 'error', pass: false, metrics: null, failures: ['did not run: kernel Foo not implemented'] });
    const r2 = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: [{ id: absent.id, target: 'onnx', device: 'cpu', load: async () => absent }, { id: 'test/gpu', target: 'onnx', device: 'gpu', load: async () => absent }], device: 'cpu' });
    expect(r2.pass).toBe(false);
    expect(r2.uncovered).toEqual(['onnx/model.fp32.onnx']);
    expect(r2.skipped).toEqual([
      { runtime: 'test/absent', target: 'onnx', device: 'cpu', reason: 'not installed here' },
      { runtime: 'test/gpu', target: 'onnx', device: 'gpu', reason: 'not selected (--device cpu)', fix: '--device all' },
    ]);
    // Unverified is not a parity failure: no failing row, one short line for the file instead.
    expect(failingRows(r2)).toEqual([]);
    expect(unverifiedLines(r2)).toEqual(['onnx/model.fp32.onnx: run by no runtime (test/absent: not installed here; test/gpu: not selected (--device cpu)); fix: --device all']);
    for (const r of [r1, r2]) expect(checkSchema(JSON.parse(reportJson(r)), reportSchema())).toEqual([]);
  }, 60000);

  it('skips (never fails) a runtime that cannot run a file here, and accepts the unverified file with allowUnverified', async () => {
    // onnxruntime's own message for a float16 kernel on an adapter without shader-f16.
    const noF16: ParityRuntime = {
      id: 'test/webgpu', target: 'onnx', device: 'gpu',
      probe: async () => ({ available: true, info: { engine: 'test', version: '0', device: 'gpu', backend: 'webgpu' } }),
      open: async () => { throw new Error('Program Transpose requires f16 but the device does not support it'); },
    };
    const entries: RuntimeEntry[] = [{ id: noF16.id, target: 'onnx', device: 'gpu', load: async () => noF16 }];
    const r = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: entries });
    expect(r.results).toEqual([]);
    expect(r.skipped).toEqual([expect.objectContaining({ runtime: 'test/webgpu', file: 'onnx/model.fp32.onnx', reason: expect.stringMatching(/cannot run here: Program Transpose requires f16/), fix: expect.stringMatching(/shader-f16/) })]);
    expect(r.pass).toBe(false);
    expect(failingRows(r)).toEqual([]);
    const [line] = unverifiedLines(r);
    expect(line!.length).toBeLessThan(300);
    expect(line).toMatch(/^onnx\/model\.fp32\.onnx: run by no runtime \(test\/webgpu: Program Transpose requires f16.*\); fix: .*--precision fp32,int8$/);
    const accepted = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: entries, allowUnverified: true });
    expect(accepted.pass).toBe(true);
    expect(accepted.uncovered).toEqual(['onnx/model.fp32.onnx']);
    expect(accepted.unverified![0]!.fix).toMatch(/shader-f16/);
    expect(reportLogicProblems(accepted)).toEqual([]);
    expect(checkSchema(JSON.parse(reportJson(accepted)), reportSchema())).toEqual([]);
  }, 60000);

  it('runs a small row budget on a software adapter unless rows were given, and the report says which rows', async () => {
    // onnxruntime-node cpu dressed as a GPU runtime on a fallback adapter: real numbers, the budget's bookkeeping.
    const soft: ParityRuntime = {
      ...ortNodeCpu, id: 'test/soft-gpu', device: 'gpu',
      probe: async () => ({ available: true, info: { engine: 'test', version: '0', device: 'gpu', backend: 'webgpu', adapter: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader', isFallbackAdapter: true } } }),
    };
    const entries: RuntimeEntry[] = [...byId('onnxruntime-node/cpu'), { id: soft.id, target: 'onnx', device: 'gpu', load: async () => soft }];
    const r = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: entries });
    expect(r.pass).toBe(true);
    const [cpuRes, gpuRes] = r.results;
    expect(cpuRes!.metrics!.rows.rows).toBe(32);
    expect(cpuRes!.subset).toBeUndefined();
    expect(gpuRes!.metrics!.rows.rows).toBe(4);
    expect(gpuRes!.subset!.rows).toHaveLength(4);
    expect(gpuRes!.subset!.reason).toMatch(/software \(fallback\) adapter SwiftShader: 4 of 32 rows/);
    // Pairs of both kinds are kept, so pair metrics still exist; each subset pair is a reference pair.
    const kinds = new Set(gpuRes!.subset!.pairs.map((k) => r.reference.issame[k]));
    expect([...kinds].sort()).toEqual([0, 1]);
    expect(gpuRes!.metrics!.pairs!.pairs).toBe(gpuRes!.subset!.pairs.length);
    // The subset's per-row cosines are the full run's cosines at those rows (same engine, same inputs).
    gpuRes!.subset!.rows.forEach((row, i) => expect(gpuRes!.series!.cosine[i]).toBe(cpuRes!.series!.cosine[row]));
    expect(reportLogicProblems(r)).toEqual([]);
    expect(checkSchema(JSON.parse(reportJson(r)), reportSchema())).toEqual([]);
    const given = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, runtimes: entries, rowsGiven: true });
    expect(given.results[1]!.metrics!.rows.rows).toBe(32);
    expect(given.results[1]!.subset).toBeUndefined();
  }, 60000);

  it('sizes the software-adapter budget by the model\'s FLOPs per image, and runs each file once on a software adapter', async () => {
    const softAs = (id: string): RuntimeEntry => {
      const rt: ParityRuntime = {
        ...ortNodeCpu, id, device: 'gpu',
        probe: async () => ({ available: true, info: { engine: 'test', version: '0', device: 'gpu', backend: 'webgpu', adapter: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader', isFallbackAdapter: true } } }),
      };
      return { id, target: 'onnx', device: 'gpu', load: async () => rt };
    };
    // An iresnet-100's cost (24.2 GFLOPs an image): one row and its flip on a software adapter.
    const r = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: refs, table: [softAs('test/soft-a'), softAs('test/soft-b')], flopsPerImage: 24.2e9 });
    expect(refs.flipEmbeddings).toBeDefined();
    expect(r.results.map((x) => x.runtime)).toEqual(['test/soft-a']);
    expect(r.results[0]!.metrics!.rows.rows).toBe(1);
    expect(r.results[0]!.metrics!.tta).toBeDefined();
    expect(r.results[0]!.subset!.reason).toMatch(/1 of 32 rows/);
    expect(r.pass).toBe(true);
    // The second GPU runtime on the same software adapter is skipped: soft-a already ran and passed the file.
    const b = r.skipped.find((x) => x.runtime === 'test/soft-b');
    expect(b?.reason).toBe('fp32: software (fallback) adapter, and test/soft-a already ran this file: select it with --runtime test/soft-b');
  }, 60000);

  it('on a software adapter, skips a GPU runtime of a file a CPU runtime already passed (default table)', async (ctx) => {
    const report = await runParity({ bundleDir: bundle.dir, files: bundle.files, contract: bundle.contract, references: limitReferences(refs, 4) });
    const gpu = report.skipped.find((s) => s.runtime === 'onnxruntime-node/webgpu');
    if (!gpu || /no Vulkan|found no adapter|no webgpu provider/.test(gpu.reason)) ctx.skip(`no software adapter here: ${gpu?.reason}`);
    if (report.results.some((r) => r.runtime === 'onnxruntime-node/webgpu')) ctx.skip('a hardware adapter: the GPU runtime runs');
    expect(report.results.map((r) => r.runtime)).toEqual(['onnxruntime-node/cpu']);
    expect(gpu).toMatchObject({ file: 'onnx/model.fp32.onnx', reason: 'fp32: software (fallback) adapter, and onnxruntime-node/cpu already ran this file: select it with --runtime onnxruntime-node/webgpu' });
    expect(report.pass).toBe(true);
  }, 120000);
});

describe('budgetRows', () => {
  it('gives 4 rows to small models and fewer to models whose images cost minutes on a software adapter', async () => {
    const { budgetRows, SOFTWARE_FLOP_BUDGET } = await import('../../src/parity/row-subset.js');
    expect(budgetRows(undefined, 2)).toBe(4); // cost unknown: the default
    expect(budgetRows(50.1e6, 2)).toBe(4); // the iresnet18 fixture
    expect(budgetRows(SOFTWARE_FLOP_BUDGET / 8, 2)).toBe(4); // 4 rows x 2 runs fit exactly
    expect(budgetRows(SOFTWARE_FLOP_BUDGET / 4, 2)).toBe(2);
    expect(budgetRows(24.2e9, 2)).toBe(1); // iresnet-100: one row and its flip
    expect(budgetRows(24.2e9, 1)).toBe(2); // no flips: two rows
    expect(budgetRows(1e12, 2)).toBe(1); // never zero
  });
});
