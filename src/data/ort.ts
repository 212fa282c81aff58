/**
 * The one onnxruntime-node loader. Every caller (references, calibration and
 * sensitivity runs, the parity runtimes) gets the same module instance,
 * loaded on first use, so the rest of the library starts without it and the
 * native binding is loaded once.
 */
import { createRequire } from 'node:module';
import { UnsupportedError } from '../errors.js';

export type Ort = typeof import('onnxruntime-node');
const require = createRequire(import.meta.url);

let ortModule: Ort | undefined;

/** onnxruntime-node, loaded on first use (throws what require throws). */
export function ort(): Ort {
  ortModule ??= require('onnxruntime-node') as Ort;
  return ortModule;
}

/** ort(), with a missing or broken install as an UnsupportedError naming the fix. */
export async function loadOrt(): Promise<Ort> {
  try {
    return ort();
  } catch (e) {
    throw new UnsupportedError('onnxruntime', `onnxruntime-node cannot be loaded: ${(e as Error).message}`, 'install onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node)');
  }
}

/** The onnxruntime-node version, or 'unknown' when it cannot be loaded. */
export function ortVersion(): string {
  try {
    return ort().env.versions.node ?? ort().env.versions.common ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
