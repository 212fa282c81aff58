/**
 * Bad input: each case gets an InputError (exit 3) whose message names the file
 * and the problem on one line; the CLI prints no stack trace without --verbose.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadOnnx } from '../../src/onnx/import.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { onnx } from '../../src/onnx/proto.js';
import { InputError, ExitCode } from '../../src/errors.js';
import { Graph } from '../../src/ir/graph.js';
import { Model } from '../../src/ir/model.js';
import { TensorData } from '../../src/ir/tensor.js';
import { DType } from '../../src/ir/dtype.js';

const BIN = join(import.meta.dirname, '../../bin/sf2-export.js');

/** y = x + w, w a 4-float initializer. */
function tinyModelBytes(): Uint8Array {
  const g = new Graph();
  const x = g.addValue('x', { dtype: DType.FLOAT, shape: [4] });
  g.inputs.push(x);
  const w = g.addConstant('w', TensorData.float32([4], [1, 2, 3, 4]));
  const n = g.addNode({ op: 'Add', inputs: [x, w], outputs: ['y'] });
  n.output().dtype = DType.FLOAT;
  n.output().shape = [4];
  g.outputs.push(n.output());
  const m = new Model(g);
  m.opsetImports = [{ domain: '', version: 13 }];
  return encodeOnnx(m);
}

/** The tiny model with `w` moved to external data at `location`. */
function withExternal(location: string, length = 16): Uint8Array {
  const p = onnx.ModelProto.decode(tinyModelBytes());
  const t = p.graph!.initializer![0]!;
  t.rawData = new Uint8Array();
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(length) },
  ];
  return onnx.ModelProto.encode(p).finish();
}

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).exitCode).toBe(ExitCode.input);
  expect((err as InputError).oneLine()).toMatch(pattern);
  expect((err as InputError).oneLine()).not.toContain('\n');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sf2-hostile-'));
});

describe('hostile and broken models', () => {
  it('truncated file', () => {
    const bytes = tinyModelBytes();
    const p = join(dir, 'trunc.onnx');
    writeFileSync(p, bytes.subarray(0, bytes.byteLength - 7));
    expectInputError(() => loadOnnx(p), /trunc\.onnx.*(not a valid ONNX|not an ONNX)/);
  });

  it('bytes that are not ONNX', () => {
    const p = join(dir, 'png.onnx');
    writeFileSync(p, Buffer.from('\x89PNG\r\n\x1a\n not a model at all, just some text padding'));
    expectInputError(() => loadOnnx(p), /png\.onnx/);
    const e = join(dir, 'empty.onnx');
    writeFileSync(e, '');
    expectInputError(() => loadOnnx(e), /empty/);
  });

  it('missing external data', () => {
    const p = join(dir, 'missing.onnx');
    writeFileSync(p, withExternal('weights.bin'));
    expectInputError(() => loadOnnx(p), /weights\.bin is missing/);
  });

  it('external data by absolute path, .. escape, or a link leaving the folder', () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(dir, 'outside.bin'), Buffer.alloc(16));
    const abs = join(sub, 'abs.onnx');
    writeFileSync(abs, withExternal('/etc/passwd'));
    expectInputError(() => loadOnnx(abs), /absolute path/);
    const up = join(sub, 'up.onnx');
    writeFileSync(up, withExternal('../outside.bin'));
    expectInputError(() => loadOnnx(up), /leaves the model's folder/);
    symlinkSync(join(dir, 'outside.bin'), join(sub, 'link.bin'));
    const link = join(sub, 'link.onnx');
    writeFileSync(link, withExternal('link.bin'));
    expectInputError(() => loadOnnx(link), /link that leaves/);
  });

  it('external data shorter than the tensor', () => {
    writeFileSync(join(dir, 'short.bin'), Buffer.alloc(8));
    const p = join(dir, 'short.onnx');
    writeFileSync(p, withExternal('short.bin', 8));
    expectInputError(() => loadOnnx(p), /holds 8 bytes.*need 16|needs 16/);
  });

  it('a node input that nothing produces', () => {
    const proto = onnx.ModelProto.decode(tinyModelBytes());
    proto.graph!.node![0]!.input = ['x', 'nowhere'];
    const p = join(dir, 'dangling.onnx');
    writeFileSync(p, onnx.ModelProto.encode(proto).finish());
    expectInputError(() => loadOnnx(p), /reads nowhere, which no node produces/);
  });

  it('a cycle', () => {
    const proto = onnx.ModelProto.decode(tinyModelBytes());
    proto.graph!.node = [
      { opType: 'Add', name: 'a', input: ['x', 'c'], output: ['b'] },
      { opType: 'Relu', name: 'r', input: ['b'], output: ['c'] },
      { opType: 'Identity', name: 'i', input: ['b'], output: ['y'] },
    ];
    const p = join(dir, 'cycle.onnx');
    writeFileSync(p, onnx.ModelProto.encode(proto).finish());
    expectInputError(() => loadOnnx(p), /cycle\.onnx: the graph has a cycle/);
  });

  it('raw_data of the wrong size', () => {
    const proto = onnx.ModelProto.decode(tinyModelBytes());
    proto.graph!.initializer![0]!.rawData = new Uint8Array(12);
    const p = join(dir, 'badraw.onnx');
    writeFileSync(p, onnx.ModelProto.encode(proto).finish());
    expectInputError(() => loadOnnx(p), /raw_data has 12 bytes/);
  });

  it('the CLI prints one line and exits 3, with the stack only under --verbose', () => {
    const p = join(dir, 'cli-trunc.onnx');
    writeFileSync(p, tinyModelBytes().subarray(0, 20));
    const r = spawnSync(process.execPath, [BIN, 'inspect', p], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^sf2-export: error: .*cli-trunc\.onnx/);
    const v = spawnSync(process.execPath, [BIN, 'inspect', p, '--verbose'], { encoding: 'utf8' });
    expect(v.status).toBe(3);
    expect(v.stderr).toMatch(/\n\s+at /);
  });
});

describe('fields onnx-proto does not know', () => {
  it('warns about IR 10 node metadata_props, which are dropped on save', () => {
    // Append field 9 (metadata_props) to the encoded node: protobuf merges concatenated fields.
    const proto = onnx.ModelProto.decode(tinyModelBytes());
    const node = proto.graph!.node![0]!;
    const entry = onnx.StringStringEntryProto.encode({ key: 'pkg.torch.onnx.stack_trace', value: 'x' }).finish();
    const w = onnx.NodeProto.encode(node);
    w.uint32((9 << 3) | 2).bytes(entry);
    const nodeBytes = w.finish();
    proto.graph!.node = [];
    const gw = onnx.GraphProto.encode(proto.graph!);
    gw.uint32((1 << 3) | 2).bytes(nodeBytes);
    const graphBytes = gw.finish();
    proto.graph = null;
    const mw = onnx.ModelProto.encode(proto);
    mw.uint32((7 << 3) | 2).bytes(graphBytes);
    const p = join(dir, 'ir10.onnx');
    writeFileSync(p, mw.finish());
    const warnings: string[] = [];
    const m = loadOnnx(p, { onWarning: (w) => warnings.push(w) });
    expect(m.graph.nodes).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/NodeProto\.metadata_props \(IR 10\)/);
    // And it is indeed gone after a save.
    const again: string[] = [];
    const out = join(dir, 'ir10-saved.onnx');
    writeFileSync(out, encodeOnnx(m));
    loadOnnx(out, { onWarning: (w) => again.push(w) });
    expect(again).toEqual([]);
    expect(readFileSync(out).byteLength).toBeLessThan(readFileSync(p).byteLength);
  });
});
