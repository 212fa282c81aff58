/**
 * sf2-export.config.json: the options a CI job wants pinned. Looked up as
 * `--config FILE`, else ./sf2-export.config.json when it exists. Command-line
 * flags override it. Unknown keys are an error (with a suggestion), so a typo
 * never silently drops a threshold.
 *
 * The keys are not a second list to keep in step: they are the command's own
 * flags (the flag table, flags.ts), by their camelCase names, minus the ones
 * that only make sense for one run (`config: false` there: NOT_CONFIG). So every
 * flag a CI job would pin is a key, today and for every flag added later:
 *
 * {
 *   "target": "web" | ["onnx", "tfjs"],  ("targets" too)
 *   "precision": ["fp32", "fp16"],        ("precisions" too)
 *   "out": "dist/model", "reference": "ref.npz", "rows": 8, "device": "cpu",
 *   "runtime": ["onnxruntime-node"], "minCosine": "int8=0.98", "parity": false,
 *   "thresholds": { "fp32": { "minCosine": 0.99999 } } | "thresholds.json", ...
 * }
 * Values: a string, a number (written as the flag would be), a list of strings
 * or numbers for a comma-list flag (written comma-joined), true/false for a switch; "thresholds" also takes the
 * object a --thresholds file holds. Relative paths are relative to the config
 * file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { suggest } from './suggest.js';
import { CONFIG_FILE, NOT_CONFIG } from './flags.js';

export { CONFIG_FILE, NOT_CONFIG };

/** Older plural key names, kept: config key -> flag key. */
export const KEY_ALIASES: Readonly<Record<string, string>> = { targets: 'target', precisions: 'precision' };

/** What a config key may hold, from the flag's kind (its `value` in the flag table). */
export interface ConfigFlag {
  /** commander's attribute name (camelCase of the long flag). */
  readonly key: string;
  /** true for a switch (--force, --no-parity): the value is a boolean. */
  readonly boolean: boolean;
  /** a file or folder path: resolved against the config file's folder. */
  readonly path?: boolean;
  /** --thresholds: the value may also be the object such a file holds. */
  readonly object?: boolean;
}

export type Config = Record<string, unknown>;

/** The config keys a command accepts: its flags minus NOT_CONFIG, plus the aliases of those it has. */
export function configKeys(flags: readonly ConfigFlag[]): string[] {
  const keys = flags.map((f) => f.key).filter((k) => !(NOT_CONFIG as readonly string[]).includes(k));
  const aliases = Object.entries(KEY_ALIASES).filter(([, flag]) => keys.includes(flag)).map(([a]) => a);
  return [...new Set([...keys, ...aliases])].sort();
}

/**
 * Read and check the config file. Returns flag key -> value as the flag would
 * give it (a string, or a boolean for a switch; "thresholds" may stay an object).
 * With `ignoreUnknown`, keys of other commands' flags are ignored rather than
 * refused (the parity command shares the export's file), but a key that is no
 * command's flag is still an error.
 */
export function loadConfig(
  explicit: string | undefined,
  flags: readonly ConfigFlag[],
  cwd = process.cwd(),
  options: { ignore?: readonly string[] } = {},
): { path: string; config: Config } | undefined {
  const path = explicit ? resolve(cwd, explicit) : resolve(cwd, CONFIG_FILE);
  if (!existsSync(path)) {
    if (explicit) throw new UsageError(`--config ${explicit} does not exist`);
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${path} must hold one JSON object`);
  const keys = configKeys(flags);
  const byKey = new Map(flags.map((f) => [f.key, f]));
  const config: Config = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === '$schema') continue;
    if (!keys.includes(k)) {
      if (options.ignore?.includes(k)) continue;
      const why = (NOT_CONFIG as readonly string[]).includes(k) ? ` ("${k}" is a flag of one run, not a config key)` : suggest(k, keys);
      throw new UsageError(`${path}: unknown key "${k}"${why}`, `allowed keys: ${keys.join(', ')}`);
    }
    const flag = KEY_ALIASES[k] ?? k;
    if (flag in config) throw new UsageError(`${path}: "${k}" and "${flag}" are the same option`, 'keep one of them');
    const f = byKey.get(flag)!;
    config[flag] = configValue(path, k, f, v);
  }
  return { path, config };
}

function configValue(path: string, key: string, f: ConfigFlag, v: unknown): unknown {
  if (f.boolean) {
    if (typeof v !== 'boolean') throw new UsageError(`${path}: "${key}" must be true or false`);
    return v;
  }
  if (f.object && v && typeof v === 'object' && !Array.isArray(v)) return v;
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) s = String(v);
  else if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) s = v.join(',');
  else throw new UsageError(`${path}: "${key}" must be a string${f.object ? ', an object' : ''}, a number or a list (of strings or numbers)`);
  return f.path && !isAbsolute(s) ? resolve(dirname(path), s) : s;
}

/** A config list as the comma string the flags use. */
export function listValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}
