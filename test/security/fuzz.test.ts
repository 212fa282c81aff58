/**
 * The seeded fuzz suite (issue 16): mutated models through `inspect`, mutated
 * .npz/.npy references through the reader, mutated bundle tarballs through
 * `verify`. Every case is classified
 *
 *   ok      exit 0 / read / verified
 *   clean   a one-line Sf2Error with a documented exit code (2, 3, 4, 6)
 *   crash   anything else (exit 1 "internal error", a raw exception)
 *   hang    a case slower than HANG_MS (a synchronous hang ends the run by
 *           vitest's test timeout)
 *
 * and any crash or hang fails the run, listing the reproducing seeds. The
 * mutators: byte-level (flip, overwrite, insert, delete, truncate) over the
 * ONNX bytes; structural through onnx-proto (dims, types, names, inputs,
 * attributes, opsets, tensors, external-data entries: location, offset,
 * length, escapes); byte-level and header-level over .npz/.npy; byte-level on
 * the gzip stream and on the tar inside it. SF2_FUZZ_SEED picks the seed
 * (default fixed, so CI is reproducible), SF2_FUZZ_CASES scales the count.
 * Reproducers found are kept in malformed.test.ts / bombs.test.ts.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Long from 'long';
import { afterAll, describe, expect, it } from 'vitest';
import { Sf2Error } from '../../src/errors.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { onnx } from '../../src/onnx/proto.js';
import { encodeNpz, encodeNpy, readNpy, readNpz } from '../../src/data/npy.js';
import { mulberry32 } from '../../src/data/references.js';
import { packBundle } from '../../src/pack/pack.js';
import { verifyBundle } from '../../src/verify/verify.js';
import { MANIFEST_SCHEMA_VERSION } from '../../src/bundle/manifest.js';
import { sha256Hex } from '../../src/data/sha256.js';
import { chainModel } from './models.js';
import { runMain } from './cli-run.js';

const SEED = Number(process.env.SF2_FUZZ_SEED ?? 0x5f2e);
const SCALE = Number(process.env.SF2_FUZZ_CASES ?? 1);
const HANG_MS = 10000;
const FIX = join(import.meta.dirname, '../../fixtures/variants');
const work = mkdtempSync(join(tmpdir(), 'sf2-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Rand = () => number;
type Verdict = 'ok' | 'clean' | 'crash' | 'hang';
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

interface Tally { counts: Record<Verdict, number>; bad: string[] }
const tally = (): Tally => ({ counts: { ok: 0, clean: 0, crash: 0, hang: 0 }, bad: [] });

async function classify(t: Tally, label: string, fn: () => Promise<'ok' | 'clean' | string>): Promise<void> {
  const t0 = Date.now();
  let v: Verdict;
  let why = '';
  try {
    const r = await fn();
    v = r === 'ok' || r === 'clean' ? r : 'crash';
    if (v === 'crash') why = r;
  } catch (e) {
    if (e instanceof Sf2Error && [2, 3, 4, 6].includes(e.exitCode) && !e.oneLine().includes('\n')) v = 'clean';
    else {
      v = 'crash';
      why = `${(e as Error)?.name}: ${(e as Error)?.message}`.slice(0, 300);
    }
  }
  if (v !== 'crash' && Date.now() - t0 > HANG_MS) {
    v = 'hang';
    why = `${Date.now() - t0} ms`;
  }
  t.counts[v]++;
  if (v === 'crash' || v === 'hang') t.bad.push(`${label}: ${v}: ${why}`);
}

// ------------------------------------------------------------------ byte mutators

function mutateBytes(r: Rand, src: Uint8Array): Uint8Array {
  let b = Buffer.from(src);
  const n = 1 + int(r, 4);
  for (let k = 0; k < n; k++) {
    const at = int(r, Math.max(1, b.length));
    switch (int(r, 6)) {
      case 0: b[at] = b[at]! ^ (1 << int(r, 8)); break;
      case 1: b[at] = pick(r, [0, 0xff, 0x7f, 0x80, 0x01]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256))), b.subarray(at)]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 16)))]); break;
      case 4: b = b.subarray(0, at); break;
      default: if (b.length >= 4) b.writeUInt32LE(pick(r, [0xffffffff, 0x7fffffff, 0x80000000, 0, 1 << 30]) >>> 0, Math.max(0, Math.min(at, b.length - 4))); break;
    }
  }
  return b;
}

// ------------------------------------------------------------------ ONNX structural mutators

type Proto = ReturnType<typeof onnx.ModelProto.decode>;
const HUGE = [Long.fromString('9007199254740993'), Long.fromString('-1'), Long.fromNumber(2 ** 40), Long.fromNumber(2 ** 31), 0, -7];
const OPS = ['Conv', 'Gemm', 'BatchNormalization', 'Relu', 'Add', 'MatMul', 'Reshape', 'Flatten', 'Concat', 'Slice', 'Gather', 'ReduceL2', 'Div', 'Clip', 'Transpose', 'Nope', ''];

function mutateProto(r: Rand, p: Proto): void {
  const g = p.graph!;
  const nodes = g.node ?? [];
  const inits = g.initializer ?? [];
  const n = nodes.length ? pick(r, nodes) : undefined;
  const t = inits.length ? pick(r, inits) : undefined;
  const names = [...new Set([...nodes.flatMap((x) => [...(x.input ?? []), ...(x.output ?? [])]), ...inits.map((x) => x.name ?? '')])];
  switch (int(r, 18)) {
    case 0: p.irVersion = pick(r, HUGE); break;
    case 1: if (p.opsetImport?.[0]) p.opsetImport[0].version = pick(r, [...HUGE, 1, 3, 25]); break;
    case 2: { const d = g.input?.[0]?.type?.tensorType?.shape?.dim; if (d?.length) pick(r, d).dimValue = pick(r, HUGE); break; }
    case 3: if (n?.input?.length) n.input.splice(int(r, n.input.length), 1); break;
    case 4: if (n?.input?.length) n.input[int(r, n.input.length)] = pick(r, ['', 'no_such_value', ...names]); break;
    case 5: if (n) n.opType = pick(r, OPS); break;
    case 6: if (n?.output?.length) n.output[0] = pick(r, ['', ...names]); break;
    case 7: if (n?.attribute?.length) { const a = pick(r, n.attribute); a.i = pick(r, HUGE); a.ints = (a.ints ?? [0]).map(() => pick(r, HUGE)); a.type = pick(r, [a.type ?? 0, 0, 99, 7]) as typeof a.type; } break;
    case 8: if (t) t.dims = (t.dims ?? []).map((d) => (r() < 0.5 ? pick(r, HUGE) : d)); break;
    case 9: if (t) t.dataType = pick(r, [0, 1, 7, 10, 16, 99, 8]); break;
    case 10: if (t) { t.rawData = new Uint8Array(int(r, 16)); t.floatData = r() < 0.5 ? [1] : []; } break;
    case 11: if (inits.length) inits.splice(int(r, inits.length), 1); break;
    case 12: if (nodes.length > 1) { const i = int(r, nodes.length); const j = int(r, nodes.length); [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!]; } break;
    case 13: if (n && nodes.length) nodes.push({ ...n, name: `${n.name}_dup` }); break;
    case 14: if (t?.externalData?.length) { const e = pick(r, t.externalData); if (e.key === 'location') e.value = pick(r, ['../../etc/passwd', '/etc/passwd', 'missing.data', '', 'x/../../y', '\u0000']); else e.value = pick(r, ['-1', '99999999999999999999', 'abc', '1e3', String(2 ** 40)]); } break;
    case 15: if (t) { t.dataLocation = 1; t.externalData = [{ key: 'location', value: pick(r, ['model.data', '../x', '']) }, { key: pick(r, ['offset', 'length', 'checksum']), value: pick(r, ['0', '-5', '18446744073709551616']) }]; } break;
    case 16: g.output = r() < 0.5 ? [] : [{ name: pick(r, ['', 'nope', ...names]) }]; break;
    default: if (n) { n.attribute = [...(n.attribute ?? []), { name: pick(r, ['pads', 'kernel_shape', 'strides', 'axis', 'group']), type: 7, ints: [pick(r, HUGE), -3, 0] }]; } break;
  }
}

async function inspectBytes(bytes: Uint8Array, dir: string, name: string): Promise<'ok' | 'clean' | string> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const res = await runMain('inspect', file, '--json');
  if (res.code === 0) return 'ok';
  const lines = res.stderr.trim().split('\n').filter((l) => !l.startsWith('warning: '));
  if ([2, 3, 4].includes(res.code) && lines.length === 1 && !/internal error/.test(lines[0]!)) return 'clean';
  return `exit ${res.code}: ${res.stderr.trim().slice(0, 300)}`;
}

describe('fuzz', () => {
  it('ONNX models through inspect: byte-level, structural, external data', async () => {
    const t = tally();
    const r = mulberry32(SEED);
    const dir = join(work, 'onnx');
    mkdirSync(dir);
    // Bases: an IR-built chain, a real PyTorch export's skeleton with external data, a small residual net.
    cpSync(join(FIX, 'sfnet4.extdata.onnx.data'), join(dir, 'sfnet4.extdata.onnx.data'));
    const bases: Array<[string, Uint8Array]> = [
      ['chain', encodeOnnx(chainModel(6))],
      ['extdata', readFileSync(join(FIX, 'sfnet4.extdata.onnx'))],
      ['resbn4', readFileSync(join(FIX, 'resbn4.eval.onnx'))],
    ];
    const cases = 480 * SCALE;
    for (let k = 0; k < cases; k++) {
      const [bname, base] = bases[k % bases.length]!;
      const structural = k % 2 === 1;
      const seed = Math.floor(r() * 2 ** 32);
      const cr = mulberry32(seed);
      let bytes: Uint8Array;
      if (structural) {
        const p = onnx.ModelProto.decode(base);
        for (let m = 1 + int(cr, 3); m > 0; m--) mutateProto(cr, p);
        try {
          bytes = onnx.ModelProto.encode(p).finish();
        } catch {
          bytes = mutateBytes(cr, base); // a mutation protobufjs cannot encode: fall back to bytes
        }
      } else {
        bytes = mutateBytes(cr, base);
      }
      // The extdata base must sit beside its data file (same name), the others anywhere.
      await classify(t, `${bname} ${structural ? 'structural' : 'bytes'} seed ${seed}`, () => inspectBytes(bytes, dir, bname === 'extdata' ? 'sfnet4.extdata.onnx' : `${bname}-${k}.onnx`));
    }
    console.log(`fuzz onnx (seed ${SEED}): ${JSON.stringify(t.counts)}`);
    expect(t.bad).toEqual([]);
    expect(t.counts.ok + t.counts.clean).toBe(cases);
  }, 240000);

  it('ONNX models through export (onnx fp32, onnxruntime-node cpu): structural mutations', async () => {
    const t = tally();
    const r = mulberry32(SEED + 3);
    const dir = join(work, 'export');
    mkdirSync(dir);
    const base = encodeOnnx(chainModel(3));
    const cases = Number(process.env.SF2_FUZZ_EXPORT_CASES ?? 40) * SCALE;
    for (let k = 0; k < cases; k++) {
      const seed = Math.floor(r() * 2 ** 32);
      const cr = mulberry32(seed);
      const p = onnx.ModelProto.decode(base);
      for (let m = 1 + int(cr, 2); m > 0; m--) mutateProto(cr, p);
      let bytes: Uint8Array;
      try {
        bytes = onnx.ModelProto.encode(p).finish();
      } catch {
        continue;
      }
      const file = join(dir, `m${k}.onnx`);
      writeFileSync(file, bytes);
      await classify(t, `export structural seed ${seed}`, async () => {
        const res = await runMain(file, '--out', join(dir, `out${k}`), '--precision', 'fp32', '--device', 'cpu', '--runtime', 'onnxruntime-node', '--embedding', 'y');
        const lines = res.stderr.trim().split('\n').filter((l) => l.startsWith('sf2-export: '));
        if (res.code === 0) return 'ok';
        if ([2, 3, 4, 5].includes(res.code) && lines.length === 1 && !/internal error/.test(lines[0]!) && lines[0]!.includes(file)) return 'clean';
        return `exit ${res.code}: ${lines.join(' | ').slice(0, 300)}`;
      });
      rmSync(join(dir, `out${k}`), { recursive: true, force: true });
    }
    console.log(`fuzz export (seed ${SEED}): ${JSON.stringify(t.counts)}`);
    expect(t.bad).toEqual([]);
  }, 240000);

  it('.npz and .npy references through the reader', async () => {
    const t = tally();
    const r = mulberry32(SEED + 1);
    const rows = 3;
    const npz = encodeNpz([
      ['inputs', { shape: [rows, 3, 4, 4], data: Float32Array.from({ length: rows * 48 }, (_, i) => Math.sin(i)) }],
      ['embeddings', { shape: [rows, 8], data: Float32Array.from({ length: rows * 8 }, (_, i) => Math.cos(i)) }],
      ['issame', { dtype: 'b1', shape: [1], data: new Uint8Array([1]) }],
    ]);
    const npy = encodeNpy({ shape: [2, 5], data: new Float32Array(10).fill(0.5) });
    const cases = 400 * SCALE;
    for (let k = 0; k < cases; k++) {
      const seed = Math.floor(r() * 2 ** 32);
      const cr = mulberry32(seed);
      const isNpz = k % 2 === 0;
      let b = mutateBytes(cr, isNpz ? npz : npy);
      if (!isNpz && k % 4 === 1) {
        // Header-level: rewrite the shape / dtype literal.
        const text = Buffer.from(b).toString('latin1').replace(/'shape': \([^)]*\)/, `'shape': (${pick(cr, ['99999999999, 99999999999', '-1,', '2**64', '', '1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33', '10'])})`).replace("'<f4'", pick(cr, ["'<f4'", "'>f8'", "'|O'", "'<U3'", "'<c8'"]));
        b = Buffer.from(text, 'latin1');
      }
      await classify(t, `${isNpz ? 'npz' : 'npy'} seed ${seed}`, async () => {
        if (isNpz) readNpz(b, 'fuzz.npz');
        else readNpy(b, 'fuzz.npy');
        return 'ok';
      });
    }
    console.log(`fuzz npz/npy (seed ${SEED}): ${JSON.stringify(t.counts)}`);
    expect(t.bad).toEqual([]);
  }, 120000);

  it('bundle tarballs through verify: the gzip stream and the tar inside it', async () => {
    const t = tally();
    const r = mulberry32(SEED + 2);
    const b = join(work, 'tb', 'bundle');
    mkdirSync(join(b, 'onnx'), { recursive: true });
    const modelBytes = encodeOnnx(chainModel(2));
    writeFileSync(join(b, 'onnx', 'model.fp32.onnx'), modelBytes);
    // A hand-made manifest of the shape pack reads (src/bundle/manifest.ts checks it field by field).
    writeFileSync(join(b, 'manifest.json'), JSON.stringify({ schemaVersion: MANIFEST_SCHEMA_VERSION, tool: { name: 'sf2-export', version: '0' }, source: { path: 'm.onnx', sha256: '0', bytes: 1 }, model: { embeddingDim: 16, output: 'y', input: { name: 'x', shape: ['N', 3, 16, 16], layout: 'NCHW', colorOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }, flipTTA: 'sum' }, head: {}, passes: [], targets: {}, parity: null, files: [{ path: 'onnx/model.fp32.onnx', target: 'onnx', precision: 'fp32', role: 'model', sha256: sha256Hex(modelBytes), bytes: modelBytes.length }] }));
    const tgz = join(work, 'tb', 'bundle.tgz');
    await packBundle(b, { out: tgz });
    const gz = readFileSync(tgz);
    const tarBytes = gunzipSync(gz);
    const cases = 80 * SCALE;
    for (let k = 0; k < cases; k++) {
      const seed = Math.floor(r() * 2 ** 32);
      const cr = mulberry32(seed);
      const bytes = k % 2 ? gzipSync(mutateBytes(cr, tarBytes)) : mutateBytes(cr, gz);
      const file = join(work, 'tb', `case-${k}.tgz`);
      writeFileSync(file, bytes);
      await classify(t, `tgz ${k % 2 ? 'tar' : 'gzip'} seed ${seed}`, async () => {
        const res = await verifyBundle(file);
        return res.ok ? 'ok' : 'clean'; // a verify that lists problems is a clean refusal
      });
      rmSync(file);
    }
    console.log(`fuzz tgz (seed ${SEED}): ${JSON.stringify(t.counts)}`);
    expect(t.bad).toEqual([]);
  }, 120000);
});
