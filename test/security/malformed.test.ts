/**
 * Issue 16 items 5 and 6: malformed models are bad input (exit 3, one line,
 * naming the file), never "internal error" (exit 1); long chains neither
 * overflow the stack nor take quadratic time. Every case here was an exit 1 or a
 * crash before the fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Long from 'long';
import { afterAll, describe, expect, it } from 'vitest';
import { onnx } from '../../src/onnx/proto.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { chainBytes, chainModel } from './models.js';
import { runMain } from './cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'sf2-sec-malformed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Proto = ReturnType<typeof onnx.ModelProto.decode>;
const BIG = Long.fromString('1152921504606846976'); // 2^60

function mutated(name: string, edit: (p: Proto) => void): string {
  const p = onnx.ModelProto.decode(encodeOnnx(chainModel(2)));
  edit(p);
  const file = join(work, `${name}.onnx`);
  writeFileSync(file, onnx.ModelProto.encode(p).finish());
  return file;
}

const node = (p: Proto, op: string) => p.graph!.node!.find((n) => n.opType === op)!;

/** chainModel(n) with a BatchNormalization after the Conv: one input left empty, or a scale of the wrong length. */
function withBn(n: number, o: { emptyInput?: number; scaleLength?: number }): Uint8Array {
  const p = onnx.ModelProto.decode(encodeOnnx(chainModel(n)));
  const g = p.graph!;
  const bnIn = node(p, 'Conv').output![0]!;
  for (const [k, v] of [['s', 1], ['b', 0], ['m', 0], ['v', 1]] as const) {
    const len = k === 's' ? (o.scaleLength ?? 8) : 8;
    g.initializer!.push({ name: `bn.${k}`, dataType: 1, dims: [len], floatData: Array(len).fill(v) });
  }
  const ins = [bnIn, 'bn.s', 'bn.b', 'bn.m', 'bn.v'];
  if (o.emptyInput !== undefined) ins[o.emptyInput] = '';
  g.node!.splice(1, 0, { opType: 'BatchNormalization', name: 'bn', input: ins, output: ['bn_out'] });
  for (const x of g.node!.slice(2)) x.input = x.input!.map((i) => (i === bnIn ? 'bn_out' : i));
  return onnx.ModelProto.encode(p).finish();
}

const CASES: Array<[string, (p: Proto) => void, RegExp]> = [
  ['ir_version 2^60', (p) => (p.irVersion = BIG), /ir_version .* out of range/],
  ['opset 2^60', (p) => (p.opsetImport![0]!.version = BIG), /opset version .* out of range/],
  ['input dim 2^60', (p) => (p.graph!.input![0]!.type!.tensorType!.shape!.dim![2]!.dimValue = BIG), /dim .* out of range/],
  ['input dim -7 (fuzz find)', (p) => (p.graph!.input![0]!.type!.tensorType!.shape!.dim![2]!.dimValue = -7), /value x has a negative dimension -7/],
  ['Conv without W', (p) => (node(p, 'Conv').input = ['x']), /node conv \(Conv\) has 1 of its 2 required inputs \(input 1 is missing\)/],
  ['Gemm with one input', (p) => (node(p, 'Gemm').input = [node(p, 'Gemm').input![0]!]), /node fc \(Gemm\) has 1 of its 2 required inputs/],
  ['10^12-element tensor with one float_data value', (p) => p.graph!.initializer!.push({ name: 'huge', dataType: 1, dims: [1000000, 1000000], floatData: [1] }), /huge has 1 value, float32\[1000000,1000000\] needs 1000000000000/],
];

describe('malformed models exit 3 naming the file', () => {
  for (const [name, edit, want] of CASES) {
    it(name, async () => {
      const file = mutated(name.replace(/\W+/g, '-'), edit);
      const r = await runMain('inspect', file);
      expect(r.stderr).toMatch(want);
      expect(r.stderr).toContain(file);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(3);
    });
  }

  it('onnxruntime refusing a model the reader accepts (a BN scale too short) is exit 3 naming file and node, one clean line', async () => {
    const file = join(work, 'bn-short.onnx');
    writeFileSync(file, withBn(2, { scaleLength: 4 }));
    expect((await runMain('inspect', file)).code).toBe(0); // structurally fine
    const r = await runMain(file, '--out', join(work, 'out-bn-short'), '--precision', 'fp32', '--device', 'cpu', '--runtime', 'onnxruntime-node');
    expect(r.code, r.stderr).toBe(3);
    const line = r.stderr.trim().split('\n').pop()!;
    expect(line).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: onnxruntime cannot run the model \\(node bn\\)`));
    expect(line).not.toMatch(/\x1b|sf2-ref-|original-cut/);
  }, 60000);

  it('a BatchNormalization input named empty', async () => {
    for (let pos = 0; pos < 5; pos++) {
      const file = join(work, `bn-empty-${pos}.onnx`);
      writeFileSync(file, withBn(2, { emptyInput: pos }));
      const r = await runMain('inspect', file);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`${file}: node bn (BatchNormalization) has 4 of its 5 required inputs (input ${pos} is named '')`);
    }
  });
});

describe('implausible image inputs through export (fuzz finds: "Invalid typed array length", exit 1 before)', () => {
  for (const [what, dim, want] of [['H = 0', 0, /an image of zero size/], ['H = 2^40', Long.fromNumber(2 ** 40), /larger than any face image batch/]] as const) {
    it(what, async () => {
      const file = mutated(`h-${String(dim)}`, (p) => (p.graph!.input![0]!.type!.tensorType!.shape!.dim![2]!.dimValue = dim));
      const r = await runMain(file, '--out', join(work, `out-h-${String(dim)}`), '--precision', 'fp32', '--device', 'cpu', '--runtime', 'onnxruntime-node');
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(want);
    }, 60000);
  }
});

describe('long chains', () => {
  it('inspect walks a 3,000-node chain (stack overflow before) and a 30,000-node chain without recursion', async () => {
    for (const n of [3000, 30000]) {
      const file = join(work, `chain${n}.onnx`);
      writeFileSync(file, chainBytes(n));
      const r = await runMain('inspect', file, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).nodes ?? JSON.parse(r.stdout).graph?.nodes ?? n + 4).toBe(n + 4);
    }
  }, 120000);
});
