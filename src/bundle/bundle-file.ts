/**
 * What a bundle is made of: the targets that write into it and the files they
 * list in manifest.json. Declared here, below the targets, because the
 * manifest, the golden sets and the job summary describe files of every
 * target; src/targets/target.ts re-exports these names.
 */
import type { Precision } from '../ir/precision.js';

export const TARGET_NAMES = ['onnx', 'tfjs', 'webgpu'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** One file of a bundle, as listed in manifest.json. */
export interface BundleFile {
  /** Relative to the bundle root, with '/'. */
  readonly path: string;
  readonly target: TargetName;
  readonly precision: Precision;
  /** 'model' is what a parity runtime loads; others are weights, runtime code, docs. */
  readonly role: 'model' | 'weights' | 'runtime' | 'types' | 'page' | 'golden';
}
