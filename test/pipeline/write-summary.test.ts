/**
 * The writer step's log line: model/weights files named in the writer's order,
 * golden sets and helper files counted (src/bundle/write-summary.ts). The file
 * lists are those the onnx and tfjs writers return (test/cli/progress.test.ts
 * checks the real line of an onnx export).
 */
import { describe, expect, it } from 'vitest';
import type { BundleFile } from '../../src/targets/target.js';
import { writtenSummary } from '../../src/bundle/write-summary.js';

const f = (path: string, role: BundleFile['role']): BundleFile => ({ path, target: 'tfjs', precision: 'fp16', role });

describe('writtenSummary', () => {
  it('names the model and weights files, counts the golden set and helpers', () => {
    const tfjs = [f('tfjs/fp16/model.json', 'model'), f('tfjs/fp16/group1-shard1of1.bin', 'weights'), f('tfjs/fp16/sf2-tfjs.js', 'runtime'), f('tfjs/fp16/sf2-tfjs.d.ts', 'types'), f('tfjs/fp16/package.json', 'runtime'), f('tfjs/fp16/golden.bin', 'golden')];
    expect(writtenSummary(tfjs)).toBe('tfjs/fp16/model.json, tfjs/fp16/group1-shard1of1.bin; + golden set, 3 helper files');
  });
  it('counts weight files beyond two, naming the first and the last (a large tfjs model has tens of shards)', () => {
    const shards = Array.from({ length: 63 }, (_, i) => f(`tfjs/fp32/group1-shard${i + 1}of63.bin`, 'weights'));
    const line = writtenSummary([f('tfjs/fp32/model.json', 'model'), ...shards, f('tfjs/fp32/golden.bin', 'golden')]);
    expect(line).toBe('tfjs/fp32/model.json, 63 weight files (tfjs/fp32/group1-shard1of63.bin … group1-shard63of63.bin); + golden set');
    expect(writtenSummary([f('w/model.json', 'model'), f('w/a.bin', 'weights'), f('w/b.bin', 'weights')])).toBe('w/model.json, w/a.bin, w/b.bin');
  });
  it('says what is there and only that', () => {
    expect(writtenSummary([f('onnx/model.fp32.onnx', 'model')])).toBe('onnx/model.fp32.onnx');
    expect(writtenSummary([f('onnx/model.fp32.onnx', 'model'), f('onnx/sf2-ort.js', 'runtime')])).toBe('onnx/model.fp32.onnx; + 1 helper file');
    expect(writtenSummary([f('a/golden.bin', 'golden'), f('b/golden.bin', 'golden')])).toBe('no model file; + 2 golden sets');
  });
});
