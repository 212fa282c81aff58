/**
 * One flag table (src/cli/flags.ts) and what is made from it: the commander
 * options (with --help), the options type of each command, and the config keys.
 * docs/cli.md's rows are checked against it in test/docs/cli-flags.test.ts. Each
 * check is shown to fail on a program or a config that has drifted from the table.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { flagsOf, applyConfig } from '../../src/cli/apply-config.js';
import { configKeys, loadConfig } from '../../src/cli/config.js';
import { thresholdsOf } from '../../src/cli/flag-values.js';
import { COMMANDS, NOT_CONFIG, SUBCOMMANDS, commandName, readsConfig, flagEntries, type CommandName, type OptionsOf } from '../../src/cli/flags.js';
import { silentLogger } from '../../src/log.js';

const NAMES = Object.keys(COMMANDS) as CommandName[];
const commandIn = (program: Command, c: CommandName) => (c === 'export' ? program : program.commands.find((x) => x.name() === commandName(c))!);

/** How a commander command differs from its table entry: one line per difference, [] when none. */
function drift(cmd: Command, c: CommandName): string[] {
  const have = cmd.options.filter((o) => o.long !== '--version');
  const want = flagEntries(c);
  const out: string[] = [];
  if (have.length !== want.length) out.push(`${c}: ${have.length} options, the table has ${want.length}`);
  for (const [i, [key, f]] of want.entries()) {
    const o = have[i];
    if (!o) continue;
    if (o.flags !== f.flags) out.push(`${c} #${i}: ${o.flags} is ${f.flags} in the table`);
    if (o.attributeName() !== key) out.push(`${c} ${f.flags}: attribute ${o.attributeName()}, table key ${key}`);
    if (o.description !== f.description) out.push(`${c} ${f.flags}: description differs`);
    // --no-parity: commander's implied default true; a switch has no other default.
    const dflt = o.negate ? undefined : o.defaultValue;
    if (dflt !== f.default) out.push(`${c} ${f.flags}: default ${String(dflt)}, table ${String(f.default)}`);
    if (o.mandatory !== (f.required === true)) out.push(`${c} ${f.flags}: required differs`);
    if ((f.value === 'switch') !== (!o.required && !o.optional)) out.push(`${c} ${f.flags}: switch differs`);
  }
  return out;
}

const configFile = (obj: unknown) => {
  const p = join(mkdtempSync(join(tmpdir(), 'sf2-flag-table-')), 'sf2-export.config.json');
  writeFileSync(p, JSON.stringify(obj));
  return p;
};

