/**
 * "Could not verify" versus "parity failed", and the one command that fixes it.
 *
 * A runtime either measures a bundle file (its numbers then pass or fail the
 * thresholds) or it cannot run here at all: its package is missing, there is
 * no WebGPU adapter, the adapter lacks a feature (shader-f16), Chromium is not
 * installed, its worker process could not start. The second kind is a skip
 * with a reason, never a parity failure. This module decides which messages
 * are of the second kind (`cannotRunHere`) and names the fix for a skip reason
 * (`fixFor`), so that every skip and every unverified file says what to do.
 *
 * Both work on the runtimes' own messages (src/parity/runtimes/*, and the
 * errors Dawn, onnxruntime and Chromium throw), matched by pattern: one table,
 * first match wins. A message no pattern knows gets no fix (undefined).
 */

/** Messages of a runtime that cannot run a file on this machine (not a defect of the bundle). */
const CANNOT_RUN: readonly RegExp[] = [
  /requires f16 but the device does not support it/i,
  /\bshader-f16\b/i,
  /feature .* (is )?not (supported|enabled)/i,
  /no (WebGPU |webgpu )?adapter/i,
  /found no adapter/i,
  /device (was )?lost/i,
  /worker (did not start|exited)/i,
  /Cannot find (module|package)/i,
  /ERR_MODULE_NOT_FOUND/,
  /is not installed/i,
  /does not load/i,
  /headless Chromium does not start/i,
  /no Chromium at/i,
  /Executable doesn't exist/i,
  /Failed to launch/i,
];

/** True when `message` says the runtime cannot run here (a skip), not that the bundle is wrong. */
export function cannotRunHere(message: string): boolean {
  return CANNOT_RUN.some((re) => re.test(message));
}

export const APT_CHROMIUM = 'apt-get install chromium';

/** What fixes a skip reason, best first (first match wins). */
const FIXES: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/the webgpu package/i, () => 'npm install webgpu'],
  [/playwright-core (does not load|is not installed)/i, () => 'npm install playwright-core'],
  [/onnxruntime-web is not installed/i, () => 'npm install onnxruntime-web'],
  [/package (@?[\w./-]+) is not installed/i, (m) => `npm install ${m[1]}`],
  [/Cannot find (?:module|package) '(@?[\w-]+(?:\/[\w.-]+)?)/i, (m) => `npm install ${m[1]!.startsWith('@') ? m[1] : m[1]!.split('/')[0]}`],
  [/the tfjs packages do not load/i, () => 'npm install @tensorflow/tfjs-core @tensorflow/tfjs-converter'],
  [/onnxruntime-node does not load/i, () => 'npm install onnxruntime-node'],
  [/no cuda provider binaries|cuda provider does not start/i, () => 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node'],
  [/no cuda provider on this platform/i, () => 'onnxruntime-node ships CUDA for Linux x64 and Windows x64 only'],
  [/shader-f16|requires f16/i, () => 'run on an adapter with shader-f16 (most GPUs), or leave fp16 out: --precision fp32,int8'],
  [/no Chromium at|Executable doesn't exist|Failed to launch|headless Chromium does not start/i, () => `${APT_CHROMIUM} (or set SF2_CHROMIUM to a Chromium binary)`],
  [/no Vulkan driver|no (WebGPU )?adapter|found no adapter/i, () => `${APT_CHROMIUM} (its SwiftShader is a software adapter), or install the GPU's Vulkan driver`],
  [/opt-in.*--runtime ([\w./-]+)/i, (m) => `--runtime ${m[1]}`],
  [/not selected \(--device/i, () => '--device all'],
];

/** The one command (or flag) that fixes a skip reason, or undefined. */
export function fixFor(reason: string): string | undefined {
  for (const [re, f] of FIXES) {
    const m = re.exec(reason);
    if (m) return f(m);
  }
  return undefined;
}
