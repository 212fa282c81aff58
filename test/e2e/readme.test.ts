/**
 * The README's first command (without its `npm ci`, which CI has just run):
 * the main job on a shipped fixture, then verify of the bundle it wrote.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../..');

function firstCommand(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  const main = blocks.find((b) => b.startsWith('npm ci') && b.includes('--target web'));
  if (!main) throw new Error('README has no `npm ci && ... --target web` command');
  return main;
}

describe('README', () => {
  it('the first command exports a fixture to every target and the bundle verifies', async () => {
    const cmd = firstCommand().replace(/^npm ci && /, '');
    expect(cmd).toMatch(/verify/);
    const r = await run('bash', ['-c', cmd], { cwd: ROOT });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/parity passed/);
    expect(r.stderr + r.stdout).toMatch(/verified .*sf2-dist\/iresnet18/);
  }, 900_000);
});
