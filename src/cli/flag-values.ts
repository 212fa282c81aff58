/**
 * The flag values two commands read the same way (the export and `parity DIR`):
 * a positive integer (--rows, --batch), and the parity thresholds, which are
 * --thresholds FILE (or a config file's "thresholds" object) with --min-cosine /
 * --max-flips on top.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseThresholdFlag, thresholdsFromConfig, type ThresholdOverrides } from '../metrics/thresholds.js';

/** `--rows 8` -> 8; undefined when the flag is not given; exit 2 for anything but a positive integer. */
export function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${v}: expected a positive integer`);
  return n;
}

/** The threshold flags as the parity engine takes them: the file's (or config object's), then the two flags over them. */
export function thresholdsOf(opts: { readonly thresholds?: string | object; readonly minCosine?: string; readonly maxFlips?: string }): ThresholdOverrides {
  let t: ThresholdOverrides = {};
  const src = opts.thresholds;
  if (typeof src === 'string') {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(src, 'utf8'));
    } catch (e) {
      throw new UsageError(`--thresholds ${src}: ${(e as Error).message}`);
    }
    t = thresholdsFromConfig(json, src);
  } else if (src) t = thresholdsFromConfig(src, 'config "thresholds"');
  if (opts.minCosine) t = parseThresholdFlag('minCosine', opts.minCosine, t);
  if (opts.maxFlips) t = parseThresholdFlag('maxFlipFraction', opts.maxFlips, t);
  return t;
}
