/**
 * Every parity runtime, by target. A target's engineer adds ONE line here per
 * runtime: `{ id, target, device, load }`, with `load` importing the module
 * lazily (so a missing optional package only matters when that runtime runs).
 * The engine probes each runtime that matches the bundle's targets and the
 * --device choice; one that cannot run here is reported as skipped with the
 * reason its probe (or its loader) gives, never left out silently.
 */
import type { TargetName } from '../../targets/target.js';
import type { ParityRuntime } from '../runtime.js';

export interface RuntimeEntry {
  /** Same as the runtime's id: "<engine>/<backend>", e.g. "onnxruntime-node/cpu". */
  readonly id: string;
  readonly target: TargetName;
  readonly device: 'cpu' | 'gpu';
  readonly load: () => Promise<ParityRuntime>;
  /**
   * Set for a runtime that runs only when asked for by id (`--runtime ID`): the
   * reason it is not on by default. The report lists it as skipped with this reason.
   */
  readonly optIn?: string;
  /**
   * An opt-in GPU runtime that is on by default when a hardware (not fallback)
   * WebGPU adapter is found: slow only on a software adapter.
   */
  readonly onWithHardwareAdapter?: boolean;
  /**
   * Why this runtime is slow even where it runs: unless selected with --runtime
   * it is skipped for a file an earlier runtime already ran and passed, and
   * otherwise runs the small row budget (src/parity/row-subset.ts) unless --rows
   * is given, like a GPU runtime on a software adapter.
   */
  readonly slow?: string;
}

export const RUNTIMES: readonly RuntimeEntry[] = [
  // onnx target: onnxruntime-node (src/parity/runtimes/ort-node.ts)
  { id: 'onnxruntime-node/cpu', target: 'onnx', device: 'cpu', load: async () => (await import('./ort-node.js')).ortNodeCpu },
  { id: 'onnxruntime-node/webgpu', target: 'onnx', device: 'gpu', load: async () => (await import('./ort-node.js')).ortNodeWebgpu },
  { id: 'onnxruntime-node/cuda', target: 'onnx', device: 'gpu', load: async () => (await import('./ort-node.js')).ortNodeCuda },
  // onnx target in headless Chromium: onnxruntime-web (src/parity/runtimes/ort-web.ts)
  // (opt-in: Chromium start + 14 MB of wasm cost ~17 s, and wasm runs ~0.25 s/row on a 2-core machine)
  { id: 'onnxruntime-web/wasm', target: 'onnx', device: 'cpu', load: async () => (await import('./ort-web.js')).ortWebWasm, optIn: 'slow: headless Chromium + onnxruntime-web wasm' },
  { id: 'onnxruntime-web/webgpu', target: 'onnx', device: 'gpu', load: async () => (await import('./ort-web.js')).ortWebWebgpu, optIn: 'slow on a software adapter: headless Chromium + onnxruntime-web webgpu', onWithHardwareAdapter: true },
  // tfjs target: add lines here (tfjs in Node cpu/wasm, headless Chromium webgpu/webgl)
  { id: 'tfjs-node/wasm', target: 'tfjs', device: 'cpu', load: async () => (await import('./tfjs-node.js')).tfjsNodeWasm },
  // (slow: plain-JS kernels, ~30x slower than wasm: skipped for a file tfjs-node/wasm already ran, else the row budget)
  { id: 'tfjs-node/cpu', target: 'tfjs', device: 'cpu', load: async () => (await import('./tfjs-node.js')).tfjsNodeCpu, slow: 'plain-JS tfjs kernels, ~30x slower than wasm' },
  // (opt-in: each bundle starts Chromium and compiles every shader: ~30 s webgl, ~60 s webgpu on SwiftShader)
  { id: 'tfjs-chromium/webgl', target: 'tfjs', device: 'gpu', load: async () => (await import('./tfjs-browser.js')).tfjsChromiumWebgl, optIn: 'slow on a software adapter: headless Chromium + tfjs webgl shader compilation', onWithHardwareAdapter: true },
  { id: 'tfjs-chromium/webgpu', target: 'tfjs', device: 'gpu', load: async () => (await import('./tfjs-browser.js')).tfjsChromiumWebgpu, optIn: 'slow on a software adapter: headless Chromium + tfjs webgpu pipeline compilation', onWithHardwareAdapter: true },
  // webgpu target: add lines here (Dawn in Node, headless Chromium)
  { id: 'dawn-node/webgpu', target: 'webgpu', device: 'gpu', load: async () => (await import('./webgpu-dawn.js')).dawnNodeWebgpu },
  { id: 'chromium/webgpu', target: 'webgpu', device: 'gpu', load: async () => (await import('./webgpu-chromium.js')).chromiumWebgpu },
];

export type DeviceChoice = 'cpu' | 'gpu' | 'all';

/** The entries for these targets and this --device choice, in table order. */
export function runtimesFor(targets: readonly TargetName[], device: DeviceChoice = 'all', ids?: readonly string[]): RuntimeEntry[] {
  return RUNTIMES.filter((r) => targets.includes(r.target) && (device === 'all' || r.device === device) && (!ids || ids.includes(r.id)));
}
