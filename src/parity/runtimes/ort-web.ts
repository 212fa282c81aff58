/**
 * The ONNX bundle in headless Chromium on onnxruntime-web, the way a web page
 * runs it: the bundle folder and onnxruntime-web's dist/ served on loopback
 * (src/parity/browser), `ort.InferenceSession.create('/bundle/<file>')` with
 * the wasm or webgpu execution provider and default graph optimizations.
 * Also the worked example of the browser harness for other runtimes.
 *
 * wasm runs multi-threaded (the page is cross-origin isolated). webgpu on a
 * machine without a GPU gets Chromium's SwiftShader adapter, recorded as a
 * fallback adapter; it is slow there (about 40x wasm), so use --rows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelContract } from '../../analysis/contract.js';
import type { BundleFile } from '../../targets/target.js';
import { BrowserHarness, chromiumProbe, packageDir } from '../browser/index.js';
import { pageSession } from '../browser/page-session.js';
import type { ParityRuntime, Probe, RuntimeInfo, RuntimeSession } from '../runtime.js';

function ortWebVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageDir('onnxruntime-web'), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The page: loads onnxruntime-web and exposes window.sf2 = { create, run }. */
const PAGE = (provider: string) => `<!doctype html><html><head><meta charset="utf-8"><title>sf2 onnxruntime-web ${provider}</title></head><body>
<script type="module">
import * as ort from '/ort/ort.${provider === 'webgpu' ? 'webgpu' : 'wasm'}.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.logLevel = 'error';
let session;
window.sf2 = {
  version: ort.env.versions,
  async create(url) {
    session = await ort.InferenceSession.create(url, { executionProviders: ['${provider}'], graphOptimizationLevel: 'all' });
    return { inputs: session.inputNames, outputs: session.outputNames };
  },
  async run(inputName, outputName, data, dims) {
    const r = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, [outputName]);
    const t = r[outputName];
    if (t.type !== 'float32') throw new Error('output ' + outputName + ' is ' + t.type);
    const d = await t.getData();
    return new Float32Array(d);
  },
  async release() { if (session) await session.release(); session = undefined; },
};
window.sf2ready = true;
</script></body></html>`;

declare global {
  interface Window {
    sf2ready?: boolean;
    sf2: {
      create(url: string): Promise<{ inputs: string[]; outputs: string[] }>;
      run(inputName: string, outputName: string, data: Float32Array, dims: number[]): Promise<Float32Array>;
      release(): Promise<void>;
    };
  }
}

function ortWebRuntime(provider: 'wasm' | 'webgpu'): ParityRuntime {
  const device = provider === 'wasm' ? 'cpu' : 'gpu';
  let probed: Promise<Probe> | undefined;
  const open = async (bundleDir: string) => {
    const h = await BrowserHarness.open({
      mounts: { '/bundle/': bundleDir, '/ort/': packageDir('onnxruntime-web', 'dist') },
      files: { '/index.html': PAGE(provider) },
      page: '/index.html',
    });
    try {
      await h.page.waitForFunction(() => window.sf2ready === true, undefined, { timeout: 60000 });
    } catch (e) {
      await h.close();
      throw new Error(`onnxruntime-web did not load in Chromium: ${(e as Error).message.split('\n')[0]} ${h.errors().join(' | ')}`);
    }
    return h;
  };
  return {
    id: `onnxruntime-web/${provider}`,
    target: 'onnx',
    device,
    probe() {
      probed ??= (async (): Promise<Probe> => {
        const c = await chromiumProbe();
        if (!c.available) return { available: false, reason: c.reason! };
        try {
          packageDir('onnxruntime-web', 'dist');
        } catch {
          return { available: false, reason: 'onnxruntime-web is not installed' };
        }
        if (provider === 'wasm') {
          return { available: true, info: { engine: 'onnxruntime-web', version: ortWebVersion(), device, backend: 'wasm', notes: ['headless Chromium'] } };
        }
        // webgpu: ask the page for its adapter.
        let h: BrowserHarness | undefined;
        try {
          h = await BrowserHarness.open({ files: { '/index.html': '<!doctype html><title>probe</title>' }, page: '/index.html' });
          const a = await h.adapterInfo();
          if (!a.adapter) return { available: false, reason: `Chromium has no WebGPU adapter: ${a.error}` };
          const info: RuntimeInfo = {
            engine: 'onnxruntime-web',
            version: ortWebVersion(),
            device,
            backend: 'webgpu',
            adapter: a.adapter,
            notes: [`headless Chromium ${h.chromiumVersion}`, ...(a.adapter.isFallbackAdapter ? ['a software (fallback) adapter: numbers are real, timings are not'] : [])],
          };
          return { available: true, info };
        } catch (e) {
          return { available: false, reason: `headless Chromium does not start: ${(e as Error).message.split('\n')[0]}` };
        } finally {
          await h?.close();
        }
      })();
      return probed;
    },
    async open(bundleDir: string, file: BundleFile, contract: ModelContract): Promise<RuntimeSession> {
      return pageSession(await open(bundleDir), contract, {
        load: (h) => h.evaluate((url) => window.sf2.create(url), `/bundle/${file.path}`),
        run: (h, x, d) => h.evaluate(({ i, o, x, d }) => window.sf2.run(i, o, x, d), { i: contract.input.name, o: contract.output, x, d }),
        release: (h) => h.evaluate(() => window.sf2.release(), undefined),
      });
    },
  };
}

export const ortWebWasm: ParityRuntime = ortWebRuntime('wasm');
export const ortWebWebgpu: ParityRuntime = ortWebRuntime('webgpu');
