/**
 * Issue 16 items 1, 2, 9 and 10 (--out): --force replaces only a previous
 * sf2-export bundle; the model's folder, the working directory and their
 * parents are refused; the output is taken atomically (a second writer is
 * refused, a folder that appears meanwhile is left alone); leftovers of dead
 * processes are cleaned; an unwritable --out is refused before any work.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleDir, cleanStale, notABundle, preflight } from '../../src/bundle/bundle-dir.js';
import { exportModel } from '../../src/pipeline/export.js';
import { Sf2Error } from '../../src/errors.js';

const work = mkdtempSync(join(tmpdir(), 'sf2-sec-out-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fakeBundle(dir: string, extra?: string): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx/model.fp32.onnx'), 'x');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ tool: { name: 'sf2-export' }, files: [{ path: 'onnx/model.fp32.onnx' }] }));
  if (extra) writeFileSync(join(dir, extra), 'user data');
}

function code(fn: () => unknown): number | string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof Sf2Error ? e.exitCode : `not an Sf2Error: ${(e as Error).message}`;
  }
}

describe('--force and --out', () => {
  it('refuses the model folder, its parents and the working directory, even with --force, and deletes nothing', async () => {
    const models = join(work, 'proj', 'models');
    mkdirSync(models, { recursive: true });
    const model = join(models, 'm.onnx');
    copyFileSync(join(import.meta.dirname, '../../fixtures/sfnet10.eval.onnx'), model);
    writeFileSync(join(models, 'notes.txt'), 'keep me');
    for (const out of [models, join(work, 'proj'), work, process.cwd(), '.', '..']) {
      await expect(exportModel(model, { out, force: true, targets: ['onnx'], precisions: ['fp32'], skipParity: true })).rejects.toMatchObject({ exitCode: 2 });
    }
    expect(readdirSync(models).sort()).toEqual(['m.onnx', 'notes.txt']);
  });

  it('with --force replaces a previous bundle, an empty folder, and nothing else', () => {
    const bundle = join(work, 'b1');
    fakeBundle(bundle);
    expect(notABundle(bundle)).toBeUndefined();
    mkdirSync(join(work, 'empty', 'sub'), { recursive: true });
    expect(notABundle(join(work, 'empty'))).toBeUndefined();

    const tampered = join(work, 'b2');
    fakeBundle(tampered, 'thesis.tex');
    expect(notABundle(tampered)).toMatch(/not part of the bundle \(thesis\.tex\)/);
    const plain = join(work, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'a.txt'), 'a');
    expect(notABundle(plain)).toMatch(/no sf2-export manifest/);
    const foreign = join(work, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'manifest.json'), JSON.stringify({ name: 'some-web-app', files: [] }));
    expect(notABundle(foreign)).toMatch(/did not write/);

    for (const d of [tampered, plain, foreign]) expect(code(() => preflight(d, { force: true }))).toBe(2);
    expect(code(() => preflight(bundle, {}))).toBe(2); // exists, no --force
    expect(existsSync(join(tampered, 'thesis.tex')) && existsSync(join(plain, 'a.txt'))).toBe(true);

    const d = BundleDir.open(bundle, { force: true });
    writeFileSync(join(d.tmp, 'manifest.json'), '{}');
    d.commit();
    expect(readdirSync(bundle)).toEqual(['manifest.json']);
    expect(readdirSync(work).filter((n) => n.startsWith('.b1.'))).toEqual([]);
  });

  it('refuses a second writer to the same --out and a folder that appears while exporting', () => {
    const out = join(work, 'race');
    const a = BundleDir.open(out, { force: false });
    expect(() => BundleDir.open(out, { force: true })).toThrow(/another sf2-export \(pid \d+\) is writing/);
    // A user's folder appears at --out during the export: left alone, the export is refused.
    mkdirSync(out);
    writeFileSync(join(out, 'precious.txt'), 'mine');
    writeFileSync(join(a.tmp, 'manifest.json'), '{}');
    expect(code(() => a.commit())).toBe(2);
    a.abort();
    expect(readdirSync(out)).toEqual(['precious.txt']);
    // The lock is released: a new run can start (and is refused for the existing folder, not the lock).
    expect(() => BundleDir.open(out, { force: false })).toThrow(/already exists/);
  });

  it('with --force at commit, re-checks that what is there is still a bundle', () => {
    const out = join(work, 'swap');
    fakeBundle(out);
    const d = BundleDir.open(out, { force: true });
    writeFileSync(join(out, 'added-meanwhile.txt'), 'mine');
    expect(code(() => d.commit())).toBe(2);
    d.abort();
    expect(existsSync(join(out, 'added-meanwhile.txt'))).toBe(true);
  });

  it('removes temporary folders and locks of dead processes, not of live ones', () => {
    const out = join(work, 'stale');
    // A pid that certainly ended: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();
    mkdirSync(join(work, `.stale.tmp-${dead}-0123abcd`, 'onnx'), { recursive: true });
    writeFileSync(join(work, `.stale.tmp-${dead}-0123abcd`, 'onnx', 'model.fp32.onnx'), 'half');
    writeFileSync(join(work, '.stale.sf2-lock'), `${dead}\n`);
    mkdirSync(join(work, `.stale.tmp-${process.pid}-89abcdef`));
    mkdirSync(join(work, '.stale.tmp-notes')); // not ours: never touched
    expect(cleanStale(out).sort()).toEqual([`.stale.sf2-lock`, `.stale.tmp-${dead}-0123abcd`]);
    expect(existsSync(join(work, `.stale.tmp-${process.pid}-89abcdef`))).toBe(true);
    expect(existsSync(join(work, '.stale.tmp-notes'))).toBe(true);
    const d = BundleDir.open(out, { force: false }); // a stale lock does not block
    d.abort();
  });

  it.skipIf(process.getuid?.() === 0)('refuses an unwritable --out before any work', () => {
    const ro = join(work, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    expect(() => preflight(join(ro, 'out'), {})).toThrow(/cannot write in/);
    chmodSync(ro, 0o755);
  });

  it('refuses an --out under a file (ENOTDIR) before any work', () => {
    writeFileSync(join(work, 'afile'), 'x');
    expect(() => preflight(join(work, 'afile', 'out'), {})).toThrow(/cannot write in .*ENOTDIR/);
  });
});
