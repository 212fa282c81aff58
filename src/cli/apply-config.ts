/**
 * Merge sf2-export.config.json into a command's options: a flag given on the
 * command line wins. The keys come from the command's own flags in the flag
 * table (flags.ts), so a new flag is a config key without any list to update.
 */
import type { Command } from 'commander';
import { configKeys, loadConfig, type ConfigFlag } from './config.js';
import { commandOf, flagEntries } from './flags.js';
import type { Logger } from '../log.js';

/** A commander command's flags, from the flag table, as config.ts needs them. */
export function flagsOf(cmd: Command): ConfigFlag[] {
  const name = commandOf(cmd.name());
  if (!name) return [];
  // A switch (--force, --no-parity) takes no value: its config value is true or false.
  return flagEntries(name).map(([key, f]) => ({ key, boolean: f.value === 'switch', path: f.value === 'path' || f.value === 'thresholds', object: f.value === 'thresholds' }));
}

/**
 * `opts` with the config file's values for every option not given on the
 * command line. `shared`: the file is another command's (the export's); keys
 * of that command's flags that this one lacks are ignored.
 */
export function applyConfig<T extends Record<string, unknown>>(
  opts: T,
  cmd: Command,
  log: Logger,
  shared?: Command,
): T {
  const others = shared ? configKeys(flagsOf(shared)) : [];
  const loaded = loadConfig(opts.config as string | undefined, flagsOf(cmd), process.cwd(), { ignore: others });
  const out: Record<string, unknown> = { ...opts };
  if (!loaded) return out as T;
  log.debug(`config: ${loaded.path}`);
  for (const [flag, v] of Object.entries(loaded.config)) {
    if (cmd.getOptionValueSource(flag) === 'cli') continue; // the command line wins
    out[flag] = v;
  }
  return out as T;
}
