/**
 * "Could not verify" is not "parity failed", through the CLI on the smallest
 * fixture (sfnet10):
 *  - no WebGPU adapter at all: /usr/lib/chromium (Chromium and its SwiftShader
 *    Vulkan driver) hidden in a private mount namespace (`unshare -m` + a tmpfs
 *    over it; root only). `--target webgpu` exits 7 (unverified), not 5, with
 *    one short line per bundle file that names the fix; --allow-unverified
 *    exits 0 and the manifest, report and verify say which files are unverified.
 *  - an adapter without shader-f16 (SwiftShader has none): the onnx fp16 run on
 *    onnxruntime-node/webgpu is skipped with that reason, and the run passes.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cli, run } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { ExitCode } from '../../src/errors.js';
import { CHROMIUM_LIB_DIR, gpuEnvCandidates } from '../../src/parity/gpu-env.js';

const MODEL = join(FIXTURES, 'sfnet10.eval.onnx');
const REF = join(FIXTURES, 'sfnet10.npz');
const built = existsSync(join(import.meta.dirname, '../../dist/cli/main.js')) && existsSync(MODEL);

/** Can this process hide a folder in a private mount namespace? (root, unshare permitted, nothing else providing Vulkan) */
function canHideChromium(): boolean {
  if (process.getuid?.() !== 0 || !existsSync(CHROMIUM_LIB_DIR)) return false;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none ${CHROMIUM_LIB_DIR}`], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  // A system Vulkan driver would still give an adapter.
  return gpuEnvCandidates({ ...process.env, VK_ICD_FILENAMES: '' }).every((c) => c.driver === 'swiftshader');
}

/** sf2-export with /usr/lib/chromium hidden: no Chromium, no SwiftShader, no adapter. */
function noAdapterCli(...args: string[]) {
  const env = { ...process.env, CI: 'true' } as NodeJS.ProcessEnv;
  delete env.VK_ICD_FILENAMES;
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none ${CHROMIUM_LIB_DIR} && exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`], { env });
}

describe.skipIf(!built || !canHideChromium())('no WebGPU adapter at all', () => {
  it('--target webgpu exits 7 (unverified), one short line per file naming the fix; --allow-unverified exits 0 and says so', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sf2-noadapter-'));
    const out = join(work, 'b');
    const r = await noAdapterCli(MODEL, '--target', 'webgpu', '--reference', REF, '--out', out);
    expect(r.status, r.stderr.slice(-2000)).toBe(ExitCode.unverified);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning: unverified: '));
    expect(lines.map((l) => l.split(': ')[2])).toEqual(['webgpu/fp32/model.json', 'webgpu/fp16/model.json']);
    for (const l of lines) {
      expect(l.length).toBeLessThan(300 + 'warning: unverified: '.length);
      expect(l).toMatch(/dawn-node\/webgpu: no Vulkan driver/);
      expect(l).toMatch(/fix: apt-get install chromium/);
      // Only this file's target: no onnx or tfjs runtime is named.
      expect(l).not.toMatch(/onnxruntime|tfjs/);
    }
    const err = r.stderr.split('\n').filter((l) => l.startsWith('sf2-export: error:'));
    expect(err).toHaveLength(1);
    expect(err[0]!.length).toBeLessThan(300);
    expect(r.stderr).not.toMatch(/parity failed/);

    const ok = await noAdapterCli(MODEL, '--target', 'webgpu', '--precision', 'fp32', '--reference', REF, '--out', join(work, 'c'), '--allow-unverified');
    expect(ok.status, ok.stderr.slice(-2000)).toBe(0);
    const manifest = JSON.parse(readFileSync(join(work, 'c/manifest.json'), 'utf8'));
    expect(manifest.parity.unverified).toEqual(['webgpu/fp32/model.json']);
    const report = JSON.parse(readFileSync(join(work, 'c/parity-report.json'), 'utf8'));
    expect(report).toMatchObject({ pass: true, allowUnverified: true, uncovered: ['webgpu/fp32/model.json'] });
    expect(report.unverified[0].fix).toMatch(/^apt-get install chromium/);
    const v = await cli('verify', join(work, 'c'));
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/webgpu\/fp32\/model\.json: UNVERIFIED/);
  }, 300_000);
});

describe.skipIf(!built || gpuEnvCandidates().length === 0)('an adapter without shader-f16', () => {
  it('skips the onnx fp16 run on onnxruntime-node/webgpu with that reason, and passes', async (ctx) => {
    const work = mkdtempSync(join(tmpdir(), 'sf2-nof16-'));
    const r = await cli(MODEL, '--target', 'onnx', '--precision', 'fp16', '--runtime', 'onnxruntime-node', '--reference', REF, '--out', join(work, 'b'), '--json');
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const res = JSON.parse(r.stdout);
    const env = JSON.parse(readFileSync(join(work, 'b/parity-report.json'), 'utf8')).environment.runtimes as { id: string; notes?: string[] }[];
    const webgpu = res.parity.skipped.find((s: { runtime: string; reason: string }) => s.runtime === 'onnxruntime-node/webgpu');
    if (!webgpu && res.parity.results.some((x: { runtime: string }) => x.runtime === 'onnxruntime-node/webgpu')) {
      ctx.skip(`this adapter has shader-f16 (${env.find((e) => e.id === 'onnxruntime-node/webgpu')?.notes?.join('; ')})`);
    }
    expect(webgpu.reason).toMatch(/^fp16: the adapter has no shader-f16/);
    expect(webgpu.fix).toMatch(/shader-f16.*--precision fp32,int8/);
    expect(res.parity.results.map((x: { runtime: string; pass: boolean }) => [x.runtime, x.pass])).toEqual([['onnxruntime-node/cpu', true]]);
    expect(res.ok).toBe(true);
  }, 300_000);
});
