/**
 * Usage errors and --json through the CLI's main() (in process, on src/):
 * no model and `verify` with no path are exit 2 (not a help page that exits 0,
 * not commander's process.exit(1)); a misspelt command gets a suggestion;
 * commander's own errors carry the "sf2-export:" prefix; with --json stdout holds
 * exactly one JSON object for every exit code, and logs stay on stderr.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainCli } from '../helpers/main-cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

const cli = mainCli;

/** stdout must be exactly one line of one JSON object. */
function oneJson(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter(Boolean);
  expect(lines, stdout).toHaveLength(1);
  const o = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(typeof o).toBe('object');
  return o;
}

describe('usage errors (exit 2)', () => {
  it('no arguments, and an empty model path, are usage errors, with the help on stderr', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Usage: sf2-export/);
    expect(r.stderr).toMatch(/sf2-export: error: no model given/);
    const empty = await cli('', '--target', 'web');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/sf2-export: error: the model path is empty/);
  });

  it('verify with no path is exit 2 with the sf2-export: prefix (commander no longer exits the process)', async () => {
    const r = await cli('verify');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("sf2-export: error: missing required argument 'path'\n");
    const o = await cli('pack', '--bogus', 'x');
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/^sf2-export: error: unknown option '--bogus'/);
  });

  it('a misspelt command gets a suggestion', async () => {
    const r = await cli('inspekt', 'model.onnx');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sf2-export: error: unknown command "inspekt" \(did you mean "inspect"\?\)/);
    expect((await cli('verfy')).stderr).toMatch(/did you mean "verify"/);
    // A real file named like a command is still the default command's model.
    const d = mkdtempSync(join(tmpdir(), 'sf2-usage-'));
    writeFileSync(join(d, 'serv'), 'not onnx');
    const cwd = process.cwd();
    process.chdir(d);
    try {
      const f = await cli('serv', '--no-parity');
      expect(f.code).toBe(3); // read as a model, and refused as one
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('--json: one JSON object on stdout for every exit code', () => {
  it('exit 2 (commander and our own usage errors)', async () => {
    for (const args of [['verify', '--json'], ['--json'], ['inspect', 'x.onnx', '--json', '--bogus'], ['parity', '/nonexistent-sf2', '--json', '--reference', 'r.npz']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      const o = oneJson(r.stdout);
      expect(o).toMatchObject({ ok: false, exitCode: 2, error: { code: 'usage' } });
      expect(String((o.error as { message: string }).message)).not.toBe('');
      expect(r.stderr).toMatch(/^sf2-export: /m); // the error stays on stderr too
    }
  });

  it('exit 3 (a file that is not ONNX) carries the message and hint', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sf2-json-'));
    writeFileSync(join(d, 'bad.onnx'), 'not a model');
    const r = await cli('inspect', join(d, 'bad.onnx'), '--json');
    expect(r.code).toBe(3);
    const o = oneJson(r.stdout);
    expect(o).toMatchObject({ ok: false, exitCode: 3 });
    expect((o.error as { message: string }).message).toMatch(/bad\.onnx/);
  });

  it('exit 0: the result on stdout, and the logs on stderr (quiet only with --quiet)', async () => {
    const model = join(FIXTURES, 'sfnet10bn.eval.onnx');
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-json-ok-')), 'b');
    const r = await cli(model, '--precision', 'fp32', '--no-parity', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(oneJson(r.stdout)).toMatchObject({ ok: true, out });
    expect(r.stderr).toMatch(/^loading .*sfnet10bn\.eval\.onnx/m);
    const q = await cli(model, '--precision', 'fp32', '--no-parity', '--out', out, '--force', '--json', '--quiet');
    expect(q.code).toBe(0);
    expect(oneJson(q.stdout).ok).toBe(true);
    expect(q.stderr.split('\n').filter((l) => l && !l.startsWith('warning:'))).toEqual([]);
    const i = await cli('inspect', model, '--json');
    expect(oneJson(i.stdout)).toMatchObject({ ok: true });
  }, 60000);
});
