/**
 * The tfjs target beyond the main fixtures: the fixture variants (opsets,
 * fixed batch, label input, LpNormalization head, external data, standalone
 * BN), BatchNormalization left unfolded, the NHWC input option, the single
 * unsupported-op error, deterministic bytes, 4 MiB shards, the Target and
 * ParityRuntime interfaces.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { ExitCode, UnsupportedError } from '../../../src/errors.js';
import { attr } from '../../../src/ir/attribute.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { optimize } from '../../../src/passes/index.js';
import { readNpz, toFloat32 } from '../../../src/data/npy.js';
import { openTfjsModel, tfjsNodeCpu, tfjsNodeWasm } from '../../../src/parity/runtimes/tfjs-node.js';
import { loadTarget } from '../../../src/targets/registry.js';
import { buildTfjsBundle, checkTfjs, writeTfjsBundle } from '../../../src/targets/tfjs/bundle.js';
import { shardWeights, SHARD_BYTES } from '../../../src/targets/tfjs/weights.js';
import type { Model } from '../../../src/ir/model.js';
import { CaseBuilder } from './op-cases.js';
import { contractFor, FIXTURES, headless, minCosine, reference } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'sf2-tfjs-target-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function optimized(path: string): Model {
  const m = loadOnnx(path);
  optimize(m, {}, { log: silentLogger });
  return m;
}

async function wasmEmbeddings(m: Model, inputs: Float32Array, n: number, opts: Parameters<typeof buildTfjsBundle>[3] = {}, name = 'm'): Promise<Float32Array> {
  const contract = contractFor(m);
  const b = buildTfjsBundle(m, contract, 'fp32', opts);
  const p = writeTfjsBundle(join(tmp, name), b, 'fp32');
  const s = await openTfjsModel(join(tmp, name, p.model), 'wasm', contract);
  try {
    return await s.run(inputs, n);
  } finally {
    await s.close();
  }
}

const VARIANTS = join(FIXTURES, 'variants');
const variantFiles = existsSync(VARIANTS) ? readdirSync(VARIANTS).filter((f) => f.endsWith('.onnx')).sort() : [];

describe('fixture variants (fp32, wasm, against PyTorch)', () => {
  test.each(variantFiles)('%s', async (file) => {
    const meta = JSON.parse(readFileSync(join(VARIANTS, file.replace(/\.onnx$/, '.meta.json')), 'utf8')) as { reference?: { npz: string; inputsFrom?: string } };
    const m = optimized(join(VARIANTS, file));
    const refPath = meta.reference?.npz ?? 'variants/sfnet4.npz';
    const emb = readNpz(join(FIXTURES, refPath)).get('embeddings')!;
    const inputs = toFloat32(readNpz(join(FIXTURES, meta.reference?.inputsFrom ?? refPath)).get('inputs')!);
    const [n, d] = emb.shape as [number, number];
    const got = await wasmEmbeddings(m, inputs, n, {}, file);
    // Same float32 math in another order (see fixtures.test.ts).
    expect(minCosine(got, toFloat32(emb), n, d)).toBeGreaterThanOrEqual(0.99999);
  });
});

describe('BatchNormalization left unfolded (Mul + AddV2 per channel)', () => {
  // headless(): head cut without the optimizer, so every BN of a PRESERVE export stays.
  test.each(['sfnet10bn', 'iresnet18'])('%s.preserve', async (arch) => {
    const m = headless(join(FIXTURES, `${arch}.preserve.onnx`));
    const bns = m.graph.nodes.filter((n) => n.op === 'BatchNormalization').length;
    expect(bns).toBeGreaterThan(5);
    const b = buildTfjsBundle(m, contractFor(m), 'fp32');
    expect(b.details.tfOps.Mul).toBe(bns);
    expect(b.details.tfOps.FusedBatchNormV3).toBeUndefined();
    expect(b.details.layoutTransposes).toBe(1);
    const ref = reference(arch);
    const got = await wasmEmbeddings(m, ref.inputs, ref.n, {}, `${arch}-unfolded`);
    expect(minCosine(got, ref.embeddings, ref.n, ref.d)).toBeGreaterThanOrEqual(0.99999);
  });
});

describe('NHWC input option', () => {
  test('no Transpose at all, an NHWC placeholder, and the same embeddings', async () => {
    const m = optimized(join(FIXTURES, 'sfnet10bn.eval.onnx'));
    const contract = contractFor(m);
    const b = buildTfjsBundle(m, contract, 'fp32', { inputLayout: 'nhwc' });
    expect(b.details.layoutTransposes).toBe(0);
    expect(b.details.tfOps.Transpose).toBeUndefined();
    const json = JSON.parse(b.modelJson);
    expect(json.signature.inputs.input.tensorShape.dim.map((x: { size: string }) => x.size)).toEqual(['-1', '112', '112', '3']);
    expect(json.userDefinedMetadata.sf2Export.input.layout).toBe('NHWC');
    const ref = reference('sfnet10bn');
    // The runtime transposes the NCHW references to NHWC (from the bundle's metadata).
    const got = await wasmEmbeddings(m, ref.inputs, ref.n, { inputLayout: 'nhwc' }, 'nhwc');
    expect(minCosine(got, ref.embeddings, ref.n, ref.d)).toBeGreaterThanOrEqual(0.99999);
  });
});

describe('unsupported ops', () => {
  test('one UnsupportedError (exit 4) naming every unsupported op and node, before anything is written', async () => {
    const b = new CaseBuilder();
    const a = b.op('Softmax', [b.x], { axis: attr.int(1) });
    const c = b.op('Selu', [a]);
    const g = b.op('Conv', [c, b.c([4, 4, 3, 3])], { strides: attr.ints([2, 2]), dilations: attr.ints([2, 2]), kernel_shape: attr.ints([3, 3]) });
    const y = b.op('InstanceNormalization', [g, b.c([4]), b.c([4])]);
    const m = b.model(b.op('Flatten', [y]));
    const target = await loadTarget('tfjs');
    let err: unknown;
    try {
      target.check(m, 'fp32');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    const e = err as UnsupportedError;
    expect(e.exitCode).toBe(ExitCode.unsupported);
    for (const n of m.graph.nodes.filter((x) => x.op !== 'Flatten')) expect(e.message).toContain(`at node ${n.name}`);
    expect(e.message).toMatch(/Softmax.*Selu.*Conv.*InstanceNormalization/);
    expect(e.message).toContain('cannot combine strides > 1 with dilations > 1');
    expect(e.message).not.toMatch(/\n/);
    expect(e.hint).toBeTruthy();
    // write() refuses the same way and leaves nothing behind.
    const out = join(tmp, 'unsupported');
    await expect(target.write({ model: m, contract: { embeddingDim: 4, output: m.graph.outputs[0]!.name, input: { name: 'x', shape: ['N', 4, 9, 9], layout: 'NCHW', colorOrder: 'RGB', mean: [0, 0, 0], std: [1, 1, 1] }, flipTTA: 'sum' }, precision: 'fp32', outDir: out, log: silentLogger, options: {} })).rejects.toBeInstanceOf(UnsupportedError);
    expect(existsSync(out)).toBe(false);
  });

  test('a supported model passes check', () => {
    expect(() => checkTfjs(optimized(join(FIXTURES, 'iresnet18.eval.onnx')))).not.toThrow();
  });
});

describe('bundle files', () => {
  test('two writes are byte-identical, in every precision', async () => {
    const target = await loadTarget('tfjs');
    const m = optimized(join(FIXTURES, 'iresnet18.preserve.onnx'));
    const contract = contractFor(m);
    const read = (dir: string) => Object.fromEntries(readdirSync(join(dir, 'tfjs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => [join(e.parentPath, e.name).slice(dir.length), readFileSync(join(e.parentPath, e.name))]));
    for (const precision of ['fp32', 'fp16', 'int8'] as const) {
      const dirs = [join(tmp, `det-a-${precision}`), join(tmp, `det-b-${precision}`)];
      const results = [];
      for (const outDir of dirs) results.push(await target.write({ model: m, contract, precision, outDir, log: silentLogger, options: {} }));
      expect(results[0]!.files).toEqual(results[1]!.files);
      expect(results[0]!.files.filter((f) => f.role === 'model').map((f) => f.path)).toEqual([`tfjs/${precision}/model.json`]);
      const [a, b] = dirs.map(read);
      expect(Object.keys(a!).sort()).toEqual(Object.keys(b!).sort());
      for (const k of Object.keys(a!)) expect(Buffer.compare(a![k]!, b![k]!), k).toBe(0);
    }
  });

  test('model.json: graph-model format, signature, metadata with the preprocessing contract', () => {
    const m = optimized(join(FIXTURES, 'sfnet10bn.eval.onnx'));
    const contract = contractFor(m);
    const json = JSON.parse(buildTfjsBundle(m, contract, 'fp16').modelJson);
    expect(json.format).toBe('graph-model');
    expect(Object.keys(json.signature.inputs)).toEqual([contract.input.name]);
    expect(Object.keys(json.signature.outputs)).toEqual([contract.output]);
    expect(json.signature.outputs[contract.output].tensorShape.dim.map((x: { size: string }) => x.size)).toEqual(['-1', String(contract.embeddingDim)]);
    const meta = json.userDefinedMetadata.sf2Export;
    expect(meta.embeddingDim).toBe(contract.embeddingDim);
    expect(meta.input).toMatchObject({ layout: 'NCHW', colorOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] });
    expect(meta.flipTTA).toBe('sum');
    // fp16: every kernel as float16 in the manifest; vectors stay float32.
    const weights = json.weightsManifest[0].weights as { name: string; shape: number[]; quantization?: { dtype: string } }[];
    for (const w of weights) expect(w.quantization?.dtype === 'float16').toBe(w.shape.length >= 2);
  });

  test('shards are at most 4 MiB and cut the bytes in order', () => {
    const data = new Uint8Array(SHARD_BYTES * 2 + 123).map((_, i) => i * 7);
    const shards = shardWeights(data);
    expect(shards.map((s) => s.name)).toEqual(['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);
    expect(shards.map((s) => s.bytes.byteLength)).toEqual([SHARD_BYTES, SHARD_BYTES, 123]);
    expect(Buffer.compare(Buffer.concat(shards.map((s) => s.bytes)), data)).toBe(0);
    expect(shardWeights(new Uint8Array(0)).map((s) => s.name)).toEqual(['group1-shard1of1.bin']);
  });

  test('a model over 4 MiB loads from several shards', async () => {
    // Flatten -> Gemm 324 -> 4000: 5.2 MB of weights.
    const b = new CaseBuilder(['N', 4, 9, 9]);
    const m = b.model(b.op('Gemm', [b.op('Flatten', [b.x]), b.c([4000, 324], 0.05), b.c([4000])], { transB: attr.int(1) }));
    const contract = { embeddingDim: 4000, output: m.graph.outputs[0]!.name, input: { name: 'x', shape: ['N', 4, 9, 9], layout: 'NCHW' as const, colorOrder: 'RGB' as const, mean: [0, 0, 0] as const, std: [1, 1, 1] as const }, flipTTA: 'sum' as const };
    const bundle = buildTfjsBundle(m, contract, 'fp32');
    expect(bundle.shards.length).toBe(2);
    const p = writeTfjsBundle(join(tmp, 'big'), bundle, 'fp32');
    const s = await openTfjsModel(join(tmp, 'big', p.model), 'wasm', contract);
    const x = new Float32Array(2 * 324).map((_, i) => Math.sin(i));
    const y = await s.run(x, 2);
    await s.close();
    // Reference in float64: y = x W^T + c.
    const W = m.graph.nodes[1]!.inputs[1]!.const!.float32(), c = m.graph.nodes[1]!.inputs[2]!.const!.float32();
    let worst = 0;
    for (let r = 0; r < 2; r++)
      for (let o = 0; o < 4000; o++) {
        let acc = c[o]!;
        for (let k = 0; k < 324; k++) acc += x[r * 324 + k]! * W[o * 324 + k]!;
        worst = Math.max(worst, Math.abs(acc - y[r * 4000 + o]!));
      }
    // 324 products of |x|,|w| <= 0.05: float32 rounding of the sum stays far below 1e-5.
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('ParityRuntime interface', () => {
  test('probe and run through the registry entries', async () => {
    const m = optimized(join(FIXTURES, 'sfnet10.eval.onnx'));
    const contract = contractFor(m);
    const target = await loadTarget('tfjs');
    const res = await target.write({ model: m, contract, precision: 'fp32', outDir: join(tmp, 'rt'), log: silentLogger, options: {} });
    const file = res.files.find((f) => f.role === 'model')!;
    const ref = reference('sfnet10');
    for (const rt of [tfjsNodeWasm, tfjsNodeCpu]) {
      const p = await rt.probe();
      expect(p.available, rt.id).toBe(true);
      if (p.available) expect(p.info.backend).toBe(rt.id.split('/')[1]);
      const s = await rt.open(join(tmp, 'rt'), file, contract);
      const y = await s.run(ref.inputs.subarray(0, 4 * 3 * 112 * 112), 4);
      await s.close();
      expect(y.length).toBe(4 * ref.d);
      expect(minCosine(y, ref.embeddings, 4, ref.d)).toBeGreaterThanOrEqual(0.99999);
    }
  });
});
