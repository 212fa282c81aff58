/**
 * docs/cli.md's option tables are the flag table (src/cli/flags.ts) rendered by
 * src/cli/flags-doc.ts: this fails when a row was edited by hand, a flag added
 * to the table without its row, or a row left for a flag that is gone.
 * To rewrite the rows after changing the table:
 *   SF2_WRITE_CLI_DOC=1 npx vitest run test/docs/cli-flags.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, flagEntries, readsConfig, type CommandName } from '../../src/cli/flags.js';
import { docFlag, flagRows, renderCliDoc } from '../../src/cli/flags-doc.js';

const DOC = 'docs/cli.md';

/** The rows of one command's block in a docs/cli.md text, parsed: [option, meaning, default, config key?] per row. */
function blockRows(md: string, command: string): string[][] {
  const a = md.indexOf(`<!-- flags:${command} -->`);
  const b = md.indexOf(`<!-- /flags:${command} -->`);
  expect(a, `block flags:${command}`).toBeGreaterThanOrEqual(0);
  expect(b).toBeGreaterThan(a);
  return md
    .slice(a, b)
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .slice(1) // the header
    .map((l) => l.slice(2, -2).split(/ (?<!\\)\| /).map((c) => c.replace(/\\\|/g, '|')));
}

describe('docs/cli.md option tables', () => {
  it('are what the flag table renders', () => {
    const md = readFileSync(DOC, 'utf8');
    const want = renderCliDoc(md);
    if (process.env.SF2_WRITE_CLI_DOC === '1' && want !== md) writeFileSync(DOC, want);
    else expect(md, 'docs/cli.md differs from the flag table: SF2_WRITE_CLI_DOC=1 npx vitest run test/docs/cli-flags.test.ts').toBe(want);
  });

  it('have one row per flag of each command, in --help order, with its default and config key', () => {
    const md = readFileSync(DOC, 'utf8');
    for (const c of Object.keys(COMMANDS) as CommandName[]) {
      const rows = blockRows(md, c);
      const flags = flagEntries(c);
      expect(rows.map((r) => r[0]), c).toEqual(flags.map(([, f]) => `\`${docFlag(f)}\``));
      for (const [i, [key, f]] of flags.entries()) {
        const row = rows[i]!;
        expect(row[1], `${c} ${f.flags}`).toBe(f.doc ?? f.description);
        expect(row[2]).toBe(f.default === undefined ? '' : `\`${f.default}\``);
        if (readsConfig(c)) expect(row[3], `${c} ${f.flags} config key`).toBe(f.config === false ? '-' : `\`${key}\``);
        else expect(row).toHaveLength(3);
      }
    }
  });

  it('a row edited by hand, or a flag without its row, is caught', () => {
    const md = readFileSync(DOC, 'utf8');
    const edited = md.replace('| `--rows N` |', '| `--rows COUNT` |');
    expect(edited).not.toBe(md);
    expect(renderCliDoc(edited)).not.toBe(edited);
    const row = flagRows('parity').find((r) => r.startsWith('| `--batch N`'))!;
    const dropped = md.replace(`${row}\n`, '');
    expect(dropped).not.toBe(md);
    expect(renderCliDoc(dropped)).toBe(md);
    expect(() => renderCliDoc(md.replace('<!-- flags:serve -->', ''))).toThrow(/flags:serve/);
  });
});
