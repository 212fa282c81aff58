/**
 * sf2-export.config.json keys are derived from the commands' flag tables: every
 * export flag except the per-run ones (NOT_CONFIG) is a key, so a flag added
 * later cannot be missing from the config. `rows` (docs/ci.md) works end to end.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.js';
import { flagsOf, applyConfig } from '../../src/cli/apply-config.js';
import { configKeys, loadConfig, NOT_CONFIG } from '../../src/cli/config.js';
import { silentLogger } from '../../src/log.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { mainCli as cli } from '../helpers/main-cli.js';

const program = buildProgram();
const parity = program.commands.find((c) => c.name() === 'parity')!;
const configFile = (obj: unknown) => {
  const d = mkdtempSync(join(tmpdir(), 'sf2-config-'));
  const p = join(d, 'sf2-export.config.json');
  writeFileSync(p, JSON.stringify(obj));
  return p;
};

describe('config keys from the flag table', () => {
  it('every export flag but the per-run ones is a key, and each is accepted', () => {
    const flags = flagsOf(program);
    const expected = flags.map((f) => f.key).filter((k) => !(NOT_CONFIG as readonly string[]).includes(k));
    expect(expected).toEqual(expect.arrayContaining(['rows', 'runtime', 'minCosine', 'maxFlips', 'int8Scheme', 'sensitivity', 'parity', 'target', 'precision']));
    const keys = configKeys(flags);
    for (const k of expected) expect(keys).toContain(k);
    // One file holding every key loads (values by the flag's kind).
    const all = Object.fromEntries(flags.filter((f) => expected.includes(f.key)).map((f) => [f.key, f.boolean ? false : f.key === 'rows' ? 8 : 'x']));
    const loaded = loadConfig(configFile(all), flags)!;
    expect(Object.keys(loaded.config).sort()).toEqual([...expected].sort());
    expect(loaded.config.rows).toBe('8');
    expect(loaded.config.parity).toBe(false);
  });

  it('per-run flags and misspelt keys are refused with a reason', () => {
    expect(() => loadConfig(configFile({ json: true }), flagsOf(program))).toThrow(/"json" is a flag of one run/);
    expect(() => loadConfig(configFile({ rowz: 8 }), flagsOf(program))).toThrow(/unknown key "rowz" \(did you mean "rows"\?\)/);
    expect(() => loadConfig(configFile({ parity: 'no' }), flagsOf(program))).toThrow(/"parity" must be true or false/);
    expect(loadConfig(configFile({ runtime: ['onnxruntime-node', 'dawn-node/webgpu'], rows: 8 }), flagsOf(program))!.config).toMatchObject({ runtime: 'onnxruntime-node,dawn-node/webgpu', rows: '8' });
    expect(() => loadConfig(configFile({ rows: { n: 8 } }), flagsOf(program))).toThrow(/"rows" must be a string/);
    expect(() => loadConfig(configFile({ targets: 'web', target: 'onnx' }), flagsOf(program))).toThrow(/same option/);
  });

  it('the parity command reads the same file: its own keys apply, the export-only ones are ignored', () => {
    const path = configFile({ rows: 4, target: 'web', out: 'dist', runtime: ['onnxruntime-node'] });
    parity.setOptionValueWithSource('config', path, 'cli');
    const merged = applyConfig(parity.opts(), parity, silentLogger, program);
    expect(merged).toMatchObject({ rows: '4', runtime: 'onnxruntime-node' });
    expect(merged).not.toHaveProperty('target');
    expect(() => loadConfig(path, flagsOf(parity))).toThrow(/unknown key "target"/); // without the shared table
  });

  it('"rows" in the config limits the export\'s parity rows (it was refused as an unknown key)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sf2-config-rows-'));
    const path = configFile({ rows: 6, precision: 'fp32', device: 'cpu', reference: join(FIXTURES, 'sfnet10bn.npz'), out: join(d, 'b') });
    const r = await cli(join(FIXTURES, 'sfnet10bn.eval.onnx'), '--config', path, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { parity: { results: { rows: number }[] } };
    expect(o.parity.results.length).toBeGreaterThan(0);
    for (const x of o.parity.results) expect(x.rows).toBe(6);
  }, 120000);
});
