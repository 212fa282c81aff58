/**
 * Progress output: bars redrawn in place on a terminal (driven through a
 * pseudo-terminal with util-linux `script`), plain lines in a pipe or CI, and
 * nothing but the JSON object on stdout with --json (logs still on stderr).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURES } from '../helpers/fixtures.js';

const BIN = join(import.meta.dirname, '../../bin/sf2-export.js');
const MODEL = join(FIXTURES, 'sfnet10.eval.onnx');
const REF = join(FIXTURES, 'sfnet10.npz');
const hasScript = existsSync('/usr/bin/script');
const args = (out: string) => [BIN, MODEL, '--target', 'onnx', '--precision', 'fp32', '--device', 'cpu', '--reference', REF, '--out', out];
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe.skipIf(!existsSync(MODEL) || !hasScript)('progress output', () => {
  it('redraws bars in place on a terminal', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-pty-')), 'b');
    const env = { ...process.env, TERM: 'xterm' } as NodeJS.ProcessEnv;
    delete env.CI;
    delete env.NO_COLOR;
    const r = spawnSync('/usr/bin/script', ['-qec', [process.execPath, ...args(out)].map(quote).join(' '), '/dev/null'], { encoding: 'utf8', env });
    expect(r.status, r.stdout).toBe(0);
    const screen = r.stdout;
    expect(screen).toContain('\r\x1b[2K'); // a line redrawn in place
    expect(screen).toContain('✓');
    expect(screen).toMatch(/parity onnx fp32 onnxruntime-node\/cpu.*[█░]/s);
    expect(screen).toContain('\x1b['); // colour on a terminal
  });

  it('prints plain lines when not a terminal (CI)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-pipe-')), 'b');
    const r = spawnSync(process.execPath, args(out), { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain('\x1b[');
    expect(r.stderr).toMatch(/^loading .* \.\.\.$/m);
    // The model file named in full; the golden set and the helpers (sf2-ort.js, .d.ts, package.json) said apart (src/bundle/write-summary.ts).
    expect(r.stderr).toMatch(/^writing onnx fp32: onnx\/model\.fp32\.onnx; \+ golden set, 3 helper files \(\d+\.\d+ s\)$/m);
    expect(r.stderr).toMatch(/^wrote /m);
    expect(r.stdout).toBe(''); // stdout is only for --json
  });

  it('prints nothing but one JSON object on stdout with --json; the logs stay on stderr (docs/cli.md)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sf2-json-')), 'b');
    const r = spawnSync(process.execPath, [...args(out), '--json'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^loading .* \.\.\.$/m);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).ok).toBe(true);
  });
});
