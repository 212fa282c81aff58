/**
 * sf2-export.config.json: the options a CI job wants pinned. Looked up as
 * `--config FILE`, else ./sf2-export.config.json when it exists. Command-line
 * flags override it. Unknown keys are an error (with a suggestion), so a typo
 * never silently drops a threshold.
 *
 * {
 *   "targets": ["onnx", "tfjs", "webgpu"] | "web",
 *   "precisions": ["fp32", "fp16"],
 *   "out": "dist/model", "reference": "ref.npz", "inputs": "x.npy", "images": "faces/",
 *   "embedding": "features", "device": "cpu" | "gpu" | "all", "tfjsInput": "nchw" | "nhwc",
 *   "thresholds": { "fp32": { "minCosine": 0.99999 }, ... }, "signKey": "key.pem"
 * }
 * Relative paths are relative to the config file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { suggest } from './suggest.js';

export const CONFIG_FILE = 'sf2-export.config.json';

const PATH_KEYS = ['out', 'reference', 'inputs', 'images', 'signKey', 'calibration'] as const;
const KEYS = ['targets', 'precisions', 'out', 'reference', 'inputs', 'images', 'embedding', 'device', 'tfjsInput', 'thresholds', 'signKey', 'calibration', 'calibrationMethod'] as const;
export type ConfigKey = (typeof KEYS)[number];
export type Config = Partial<Record<ConfigKey, unknown>>;

export function loadConfig(explicit: string | undefined, cwd = process.cwd()): { path: string; config: Config } | undefined {
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
  const config: Config = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === '$schema') continue;
    if (!(KEYS as readonly string[]).includes(k)) {
      throw new UsageError(`${path}: unknown key "${k}"${suggest(k, KEYS)}`, `allowed keys: ${KEYS.join(', ')}`);
    }
    config[k as ConfigKey] = (PATH_KEYS as readonly string[]).includes(k) && typeof v === 'string' && !isAbsolute(v) ? resolve(dirname(path), v) : v;
  }
  for (const k of ['targets', 'precisions'] as const) {
    const v = config[k];
    if (v !== undefined && typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      throw new UsageError(`${path}: "${k}" must be a string or a list of strings`);
    }
  }
  for (const k of ['out', 'reference', 'inputs', 'images', 'embedding', 'device', 'tfjsInput', 'signKey', 'calibration', 'calibrationMethod'] as const) {
    if (config[k] !== undefined && typeof config[k] !== 'string') throw new UsageError(`${path}: "${k}" must be a string`);
  }
  if (config.thresholds !== undefined && (typeof config.thresholds !== 'object' || config.thresholds === null || Array.isArray(config.thresholds))) {
    throw new UsageError(`${path}: "thresholds" must be an object`);
  }
  return { path, config };
}

/** A config list as the comma string the flags use. */
export function listValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}
