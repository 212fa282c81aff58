/**
 * Size limits on untrusted containers, so that a decompression bomb (a 1 MB
 * .npz inflating to 1 GiB, a .tgz with a 3 GiB entry or 20,000 entries) is
 * refused early, in bounded time and memory, instead of exhausting the
 * machine. Each default is far above what a real reference or bundle needs,
 * and each can be raised (or lowered) with an environment variable holding a
 * byte or entry count (docs/security.md):
 *
 *   SF2_EXPORT_MAX_REFERENCE_BYTES  2 GiB   one .npy, or all the arrays of one
 *                                           .npz once inflated (12k reference
 *                                           rows of 3x112x112 float32 = 1.8 GB)
 *   SF2_EXPORT_MAX_ZIP_ENTRIES      1024    arrays in one .npz
 *   SF2_EXPORT_MAX_INFLATE_RATIO    200     inflated/compressed size of a .npz
 *                                           entry over 64 MiB (float data
 *                                           compresses about 1.1:1)
 *   SF2_EXPORT_MAX_BUNDLE_BYTES     16 GiB  all the files of a bundle tarball
 *   SF2_EXPORT_MAX_BUNDLE_ENTRIES   20000   entries of a bundle tarball (a
 *                                           1.5 GB model in every target and
 *                                           precision is about 2,000 files)
 */
import { UsageError } from './errors.js';

export const LIMITS = {
  referenceBytes: { env: 'SF2_EXPORT_MAX_REFERENCE_BYTES', default: 2 * 2 ** 30 },
  zipEntries: { env: 'SF2_EXPORT_MAX_ZIP_ENTRIES', default: 1024 },
  inflateRatio: { env: 'SF2_EXPORT_MAX_INFLATE_RATIO', default: 200 },
  bundleBytes: { env: 'SF2_EXPORT_MAX_BUNDLE_BYTES', default: 16 * 2 ** 30 },
  bundleEntries: { env: 'SF2_EXPORT_MAX_BUNDLE_ENTRIES', default: 20000 },
} as const;

export type LimitName = keyof typeof LIMITS;

/** The limit in force: its environment variable when set (a positive integer), else the default. */
export function limit(name: LimitName): number {
  const l = LIMITS[name];
  const raw = process.env[l.env];
  if (raw === undefined || raw === '') return l.default;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`${l.env}=${raw}: expected a positive integer`, `unset it for the default ${l.default}`);
  return v;
}

/** "raise SF2_EXPORT_... (now N) if this file is genuine" */
export function raiseHint(name: LimitName): string {
  return `if the file is genuine, raise ${LIMITS[name].env} (now ${limit(name)}); see docs/security.md`;
}
