/**
 * The tfjs bundle in headless Chromium, the way a web page runs it: the
 * published UMD builds of tfjs-core, tfjs-converter and the backend as script
 * tags, `tf.loadGraphModel('/bundle/tfjs/<precision>/model.json')` over HTTP
 * (the page: src/targets/tfjs/browser/page.ts; the harness: src/parity/browser).
 *
 *   webgpu  tfjs-backend-webgpu on the page's WebGPU adapter (recorded; without a
 *           GPU it is SwiftShader, a fallback adapter)
 *   webgl   tfjs-backend-webgl on WebGL2 (renderer recorded; SwiftShader without a GPU)
 *
 * On a software adapter the numbers are real and the timings are not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelContract } from '../../analysis/contract.js';
import type { BundleFile } from '../../targets/target.js';
import { scriptMount, TFJS_SCRIPTS, tfjsPageHtml, type TfjsBrowserBackend } from '../../targets/tfjs/browser/page.js';
import { BrowserHarness, chromiumProbe, packageDir } from '../browser/index.js';
import { pageSession } from '../browser/page-session.js';
import type { AdapterInfo, ParityRuntime, Probe, RuntimeInfo, RuntimeSession } from '../runtime.js';

interface PageApi {
  init(): Promise<{ backend: string; version: string; registered: string[]; renderer?: string; vendor?: string; float32?: boolean }>;
  load(url: string): Promise<{ inputKey: string; nhwc: boolean; embeddingDim?: number }>;
  run(data: Float32Array, dims: number[]): Promise<Float32Array>;
  release(): void;
}

declare global {
  interface Window {
    sf2tfjs: PageApi;
    sf2tfjsReady?: boolean;
  }
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageDir('@tensorflow/tfjs-core'), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Launch Chromium with the page and start the backend. */
async function openPage(backend: TfjsBrowserBackend, bundleDir?: string): Promise<{ h: BrowserHarness; init: Awaited<ReturnType<PageApi['init']>> }> {
  const mounts: Record<string, string> = {};
  for (const k of ['core', 'converter', backend]) {
    const s = TFJS_SCRIPTS[k];
    if (s) mounts[scriptMount(k)] = packageDir(s.pkg, 'dist');
  }
  if (bundleDir) mounts['/bundle/'] = bundleDir;
  const h = await BrowserHarness.open({ mounts, files: { '/index.html': tfjsPageHtml(backend) }, page: '/index.html' });
  try {
    await h.page.waitForFunction(() => window.sf2tfjsReady === true, undefined, { timeout: 60000 });
    const init = await h.evaluate(() => window.sf2tfjs.init(), undefined);
    return { h, init };
  } catch (e) {
    const msg = `tfjs ${backend} did not start in Chromium: ${(e as Error).message.split('\n')[0]} ${h.errors().join(' | ')}`;
    await h.close();
    throw new Error(msg);
  }
}

function tfjsBrowserRuntime(backend: 'webgl' | 'webgpu'): ParityRuntime {
  let probed: Promise<Probe> | undefined;
  return {
    id: `tfjs-chromium/${backend}`,
    target: 'tfjs',
    device: 'gpu',
    probe() {
      probed ??= (async (): Promise<Probe> => {
        const c = await chromiumProbe();
        if (!c.available) return { available: false, reason: c.reason! };
        let page: Awaited<ReturnType<typeof openPage>> | undefined;
        try {
          page = await openPage(backend);
          let adapter: AdapterInfo | undefined;
          const notes = [`headless Chromium ${page.h.chromiumVersion}`, `tfjs backends registered on the page: ${page.init.registered.join(', ')}`];
          if (backend === 'webgpu') {
            const a = await page.h.adapterInfo();
            if (!a.adapter) return { available: false, reason: `Chromium has no WebGPU adapter: ${a.error}` };
            adapter = a.adapter;
          } else {
            const r = page.init.renderer ?? '';
            adapter = { vendor: page.init.vendor ?? '', architecture: 'webgl2', description: r, isFallbackAdapter: /swiftshader|llvmpipe|software/i.test(r) };
            notes.push(`WebGL float32 render targets: ${page.init.float32 ? 'yes' : 'no'}`);
          }
          if (adapter.isFallbackAdapter) notes.push('a software (fallback) adapter: numbers are real, timings are not');
          const info: RuntimeInfo = { engine: 'tfjs-converter loadGraphModel', version: page.init.version || version(), device: 'gpu', backend, adapter, notes };
          return { available: true, info };
        } catch (e) {
          return { available: false, reason: (e as Error).message.split('\n')[0]! };
        } finally {
          await page?.h.close();
        }
      })();
      return probed;
    },
    async open(bundleDir: string, file: BundleFile, contract: ModelContract): Promise<RuntimeSession> {
      const { h } = await openPage(backend, bundleDir);
      return pageSession(h, contract, {
        load: (h) => h.evaluate((url) => window.sf2tfjs.load(url), `/bundle/${file.path}`),
        async run(h, x, d, n) {
          const y = await h.evaluate(({ x, d }) => window.sf2tfjs.run(x, d), { x, d });
          if (y.length !== n * contract.embeddingDim) throw new Error(`tfjs ${backend} output has ${y.length} values for ${n} rows, expected ${n * contract.embeddingDim}`);
          return y;
        },
        release: (h) => h.evaluate(() => window.sf2tfjs.release(), undefined),
      });
    },
  };
}

export const tfjsChromiumWebgl: ParityRuntime = tfjsBrowserRuntime('webgl');
export const tfjsChromiumWebgpu: ParityRuntime = tfjsBrowserRuntime('webgpu');
