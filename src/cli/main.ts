/**
 * The command line. Each command is a plain async function in its own file,
 * imported when used. Errors are caught here and only here, and mapped to exit
 * codes by `exitCodeFor` (src/errors.ts); stack traces only with --verbose.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, Sf2Error, exitCodeFor, UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { TOOL_VERSION } from '../version.js';
import { existsSync } from 'node:fs';
import { suggest } from './suggest.js';
import { emitJson, jsonPayloadOf } from './json-out.js';
import { COMMANDS, SUBCOMMANDS, flagEntries, type CommandName, type CommandSpec, type OptionsOf } from './flags.js';

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export async function main(argv: readonly string[]): Promise<number> {
  let log: Logger = createLogger({});
  let verbose = argv.includes('--verbose');
  let code: number = ExitCode.ok;
  const run = (fn: (log: Logger) => Promise<number>, g: GlobalOpts) => async () => {
    log = createLogger({ json: g.json, quiet: g.quiet, verbose: g.verbose });
    verbose = !!g.verbose;
    code = await fn(log);
  };
  const program = buildProgram(run);
  // --json: exactly one JSON object on stdout, whatever the exit code (a failure included).
  const json = argv.includes('--json');
  try {
    misspeltCommand(argv, program);
    await program.parseAsync(argv as string[], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (json) emitJson(failureJson(ExitCode.usage, 'usage', e.message.replace(/^error: /, '')));
      return ExitCode.usage;
    }
    if (e instanceof Sf2Error) {
      process.stderr.write(`sf2-export: error: ${e.oneLine()}\n`);
      if (verbose && e.stack) process.stderr.write(e.stack + '\n');
      if (json) emitJson({ ...jsonPayloadOf(e), ...failureJson(e.exitCode, e.code, e.message, e.hint) });
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`sf2-export: internal error: ${err?.message ?? String(e)} (this is a bug in sf2-export; rerun with --verbose and report it)\n`);
    if (verbose && err?.stack) process.stderr.write(err.stack + '\n');
    if (json) emitJson(failureJson(exitCodeFor(e), 'internal', err?.message ?? String(e), 'this is a bug in sf2-export; rerun with --verbose and report it'));
    return exitCodeFor(e);
  }
}

/** The --json object of a failure: `ok: false`, the exit code, and the error (what, and how to fix it). */
function failureJson(exitCode: number, code: string, message: string, hint?: string): Record<string, unknown> {
  return { ok: false, exitCode, error: { code, message: message.replace(/\s*\n\s*/g, ' ').trim(), ...(hint ? { hint } : {}) } };
}

/**
 * `sf2-export inspekt model.onnx`: the default command would take "inspekt" for
 * a model path. A first argument that is not a file but is close to a command
 * name is a usage error with a suggestion.
 */
function misspeltCommand(argv: readonly string[], program: Command): void {
  const first = argv[0];
  if (!first || first.startsWith('-') || existsSync(first) || /[./\\]/.test(first)) return; // a path (with a dot or a slash) is a model, never a command
  const names = program.commands.map((c) => c.name());
  if (names.includes(first)) return;
  const hint = suggest(first, names);
  if (hint) throw new UsageError(`unknown command "${first}"${hint}`, `commands: ${names.join(', ')}; sf2-export --help lists them`);
}

export type Runner = (fn: (log: Logger) => Promise<number>, g: GlobalOpts) => () => Promise<void>;

/** What a subcommand does with its argument and options (each imported when used). */
type Actions = { [C in (typeof SUBCOMMANDS)[number]]: (arg: string, opts: OptionsOf<C>, log: Logger, program: Command, cmd: Command) => Promise<number> };

const ACTIONS: Actions = {
  inspect: async (model, opts, log) => (await import('./inspect.js')).inspectCommand(model, opts, log),
  convert: async (model, opts, log) => (await import('./convert.js')).convertCommand(model, opts, log),
  pack: async (dir, opts, log) => (await import('./pack.js')).packCommand(dir, opts, log),
  parity: async (dir, opts, log, program, cmd) => {
    const { applyConfig } = await import('./apply-config.js');
    // The file is shared with the export: its keys this command lacks are ignored.
    return (await import('./parity.js')).parityCommand(dir, applyConfig(opts, cmd, log, program), log);
  },
  verify: async (path, opts, log) => (await import('./verify.js')).verifyCommand(path, opts, log),
  serve: async (dir, opts, log) => (await import('./serve.js')).serveCommand(dir, opts, log),
};

/** A command's argument, flags and examples, from the flag table (flags.ts). */
function fromTable(cmd: Command, name: CommandName): Command {
  const spec: CommandSpec = COMMANDS[name];
  if (spec.description !== undefined) cmd.description(spec.description);
  cmd.argument(...spec.argument);
  for (const [, f] of flagEntries(name)) {
    if (f.required) cmd.requiredOption(f.flags, f.description, f.default);
    else cmd.option(f.flags, f.description, f.default);
  }
  return cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}\n`).join('')}`);
}

/** The command tree (exported for the tests that derive the config keys from it). */
export function buildProgram(run: Runner = () => async () => {}): Command {
  const program = new Command('sf2-export')
    .description('Turn a SphereFace2 ONNX export into verified web bundles (ONNX, TensorFlow.js, WebGPU).')
    .version(TOOL_VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    // Set before the commands are added, so every subcommand inherits them: commander's
    // own errors (a missing argument, an unknown option) then come back here as exit 2
    // instead of a process.exit(1), and carry the same "sf2-export:" prefix as ours.
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
      outputError: (s, write) => write(`sf2-export: ${s}`),
    });

  fromTable(program, 'export').action(async (model: string | undefined, opts: OptionsOf<'export'>, cmd: Command) => {
    if (!model) {
      // No model (`sf2-export`, or `sf2-export "$MODEL"` with MODEL empty) is a usage error: exit 2, not a help page that exits 0.
      program.outputHelp({ error: true });
      throw new UsageError(model === '' ? 'the model path is empty' : 'no model given', 'usage: sf2-export <model.onnx> [options]; sf2-export --help lists the commands');
    }
    await run(async (log) => {
      const { applyConfig } = await import('./apply-config.js');
      const merged = applyConfig(opts, cmd, log, cmd.commands.find((c) => c.name() === 'parity'));
      return (await import('./export.js')).exportCommand(model, merged, log);
    }, opts)();
  });

  for (const name of SUBCOMMANDS) {
    const action = ACTIONS[name] as (arg: string, opts: GlobalOpts, log: Logger, program: Command, cmd: Command) => Promise<number>;
    fromTable(program.command(name), name).action(async (arg: string, opts: GlobalOpts, cmd: Command) => {
      await run(async (log) => action(arg, opts, log, program, cmd), opts)();
    });
  }
  return program;
}
