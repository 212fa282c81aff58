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
 *                     (/usr/lib/chromium, Debian's chromium; else the folder of
 *                     the SF2_CHROMIUM binary, e.g. /opt/google/chrome or
 *                     Playwright's Chromium, which ship the same two files):
 *                     VK_ICD_FILENAMES set to its ICD and that folder
 *                     prepended to LD_LIBRARY_PATH. This is a CPU rasterizer:
 *                     the adapter reports isFallbackAdapter.
 * XDG_RUNTIME_DIR is set to the temp folder when unset (Dawn warns otherwise).
 */
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

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

function withChromiumLoader(e: Record<string, string>, libDir: string): Record<string, string> {
  const parts = (e.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  if (!parts.includes(libDir)) e.LD_LIBRARY_PATH = [libDir, ...parts].join(delimiter);
  return e;
}

/** The first Chromium folder with a Vulkan loader and the SwiftShader ICD: Debian's, else SF2_CHROMIUM's. */
export function chromiumVulkanDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [CHROMIUM_LIB_DIR];
  if (env.SF2_CHROMIUM) {
    try {
      dirs.push(dirname(realpathSync(env.SF2_CHROMIUM)));
    } catch {
      // a missing SF2_CHROMIUM is reported by the browser runtimes
    }
  }
  return dirs.find((d) => existsSync(join(d, 'vk_swiftshader_icd.json')) && existsSync(join(d, 'libvulkan.so.1')));
}

/** The Vulkan environments to try, best first. Empty when there is no Vulkan at all (the reason is in `gpuEnvMissingReason`). */
export function gpuEnvCandidates(env: NodeJS.ProcessEnv = process.env): GpuEnv[] {
  const out: GpuEnv[] = [];
  const system = hasSystemVulkan(env);
  const chromium = chromiumVulkanDir(env);
  if (env.VK_ICD_FILENAMES) {
    const e = baseEnv(env);
    if (!system && chromium) withChromiumLoader(e, chromium);
    out.push({ driver: 'user', env: e, note: `Vulkan: VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES} (as set by the user)` });
    return out;
  }
  if (system) out.push({ driver: 'system', env: baseEnv(env), note: 'Vulkan: the system driver' });
  if (chromium) {
    const e = withChromiumLoader(baseEnv(env), chromium);
    const icd = join(chromium, 'vk_swiftshader_icd.json');
    e.VK_ICD_FILENAMES = icd;
    out.push({ driver: 'swiftshader', env: e, note: `Vulkan: Chromium's SwiftShader (VK_ICD_FILENAMES=${icd}), a CPU fallback adapter` });
  }
  return out;
}

export function gpuEnvMissingReason(): string {
  return `no Vulkan driver: no system libvulkan.so.1 and no Chromium SwiftShader at ${SWIFTSHADER_ICD} or beside SF2_CHROMIUM (install a GPU driver, or the chromium package for a software adapter)`;
}
