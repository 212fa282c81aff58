/**
 * As users get it: `npm pack`, the tarball installed into a fresh `npm init -y`
 * app (CommonJS: npm writes "type": "commonjs") with nothing else, then through
 * npx: the default export and `--target web` on the smallest fixture exit 0,
 * the WebGPU bundle was run by at least one runtime, `verify` passes, and the
 * Node snippet of docs/targets.md (and a CommonJS `import()` of sf2.js) runs
 * from that app.
 *
 * ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's install script would
 * download CUDA files from outside the npm registry (README, install notes).
 * `npm pack --ignore-scripts` packs dist/ as built (npm ci / npm run build).
 * Slow (an install of the whole dependency tree, ~1.5 min with a warm npm
 * cache, and two exports): one test file, the smallest fixture, one pass.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { gpuEnvCandidates } from '../../src/parity/gpu-env.js';

const ROOT = join(import.meta.dirname, '../..');
const MODEL = join(FIXTURES, 'sfnet10.eval.onnx');
const REF = join(FIXTURES, 'sfnet10.npz');
const ready = existsSync(join(ROOT, 'dist/cli/main.js')) && existsSync(MODEL);

let app = '';
const env = () => ({ ...process.env, CI: 'true', ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false' }) as NodeJS.ProcessEnv;
const npx = (...args: string[]) => run('npx', ['--no-install', 'sf2-export', ...args], { cwd: app, env: env() });

/** The "In Node" example of docs/targets.md, verbatim but for the bundle folder. */
function docsNodeSnippet(bundle: string): string {
  const md = readFileSync(join(ROOT, 'docs/targets.md'), 'utf8');
  const m = /```js\n(\/\/ embed\.mjs[^]*?)```/.exec(md);
  if (!m) throw new Error('docs/targets.md has no "// embed.mjs" Node example');
  return m[1]!.replaceAll('./out/', `./${bundle}/`);
}

describe.skipIf(!ready)('the packed tarball in a fresh CommonJS app', () => {
  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'sf2-packaged-'));
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, env: env() });
    expect(packed.status, packed.stderr).toBe(0);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    app = join(work, 'app');
    mkdirSync(app);
    expect((await run('npm', ['init', '-y'], { cwd: app, env: env() })).status).toBe(0);
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).type ?? 'commonjs').toBe('commonjs');
    const inst = await run('npm', ['install', '--prefer-offline', join(work, tgz)], { cwd: app, env: env() });
    expect(inst.status, inst.stderr.slice(-2000)).toBe(0);
  }, 900_000);

  it('the default export exits 0 and verifies', async () => {
    const r = await npx(MODEL, '--reference', REF, '--out', 'b1', '--json');
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.ok).toBe(true);
    // fp16 on an adapter without shader-f16 is a skip with that reason, not a failure.
    for (const s of res.parity.skipped as { runtime: string; reason: string }[]) expect(s.reason).not.toMatch(/^$/);
    const v = await npx('verify', 'b1');
    expect(v.status, v.stderr).toBe(0);
  }, 300_000);

  it('--target web exits 0, the WebGPU bundle runs on a runtime, verify passes, and the docs snippet runs', async () => {
    const r = await npx(MODEL, '--target', 'web', '--reference', REF, '--out', 'b2', '--json');
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.ok).toBe(true);
    const webgpu = (res.parity.results as { target: string; pass: boolean; runtime: string }[]).filter((x) => x.target === 'webgpu');
    expect(webgpu.length).toBeGreaterThan(0);
    expect(webgpu.every((x) => x.pass)).toBe(true);
    const v = await npx('verify', 'b2');
    expect(v.status, v.stderr).toBe(0);

    // sf2.js is an ES module in a CommonJS app: its folder's package.json says so.
    expect(JSON.parse(readFileSync(join(app, 'b2/webgpu/fp32/package.json'), 'utf8'))).toEqual({ type: 'module' });
    const gpu = gpuEnvCandidates()[0];
    if (!gpu) return; // no Vulkan at all: the export above skipped the GPU runtimes and said so
    writeFileSync(join(app, 'embed.mjs'), docsNodeSnippet('b2'));
    const snip = await run(process.execPath, ['embed.mjs'], { cwd: app, env: { ...gpu.env } });
    expect(snip.status, snip.stderr.slice(-2000)).toBe(0);
    // console.log(model.info.adapter, raw.length, unit.length): 2 faces x D each.
    const dim = JSON.parse(readFileSync(join(app, 'b2/manifest.json'), 'utf8')).model.embeddingDim as number;
    expect(snip.stdout.trim().endsWith(`${2 * dim} ${2 * dim}`), snip.stdout).toBe(true);
    // A CommonJS file of the app loads it with import().
    writeFileSync(join(app, 'load.cjs'), "import('./b2/webgpu/fp32/sf2.js').then((m) => { console.log(typeof m.load); });\n");
    const cjs = await run(process.execPath, ['load.cjs'], { cwd: app, env: env() });
    expect(cjs.stdout.trim(), cjs.stderr).toBe('function');
  }, 600_000);

  it("the GitHub Action's export script (action.yml) writes its outputs and the job summary", async () => {
    const ghOut = join(app, 'gh-output'), summary = join(app, 'gh-summary.md');
    writeFileSync(ghOut, '');
    writeFileSync(summary, '');
    const r = await run('bash', [join(ROOT, 'scripts/action-export.sh')], {
      cwd: app,
      env: { ...env(), SF2_MODEL: MODEL, SF2_TARGET: 'onnx', SF2_REFERENCE: REF, SF2_PRECISION: 'fp32', SF2_OUT: 'b3', SF2_PACKAGE: '', GITHUB_OUTPUT: ghOut, GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(readFileSync(ghOut, 'utf8').trim().split('\n')).toEqual(['bundle=b3', 'pass=true', 'exit-code=0']);
    expect(readFileSync(summary, 'utf8')).toBe(readFileSync(join(app, 'b3/parity-report.md'), 'utf8'));
  }, 300_000);
});
