/**
 * The Node example of docs/targets.md ("## WebGPU" / "### In Node"), run as
 * written: a folder with the example as embed.mjs and a bundle at ./out, started
 * with `node embed.mjs` in the Vulkan environment of src/parity/gpu-env.ts.
 * (create([]): no SwiftShader flags, so this is also the slow-compile path.)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuEnvCandidates } from '../../../src/parity/gpu-env.js';
import { dawnUnavailable, writeBundle } from './harness.js';
import { tinyFace } from './models.js';

const root = resolve(import.meta.dirname, '../../..');
const why = await dawnUnavailable();

/** The first ```js block after `heading` in docs/targets.md. */
function example(heading: string): string {
  const doc = readFileSync(join(root, 'docs/targets.md'), 'utf8');
  const at = doc.indexOf(heading, doc.indexOf('## WebGPU'));
  if (at < 0) throw new Error(`docs/targets.md has no "${heading}" in its WebGPU section`);
  const m = /```js\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!m) throw new Error(`no js block after "${heading}"`);
  return m[1]!;
}

describe.skipIf(!!why)('docs/targets.md, WebGPU in Node', () => {
  it('runs exactly as documented: sf2.js from DIR/webgpu/fp32 with { manifest, weights } read from disk and a Dawn device', async () => {
    const b = await writeBundle(tinyFace(), ['fp32']);
    const dir = mkdtempSync(join(tmpdir(), 'sf2-docs-'));
    try {
      cpSync(b.dir, join(dir, 'out'), { recursive: true });
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(join(dir, 'embed.mjs'), example('### In Node'));
      const env = gpuEnvCandidates()[0]!.env;
      const r = spawnSync(process.execPath, ['embed.mjs'], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      // console.log(model.info.adapter, raw.length, unit.length): 2 faces x 16 dims, twice.
      expect(r.stdout).toMatch(/vendor: '.+'/);
      expect(r.stdout.trim().endsWith('32 32')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      b.cleanup();
    }
  }, 320_000);
});
