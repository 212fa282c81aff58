/**
 * One entry point for "the model file": an ONNX file, or a PyTorch checkpoint
 * (torch.save zip or legacy pickle, found by its first bytes or a .pth / .pt /
 * .ckpt / .tar name) imported without Python (src/pth/import.ts). Every command
 * that takes a model loads it through here.
 */
import { extname } from 'node:path';
import type { Model } from '../ir/model.js';
import { loadOnnx, type LoadOptions } from '../onnx/import.js';
import { isCheckpointFile } from './checkpoint.js';
import { importCheckpoint, type ImportOptions } from './import.js';

export interface ModelLoadOptions extends LoadOptions, ImportOptions {}

const CHECKPOINT_EXT = new Set(['.pth', '.pt', '.ckpt', '.tar']);

/** Is this path a PyTorch checkpoint (by content, or by name when it cannot be read)? */
export function isCheckpointPath(path: string): boolean {
  return isCheckpointFile(path) || CHECKPOINT_EXT.has(extname(path).toLowerCase());
}

export function loadModel(path: string, options: ModelLoadOptions = {}): Model {
  if (isCheckpointPath(path)) {
    const { model } = importCheckpoint(path, { arch: options.arch, head: options.head });
    for (const w of model.warnings) options.onWarning?.(w);
    return model;
  }
  return loadOnnx(path, options);
}
