/**
 * The option tables of docs/cli.md, rendered from the flag table (flags.ts).
 * Each command's rows sit between two markers,
 *   <!-- flags:NAME -->  ...  <!-- /flags:NAME -->
 * and are one row per flag, in --help order:
 *   | `-t, --target LIST` | meaning | default | config key |
 * the flag as commander spells it with its argument written as the docs do
 * (`docArg`, else the argument in capitals), the docs' meaning (`doc`, else the
 * --help line), commander's default, and, for a command that reads
 * sf2-export.config.json, the config key (- for one run's flags).
 * test/docs/cli-flags.test.ts fails when docs/cli.md differs from this rendering.
 */
import { COMMANDS, flagEntries, readsConfig, type CommandName, type FlagSpec } from './flags.js';

/** The docs' spelling of a flag: `--out <dir>` -> `--out DIR`, or its docArg. */
export function docFlag(f: FlagSpec): string {
  return f.flags.replace(/[<[]([^>\]]+)[>\]]/, (_, arg: string) => f.docArg ?? arg.toUpperCase());
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The markdown rows of one command's flags, the header included. */
export function flagRows(command: CommandName): string[] {
  const config = readsConfig(command);
  const head = config ? ['| option | meaning | default | config key |', '|---|---|---|---|'] : ['| option | meaning | default |', '|---|---|---|'];
  const rows = flagEntries(command).map(([key, f]) => {
    const cols = [`\`${cell(docFlag(f))}\``, cell(f.doc ?? f.description), f.default === undefined ? '' : `\`${cell(f.default)}\``];
    if (config) cols.push(f.config === false ? '-' : `\`${key}\``);
    return `| ${cols.join(' | ')} |`;
  });
  return [...head, ...rows];
}

const open = (c: string) => `<!-- flags:${c} -->`;
const close = (c: string) => `<!-- /flags:${c} -->`;

/** docs/cli.md with every command's block re-rendered from the table; throws when a block is missing. */
export function renderCliDoc(md: string): string {
  let out = md;
  for (const c of Object.keys(COMMANDS) as CommandName[]) {
    const a = out.indexOf(open(c));
    const b = out.indexOf(close(c));
    if (a < 0 || b < a) throw new Error(`docs/cli.md: no ${open(c)} ... ${close(c)} block for the ${c} flags`);
    out = `${out.slice(0, a)}${open(c)}\n${flagRows(c).join('\n')}\n${out.slice(b)}`;
  }
  return out;
}
