/**
 * The targets, by name: for each, the module whose `check` and `write` make
 * its bundles, and the op table its check and lowering read (one row per ONNX
 * op {constraints, check, lower}; none for onnx, which writes the graph as it
 * is). Both load lazily, so a run loads only the targets it asks for. A target
 * not built yet is listed with why.
 */
import { UsageError } from '../errors.js';
import type { OnnxDetails } from './onnx/target.js';
import type { Target, TargetName, TargetOpTable } from './target.js';
import type { TfjsTargetDetails } from './tfjs/target.js';

/** The manifest facts each target's `write` returns (TargetResult.details). */
export interface TargetDetailsByName {
  readonly onnx: OnnxDetails;
  readonly tfjs: TfjsTargetDetails;
  readonly webgpu: object;
}

interface TargetEntry<N extends TargetName> {
  readonly load: () => Promise<Target<TargetDetailsByName[N]>>;
  /** The op table (`check` per node, then `lower`), or undefined where the target has none. */
  readonly ops: () => Promise<TargetOpTable | undefined>;
}

const TARGETS: { readonly [N in TargetName]: TargetEntry<N> | string } = {
  onnx: {
    load: async () => (await import('./onnx/target.js')).onnxTarget,
    ops: async () => undefined,
  },
  tfjs: {
    load: async () => (await import('./tfjs/target.js')).tfjsTarget,
    ops: async () => (await import('./tfjs/op-map.js')).OP_MAP,
  },
  webgpu: {
    load: async () => (await import('./webgpu/target.js')).webgpuTarget,
    ops: async () => (await import('./webgpu/op-table.js')).OP_TABLE,
  },
};

function entry<N extends TargetName>(name: N): TargetEntry<N> {
  const t = TARGETS[name];
  if (typeof t === 'string') throw new UsageError(`--target ${name}: ${t}`, 'use --target onnx for now');
  return t;
}

export async function loadTarget<N extends TargetName>(name: N): Promise<Target<TargetDetailsByName[N]>> {
  return entry(name).load();
}

/** The op table of a target (its supported ops and their constraints), or undefined where it has none. */
export async function loadOpTable(name: TargetName): Promise<TargetOpTable | undefined> {
  return entry(name).ops();
}
