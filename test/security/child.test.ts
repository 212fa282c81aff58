/**
 * Issue 16 items 3 and 9: parity workers never run code from the filesystem
 * (a file planted in a shared $TMPDIR is never executed: the program travels
 * over the private IPC channel), and a worker ends when its parent is killed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildWorker } from '../../src/parity/child.js';

const work = mkdtempSync(join(tmpdir(), 'sf2-sec-child-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('parity workers', () => {
  it('run only the program the parent sends, and write nothing to $TMPDIR', async () => {
    const shared = join(work, 'shared-tmp');
    // An attacker pre-creates the old worker folder with planted programs.
    mkdirSync(join(shared, 'sf2-export-workers'), { recursive: true });
    const marker = join(work, 'planted-ran');
    for (let i = 0; i < 4; i++) writeFileSync(join(shared, 'sf2-export-workers', `w-${'0123456789abcdef'.slice(i)}.mjs`), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');`);
    const before = readdirSync(shared, { recursive: true }).sort();
    const old = process.env.TMPDIR;
    process.env.TMPDIR = shared;
    try {
      const w = await ChildWorker.start('export const handlers = { async argv() { return process.argv.slice(1); }, async twice(x) { return x.map((v) => v * 2); } };', { name: 'test' });
      expect(await w.call('twice', new Float32Array([1.5, -2]))).toEqual(new Float32Array([3, -4]));
      const argv = await w.call<string[]>('argv');
      expect(argv.some((a) => a.endsWith('.mjs'))).toBe(false);
      await w.close();
    } finally {
      if (old === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = old;
    }
    expect(readdirSync(shared, { recursive: true }).sort()).toEqual(before);
    expect(readdirSync(work)).not.toContain('planted-ran');
  });

  it('ends when its parent is killed with SIGKILL', async () => {
    const viteNode = join(import.meta.dirname, '../../node_modules/.bin/vite-node');
    const parent = spawn(viteNode, [join(import.meta.dirname, 'programs/parent-of-worker.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', (c) => reject(new Error(`parent exited ${c} before printing: ${out}`)));
    });
    expect(alive(childPid)).toBe(true);
    process.kill(parent.pid!, 'SIGKILL');
    const t0 = Date.now();
    while (alive(childPid) && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 100));
    expect(alive(childPid)).toBe(false);
  }, 60000);
});
