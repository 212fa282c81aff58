/** The targets, by name. A target not built yet is listed with why. */
import { UsageError } from '../errors.js';
import type { Target, TargetName } from './target.js';

type Loader = () => Promise<Target>;

const TARGETS: Readonly<Record<TargetName, Loader | string>> = {
  onnx: async () => (await import('./onnx/target.js')).onnxTarget,
  tfjs: async () => (await import('./tfjs/target.js')).tfjsTarget,
  webgpu: async () => (await import('./webgpu/target.js')).webgpuTarget,
};

export async function loadTarget(name: TargetName): Promise<Target> {
  const t = TARGETS[name];
  if (typeof t === 'string') throw new UsageError(`--target ${name}: ${t}`, 'use --target onnx for now');
  return t();
}
