/**
 * The input model's sha256 is hashed on a worker thread (src/bundle/source-digest.ts)
 * by the one owner of a file's digest (src/data/sha256.ts), which the worker imports.
 * Run from the built package, as users get it: the worker answers, with the
 * digest node:crypto computes over the whole file; a missing file rejects.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/cli.js';

const DIST = join(import.meta.dirname, '../../dist/bundle/source-digest.js');
const FILE = join(import.meta.dirname, '../../fixtures/iresnet18.eval.onnx');

const PROBE = `
import { Worker } from 'node:worker_threads';
const emit = Worker.prototype.emit;
let by = 'this thread';
Worker.prototype.emit = function (ev, ...a) { if (ev === 'message') by = 'worker'; return emit.call(this, ev, ...a); };
const { sha256FileInBackground } = await import(process.argv[1]);
const digest = await sha256FileInBackground(process.argv[2]);
let missing = 'resolved';
try { await sha256FileInBackground(process.argv[2] + '.missing'); } catch (e) { missing = e.code; }
console.log(JSON.stringify({ digest, by, missing }));
`;

describe('sha256FileInBackground (built package)', () => {
  it.skipIf(!existsSync(DIST))('hashes on the worker with the shared owner, and rejects a missing file', async () => {
    const r = await run(process.execPath, ['--input-type=module', '-e', PROBE, DIST, FILE]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { digest: string; by: string; missing: string };
    expect(out.digest).toBe(createHash('sha256').update(readFileSync(FILE)).digest('hex'));
    expect(out.by).toBe('worker');
    expect(out.missing).toBe('ENOENT');
  });
});
