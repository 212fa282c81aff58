/**
 * `sf2-export model.pth` end to end, against PyTorch: every checkpoint fixture (every
 * family x layout x serialization) imported and run on onnxruntime-node (optimizations
 * off) against the embeddings PyTorch computed; `convert` written and loaded back; one
 * `--target onnx,tfjs,webgpu` run per family on every runtime available (4 rows: the
 * GPU adapter here is software); parity without --reference warns that the import was
 * not checked against PyTorch; the CLI's exit codes for hostile, truncated and
 * mismatched files.
 *
 * Tolerance: fp32 min cosine >= 0.99999, the default fp32 parity threshold
 * (docs/parity.md); the measured values are ~1 - 1e-12 (same float32 arithmetic as
 * PyTorch on CPU, different summation order).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCheckpoint } from '../../src/pth/import.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { readNpy, readNpz, toFloat32 } from '../../src/data/npy.js';
import { cli } from '../helpers/cli.js';
import { minRowCosine, runOrt } from '../helpers/ort.js';

const FX = join(import.meta.dirname, '../../fixtures');
const CK = join(FX, 'checkpoints');
const have = existsSync(join(CK, 'sfnet10nobn', 'bare.pth'));
const NOBN_INPUTS = join(FX, 'sfnet10', 'inputs.npy');

interface Ref {
  readonly x: Float32Array;
  readonly dims: number[];
  readonly e: Float32Array;
  readonly d: number;
}
const refCache = new Map<string, Ref>();
function reference(npzOrNpy: string): Ref {
  let r = refCache.get(npzOrNpy);
  if (!r) {
    if (npzOrNpy.endsWith('.npz')) {
      const z = readNpz(npzOrNpy);
      const x = z.get('inputs')!, e = z.get('embeddings')!;
      r = { x: toFloat32(x), dims: [...x.shape], e: toFloat32(e), d: e.shape[1]! };
    } else {
      const x = readNpy(NOBN_INPUTS), e = readNpy(npzOrNpy);
      r = { x: toFloat32(x), dims: [...x.shape], e: toFloat32(e), d: e.shape[1]! };
    }
    refCache.set(npzOrNpy, r);
  }
  return r;
}

// checkpoint -> PyTorch reference (npz, or embeddings.npy of fixtures/sfnet10/inputs.npy)
const CASES: [string, string, string][] = [
  ['sfnet10/backbone_240.pth', 'sfnet_deprecated', 'sfnet10.npz'],
  ['sfnet10/model_240.pth', 'sfnet_deprecated', 'sfnet10.npz'],
  ['checkpoints/sfnet10.legacy.pth', 'sfnet_deprecated', 'sfnet10.npz'],
  ['checkpoints/sfnet10.bare.pth', 'sfnet_deprecated', 'sfnet10.npz'],
  ['sfnet10bn/backbone_200.pth', 'sfnet_bn', 'sfnet10bn.npz'],
  ['sfnet10bn/model_200.pth', 'sfnet_bn', 'sfnet10bn.npz'],
  ['checkpoints/sfnet10bn.legacy.pth', 'sfnet_bn', 'sfnet10bn.npz'],
  ['checkpoints/sfnet10bn.bare.pth', 'sfnet_bn', 'sfnet10bn.npz'],
  ['iresnet18/backbone_200.pth', 'iresnet', 'iresnet18.npz'],
  ['iresnet18/model_200.pth', 'iresnet', 'iresnet18.npz'],
  ['checkpoints/iresnet18.legacy.pth', 'iresnet', 'iresnet18.npz'],
  ['checkpoints/iresnet18.bare.pth', 'iresnet', 'iresnet18.npz'],
  ['checkpoints/sfnet10nobn/backbone_120.pth', 'sfnet', 'checkpoints/sfnet10nobn/embeddings.npy'],
  ['checkpoints/sfnet10nobn/model_120.pth', 'sfnet', 'checkpoints/sfnet10nobn/embeddings.npy'],
  ['checkpoints/sfnet10nobn/legacy.pth', 'sfnet', 'checkpoints/sfnet10nobn/embeddings.npy'],
  ['checkpoints/sfnet10nobn/bare.pth', 'sfnet', 'checkpoints/sfnet10nobn/embeddings.npy'],
  ['checkpoints/sfnet6bnbottle.model.pth', 'sfnet_bn', 'checkpoints/sfnet6bnbottle.embeddings.npy'],
];

describe.skipIf(!have)('checkpoint import against PyTorch', () => {
  it.each(CASES)('%s (%s) matches PyTorch on onnxruntime-node', async (file, family, ref) => {
    const { model, info } = importCheckpoint(join(FX, file));
    expect(info.arch.family).toBe(family);
    const r = reference(join(FX, ref));
    const out = await runOrt(model, { input: { data: r.x, dims: r.dims } });
    expect(minRowCosine(out.embedding!, r.e, r.d)).toBeGreaterThanOrEqual(0.99999);
  });

  it('convert writes an opset-13 ONNX file that onnxruntime-node runs to the PyTorch embeddings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-convert-'));
    try {
      const out = join(dir, 'iresnet18.onnx');
      const r = await cli('convert', join(FX, 'iresnet18', 'backbone_200.pth'), '--out', out, '--head', join(FX, 'iresnet18', 'head_200.pth'), '--json');
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res.checkpoint.head.classes).toBe(200);
      const m = loadOnnx(out);
      expect(m.opset('')).toBeGreaterThanOrEqual(13);
      expect([...new Set(m.graph.nodes.map((n) => n.op))].sort()).toEqual(['Add', 'BatchNormalization', 'Conv', 'Flatten', 'Gemm', 'PRelu']);
      const ref = reference(join(FX, 'iresnet18.npz'));
      const y = await runOrt(out, { input: { data: ref.x, dims: ref.dims } });
      expect(minRowCosine(y.embedding!, ref.e, ref.d)).toBeGreaterThanOrEqual(0.99999);
      // an existing file is kept without --force
      const again = await cli('convert', join(FX, 'iresnet18', 'backbone_200.pth'), '--out', out);
      expect(again.status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inspect model.pth --json: layout, architecture, head and every BN', async () => {
    const r = await cli('inspect', join(FX, 'sfnet10bn', 'model_200.pth'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.checkpoint).toMatchObject({ layout: '2023', embeddingDim: 128, arch: { family: 'sfnet_bn', depths: [0, 1, 2, 0], widths: [8, 12, 16, 16] }, head: { classes: 120, layout: 'CxD' } });
    expect(j.checkpoint.batchNorms).toHaveLength(11);
    expect(j.batchNorms).toHaveLength(11);
  });

  it('exit codes: hostile 3 (nothing runs), truncated 3, a head file 4, an unknown --arch 2', async () => {
    const marker = '/tmp/sf2-export-hostile-ran';
    rmSync(marker, { force: true });
    const h = await cli(join(CK, 'hostile.pth'), '--target', 'onnx', '--out', join(tmpdir(), 'sf2-hostile-never'));
    expect(h.status).toBe(3);
    expect(h.stderr).toContain('posix.system');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(tmpdir(), 'sf2-hostile-never'))).toBe(false);
    expect((await cli('inspect', join(CK, 'truncated.pth'))).status).toBe(3);
    expect((await cli('inspect', join(FX, 'iresnet18', 'head_200.pth'))).status).toBe(4);
    expect((await cli('inspect', join(FX, 'iresnet18', 'model_200.pth'), '--arch', 'vgg16')).status).toBe(2);
  });

  it('parity without --reference compares with the imported graph and warns the import was not checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-pth-noref-'));
    try {
      const out = join(dir, 'b');
      const r = await cli(join(CK, 'sfnet10nobn', 'model_120.pth'), '--target', 'onnx', '--precision', 'fp32', '--runtime', 'onnxruntime-node/cpu', '--out', out);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      expect(r.stderr).toContain('not checked against PyTorch');
      expect(readFileSync(join(out, 'parity-report.json'), 'utf8')).toContain('not checked against PyTorch');
      const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(m.source.checkpoint).toMatchObject({ layout: '2023', arch: { family: 'sfnet' }, checkedAgainstPyTorch: false, headStripped: { classes: 100 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// One full web run per family (the costly part): onnx, tfjs and webgpu bundles in fp32,
// parity on onnxruntime-node cpu, tfjs wasm and Dawn (when they start here).
const WEB: [string, string, string[]][] = [
  ['sfnet_deprecated (legacy serialization)', 'checkpoints/sfnet10.legacy.pth', ['--reference', join(FX, 'sfnet10.npz')]],
  ['sfnet_bn (2023 layout)', 'sfnet10bn/model_200.pth', ['--reference', join(FX, 'sfnet10bn.npz')]],
  ['iresnet (2022 layout + --head)', 'iresnet18/backbone_200.pth', ['--reference', join(FX, 'iresnet18.npz'), '--head', join(FX, 'iresnet18', 'head_200.pth')]],
  ['sfnet without BN (bare, strided views)', 'checkpoints/sfnet10nobn/bare.pth', ['--inputs', NOBN_INPUTS, '--reference', join(CK, 'sfnet10nobn', 'embeddings.npy')]],
];

describe.skipIf(!have)('sf2-export model.pth --target onnx,tfjs,webgpu', () => {
  it.each(WEB)('%s', async (_name, file, refArgs) => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-pth-web-'));
    try {
      const out = join(dir, 'b');
      const r = await cli(join(FX, file), '--target', 'onnx,tfjs,webgpu', '--precision', 'fp32', ...refArgs, '--runtime', 'onnxruntime-node/cpu,tfjs-node/wasm,dawn-node/webgpu', '--rows', '4', '--allow-unverified', '--out', out, '--json');
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
      const res = JSON.parse(r.stdout);
      const results = res.parity.results as { target: string; precision: string; minCosine: number }[];
      expect(new Set(results.map((x) => x.target))).toContain('onnx');
      for (const x of results) expect(x.minCosine, `${x.target}/${x.precision}`).toBeGreaterThanOrEqual(0.99999);
      const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(m.source.checkpoint.checkedAgainstPyTorch).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
