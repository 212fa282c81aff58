/**
 * Preprocessing options (--color-order, --mean, --std, --preprocess): parsing and
 * refusals (exit 2), and one export that carries them into the manifest, the tfjs
 * metadata, the WebGPU pixel shader and the golden sets, and still verifies.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, UsageError } from '../../src/errors.js';
import { describePreprocess, parsePreprocess } from '../../src/pipeline/preprocess.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';

describe('parsePreprocess', () => {
  it('reads the flags, the spec, config values, and lets a flag override the spec', () => {
    expect(parsePreprocess({})).toBeUndefined();
    expect(parsePreprocess({ preprocess: 'bgr,mean=127.5,std=128' })).toEqual({ colorOrder: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
    expect(parsePreprocess({ preprocess: 'rgb mean=123.675/116.28/103.53 std=58.395/57.12/57.375' })).toEqual({ colorOrder: 'RGB', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] });
    expect(parsePreprocess({ colorOrder: 'BGR', mean: '0', std: 1 })).toEqual({ colorOrder: 'BGR', mean: [0, 0, 0], std: [1, 1, 1] });
    expect(parsePreprocess({ mean: [1, 2, 3] })).toEqual({ colorOrder: 'RGB', mean: [1, 2, 3], std: [127.5, 127.5, 127.5] });
    expect(parsePreprocess({ preprocess: 'bgr,std=128', colorOrder: 'rgb' })!.colorOrder).toBe('RGB');
    expect(describePreprocess(parsePreprocess({ preprocess: 'bgr,mean=127.5,std=128' })!)).toBe('BGR, (x - 127.5) / 128');
  });
  it.each([
    [{ colorOrder: 'rbg' }, /--color-order rbg: expected rgb or bgr/],
    [{ mean: '1,2' }, /--mean 1,2: expected one number or three/],
    [{ std: '0' }, /--std 0: expected one number or three .*each > 0/],
    [{ preprocess: 'bgr,scale=2' }, /--preprocess: unknown item "scale=2"/],
  ])('%j: a usage error (exit 2)', (flags, msg) => {
    let err: unknown;
    try {
      parsePreprocess(flags as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(ExitCode.usage);
    expect((err as Error).message).toMatch(msg);
  });
});

const MODEL = join(FIXTURES, 'families', 'sfnet2023.onnx');
describe.skipIf(!existsSync(MODEL))('export with --preprocess', () => {
  it('BGR, (x - 127.5) / 128: manifest, tfjs metadata, WebGPU shader, golden sets; verify passes', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-pre-')), 'b');
    const r = await cli(MODEL, '--target', 'onnx,tfjs,webgpu', '--precision', 'fp32', '--preprocess', 'bgr,mean=127.5,std=128', '--runtime', 'onnxruntime-node/cpu,tfjs-node/wasm,dawn-node/webgpu', '--rows', '4', '--out', out);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const man = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(man.model.input).toMatchObject({ colorOrder: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
    const tf = JSON.parse(readFileSync(join(out, 'tfjs', 'fp32', 'model.json'), 'utf8')).userDefinedMetadata.sf2Export.input;
    expect(tf).toMatchObject({ colorOrder: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
    const wg = JSON.parse(readFileSync(join(out, 'webgpu', 'fp32', 'model.json'), 'utf8'));
    expect(wg.input).toMatchObject({ colorOrder: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
    // the RGBA pixel shader: network channel 0 (blue first) reads byte 2, divided by 128
    const shaders = JSON.stringify(wg);
    expect(shaders).toContain('let x0 = f32((px[2] - 127.5) / 128.0);');
    expect(shaders).toContain('let x2 = f32((px[0] - 127.5) / 128.0);');
    const v = await cli('verify', out);
    expect(v.code, v.stderr).toBe(0);
  });
});