describe('the flag table', () => {
  it('keys every flag by commander\'s attribute name, and lists every command', () => {
    for (const c of NAMES) for (const [key, f] of flagEntries(c)) expect(new Option(f.flags).attributeName(), f.flags).toBe(key);
    expect([...SUBCOMMANDS].sort()).toEqual(NAMES.filter((c) => c !== 'export').sort());
    expect(buildProgram().commands.map((c) => c.name())).toEqual([...SUBCOMMANDS]);
  });

  it('is the commander options of every command, in order, with their defaults', () => {
    const program = buildProgram();
    for (const c of NAMES) expect(drift(commandIn(program, c), c)).toEqual([]);
    // 32 export flags (+ --version): the count the CLI had before the table, so none was lost on the way.
    expect(flagEntries('export')).toHaveLength(32);
    expect(program.options.map((o) => o.long)).toContain('--version');
  });

  it('a commander option added, reworded or re-defaulted outside the table is caught', () => {
    const extra = buildProgram();
    extra.option('--extra', 'not in the table');
    expect(drift(extra, 'export')).toEqual(['export: 33 options, the table has 32']);
    const reworded = buildProgram();
    const serve = reworded.commands.find((c) => c.name() === 'serve')!;
    serve.options[0]!.description = 'another text';
    serve.options[1]!.default('0.0.0.0');
    expect(drift(serve, 'serve')).toEqual(['serve --port <n>: description differs', 'serve --host <addr>: default 0.0.0.0, table 127.0.0.1']);
  });

  it('is what --help prints: every flag with its description (and default)', () => {
    const program = buildProgram();
    for (const c of NAMES) {
      const cmd = commandIn(program, c);
      cmd.configureHelp({ helpWidth: 2000 }); // one line per flag
      const help = cmd.helpInformation();
      for (const [, f] of flagEntries(c)) {
        const line = help.split('\n').find((l) => l.trimStart().startsWith(`${f.flags} `));
        expect(line, `${c} --help: ${f.flags}`).toBeDefined();
        expect(line).toContain(f.description);
        if (f.default !== undefined) expect(line).toContain(`(default: "${f.default}")`);
      }
    }
  });

  it('gives each command its options type, one field per flag (checked by tsc)', () => {
    expectTypeOf<keyof OptionsOf<'export'>>().toEqualTypeOf<keyof (typeof COMMANDS)['export']['flags']>();
    expectTypeOf<keyof OptionsOf<'parity'>>().toEqualTypeOf<keyof (typeof COMMANDS)['parity']['flags']>();
    expectTypeOf<OptionsOf<'export'>['rows']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<OptionsOf<'export'>['parity']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<OptionsOf<'export'>['thresholds']>().toEqualTypeOf<string | object | undefined>();
    expectTypeOf<OptionsOf<'convert'>['out']>().toEqualTypeOf<string>(); // a requiredOption
    expect(flagEntries('convert').find(([k]) => k === 'out')![1].required).toBe(true);
  });

  it('is the config keys: every flag but one run\'s is accepted in a config file, and one run\'s are refused', () => {
    const program = buildProgram();
    for (const c of NAMES.filter(readsConfig)) {
      const flags = flagsOf(commandIn(program, c));
      const keys = flagEntries(c).filter(([, f]) => f.config !== false).map(([k]) => k);
      expect(configKeys(flags).filter((k) => k !== 'targets' && k !== 'precisions')).toEqual([...keys].sort());
      const all = Object.fromEntries(flagEntries(c).filter(([, f]) => f.config !== false).map(([k, f]) => [k, f.value === 'switch' ? false : '7']));
      expect(Object.keys(loadConfig(configFile(all), flags)!.config).sort()).toEqual([...keys].sort());
      for (const [k, f] of flagEntries(c).filter(([, x]) => x.config === false)) {
        expect(NOT_CONFIG).toContain(k);
        expect(() => loadConfig(configFile({ [k]: f.value === 'switch' ? true : 'x' }), flags), `${c} ${k}`).toThrow(/is a flag of one run/);
      }
    }
    // A flag whose table entry says one run's is never a key; a path is resolved against the file's folder.
    const flags = flagsOf(program);
    expect(flags.filter((f) => f.path).map((f) => f.key)).toEqual(['out', 'reference', 'inputs', 'images', 'thresholds', 'calibration', 'signKey', 'config']);
    const p = configFile({ out: 'dist', head: 'h.pth' });
    expect(loadConfig(p, flags)!.config).toEqual({ out: join(p, '..', 'dist'), head: 'h.pth' });
  });

  it('a config key no table flag has is refused, whatever commander has', () => {
    const program = buildProgram();
    program.option('--extra <v>', 'not in the table');
    expect(() => loadConfig(configFile({ extra: 'x' }), flagsOf(program))).toThrow(/unknown key "extra"/);
  });

  it('parity reads a config file\'s "thresholds" object, as the export does', () => {
    const program = buildProgram();
    const parity = program.commands.find((c) => c.name() === 'parity')!;
    parity.setOptionValueWithSource('config', configFile({ thresholds: { fp16: { minCosine: 0.999 } }, minCosine: 'int8=0.98' }), 'cli');
    const merged = applyConfig(parity.opts<OptionsOf<'parity'>>(), parity, silentLogger, program);
    expect(thresholdsOf(merged)).toEqual({ fp16: { minCosine: 0.999 }, int8: { minCosine: 0.98 } });
  });
});
