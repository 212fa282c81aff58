/** Merge sf2-export.config.json into the export command's options: a flag given on the command line wins. */
import { listValue, loadConfig, type ConfigKey } from './config.js';
import type { ExportCommandOptions } from './export.js';
import type { Logger } from './log.js';

/** config key -> commander option key */
const FLAG_OF: Readonly<Record<ConfigKey, string>> = {
  targets: 'target',
  precisions: 'precision',
  out: 'out',
  reference: 'reference',
  inputs: 'inputs',
  images: 'images',
  embedding: 'embedding',
  device: 'device',
  tfjsInput: 'tfjsInput',
  thresholds: 'thresholds',
  signKey: 'signKey',
  calibration: 'calibration',
  calibrationMethod: 'calibrationMethod',
};

export function applyConfig(
  opts: Record<string, unknown>,
  sourceOf: (key: string) => string | undefined,
  log: Logger,
): ExportCommandOptions {
  const loaded = loadConfig(opts.config as string | undefined);
  const out: Record<string, unknown> = { ...opts };
  if (!loaded) return out as ExportCommandOptions;
  log.debug(`config: ${loaded.path}`);
  for (const [k, v] of Object.entries(loaded.config) as [ConfigKey, unknown][]) {
    const flag = FLAG_OF[k];
    if (sourceOf(flag) === 'cli') continue; // the command line wins
    out[flag] = k === 'targets' || k === 'precisions' ? listValue(v) : v;
  }
  return out as ExportCommandOptions;
}
