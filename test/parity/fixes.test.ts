/**
 * Every skip reason the runtimes give gets the one command that fixes it, and
 * "cannot run here" messages are told apart from defects of a bundle
 * (src/parity/fixes.ts). The reasons are the runtimes' own strings.
 */
import { describe, expect, it } from 'vitest';
import { cannotRunHere, fixFor } from '../../src/parity/fixes.js';
import { gpuEnvMissingReason } from '../../src/parity/gpu-env.js';

describe('fixFor', () => {
  it.each([
    [gpuEnvMissingReason(), /^apt-get install chromium/],
    ['the webgpu package (Dawn for Node) is not installed', /^npm install webgpu$/],
    ['playwright-core does not load: Cannot find package \'playwright-core\' imported from /x', /^npm install playwright-core$/],
    ['onnxruntime-web is not installed', /^npm install onnxruntime-web$/],
    ['no Chromium at /usr/bin/chromium (install the chromium package, or set SF2_CHROMIUM)', /^apt-get install chromium \(or set SF2_CHROMIUM/],
    ['Dawn found no WebGPU adapter (swiftshader: no WebGPU adapter)', /^apt-get install chromium/],
    ['onnxruntime-node 1.30.0 here has no cuda provider binaries (its install script downloads them unless ONNXRUNTIME_NODE_INSTALL=skip)', /^ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node$/],
    ['fp16: the adapter has no shader-f16, which onnxruntime webgpu needs for float16 models', /--precision fp32,int8/],
    ['opt-in (slow: headless Chromium + onnxruntime-web wasm): select it with --runtime onnxruntime-web/wasm', /^--runtime onnxruntime-web\/wasm$/],
    ['not selected (--device cpu)', /^--device all$/],
  ])('%s', (reason, fix) => {
    expect(fixFor(reason)).toMatch(fix);
  });

  it('has no fix for a reason it does not know', () => {
    expect(fixFor('something else entirely')).toBeUndefined();
  });
});

describe('cannotRunHere', () => {
  it('is true for a machine that lacks something, false for a bundle defect', () => {
    expect(cannotRunHere('Program Transpose requires f16 but the device does not support it')).toBe(true);
    expect(cannotRunHere('dawn-node/webgpu worker exited (SIGSEGV)')).toBe(true);
    expect(cannotRunHere('Device was lost')).toBe(true);
    expect(cannotRunHere('kernel Foo not implemented')).toBe(false);
    expect(cannotRunHere('returned 100 values for 4 rows, expected 512')).toBe(false);
  });
});
