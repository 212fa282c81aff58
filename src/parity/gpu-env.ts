/**
 * The environment a native WebGPU engine (onnxruntime-node's webgpu provider,
 * the `webgpu` npm package: both are Dawn on Vulkan) needs to find a Vulkan
 * driver. Both read it when the process loads libvulkan, so it must be set in
 * a CHILD process's environment; setting process.env later does not help
 * (the dynamic loader has already captured LD_LIBRARY_PATH).
 *
 * Candidates, in order; the first on which an adapter is found wins:
 *   1. 'user':        VK_ICD_FILENAMES is already set: used as given.
 *   2. 'system':      a system Vulkan loader (libvulkan.so.1) exists: no change
 *                     (a machine with a GPU and its driver).
 *   3. 'swiftshader': Chromium's bundled loader and SwiftShader ICD
 *                     (/usr/lib/chromium): VK_ICD_FILENAMES set to its ICD and
 *                     /usr/lib/chromium prepended to LD_LIBRARY_PATH. This is a
 *                     CPU rasterizer: the adapter reports isFallbackAdapter.
 * XDG_RUNTIME_DIR is set to the temp folder when unset (Dawn warns otherwise).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const CHROMIUM_LIB_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${CHROMIUM_LIB_DIR}/vk_swiftshader_icd.json`;

export interface GpuEnv {
  readonly driver: 'user' | 'system' | 'swiftshader';
  /** The complete environment for the child process. */
  readonly env: Readonly<Record<string, string>>;
  /** One line for reports, e.g. "Vulkan: Chromium's SwiftShader (VK_ICD_FILENAMES=...)". */
  readonly note: string;
}

const SYSTEM_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu'];

function hasSystemVulkan(env: NodeJS.ProcessEnv): boolean {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean), ...SYSTEM_LIB_DIRS];
  return dirs.some((d) => d !== CHROMIUM_LIB_DIR && existsSync(join(d, 'libvulkan.so.1')));
}

function baseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out.XDG_RUNTIME_DIR ??= tmpdir();
  return out;
}

function withChromiumLoader(e: Record<string, string>): Record<string, string> {
  const parts = (e.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  if (!parts.includes(CHROMIUM_LIB_DIR)) e.LD_LIBRARY_PATH = [CHROMIUM_LIB_DIR, ...parts].join(delimiter);
  return e;
}

/** The Vulkan environments to try, best first. Empty when there is no Vulkan at all (the reason is in `gpuEnvMissingReason`). */
export function gpuEnvCandidates(env: NodeJS.ProcessEnv = process.env): GpuEnv[] {
  const out: GpuEnv[] = [];
  const system = hasSystemVulkan(env);
  const chromium = existsSync(SWIFTSHADER_ICD) && existsSync(join(CHROMIUM_LIB_DIR, 'libvulkan.so.1'));
  if (env.VK_ICD_FILENAMES) {
    const e = baseEnv(env);
    if (!system && chromium) withChromiumLoader(e);
    out.push({ driver: 'user', env: e, note: `Vulkan: VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES} (as set by the user)` });
    return out;
  }
  if (system) out.push({ driver: 'system', env: baseEnv(env), note: 'Vulkan: the system driver' });
  if (chromium) {
    const e = withChromiumLoader(baseEnv(env));
    e.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    out.push({ driver: 'swiftshader', env: e, note: `Vulkan: Chromium's SwiftShader (VK_ICD_FILENAMES=${SWIFTSHADER_ICD}), a CPU fallback adapter` });
  }
  return out;
}

export function gpuEnvMissingReason(): string {
  return `no Vulkan driver: no system libvulkan.so.1 and no Chromium SwiftShader at ${SWIFTSHADER_ICD} (install a GPU driver, or the chromium package for a software adapter)`;
}
