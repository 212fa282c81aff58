/**
 * The WebGPU bundle in headless Chromium, the way a web page runs it: the bundle
 * folder served on loopback (src/parity/browser), `import { load } from
 * '/bundle/webgpu/<precision>/sf2.js'`, `load('/bundle/webgpu/<precision>/')`
 * (sf2.js fetches model.json and weights.bin itself) on navigator.gpu.
 *
 * Without a GPU the adapter is SwiftShader; the probe sees that and the sessions
 * then start Chromium with Dawn's `disable_workgroup_init` (compile time only: every
 * sf2 kernel writes its workgroup memory before reading it; see webgpu-dawn.ts).
 */
import type { ModelContract } from '../../analysis/contract.js';
import type { BundleFile } from '../../targets/target.js';
import { BrowserHarness, chromiumProbe } from '../browser/index.js';
import type { AdapterInfo, ParityRuntime, Probe, RuntimeInfo, RuntimeSession } from '../runtime.js';

/** Chromium flags for a software adapter (see the module comment). */
export const SWIFTSHADER_CHROMIUM_ARGS: readonly string[] = ['--enable-dawn-features=disable_workgroup_init'];

/** The page: window.sf2wg drives one loaded model. */
export const SF2_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>sf2 webgpu</title></head><body>
<script type="module">
let model;
window.sf2wg = {
  async load(dir, options) {
    const { load } = await import(dir + 'sf2.js');
    const t0 = performance.now();
    model = await load(dir, options || {});
    return { info: model.info, ms: performance.now() - t0 };
  },
  embed(x, options) { return model.embed(x, options || {}); },
  /** RGBA bytes [n][H][W][4] as ImageBitmaps (the texture path) or ImageData. */
  async embedImages(bytes, n, kind, options) {
    const [, h, w] = model.inputShape;
    const images = [];
    for (let i = 0; i < n; i++) {
      const data = new ImageData(new Uint8ClampedArray(bytes.subarray(i * h * w * 4, (i + 1) * h * w * 4)), w, h);
      images.push(kind === 'bitmap' ? await createImageBitmap(data, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' }) : data);
    }
    return model.embed(images, options || {});
  },
  profile(x, options) { return model.profile(x, options || {}); },
  dispose() { if (model) model.dispose(); model = undefined; },
};
window.sf2ready = true;
</script></body></html>`;

declare global {
  interface Window {
    sf2ready?: boolean;
    sf2wg: {
      load(dir: string, options?: Record<string, unknown>): Promise<{ info: Record<string, unknown>; ms: number }>;
      embed(x: Float32Array | Uint8Array, options?: Record<string, unknown>): Promise<Float32Array>;
      embedImages(bytes: Uint8Array, n: number, kind: 'bitmap' | 'imagedata', options?: Record<string, unknown>): Promise<Float32Array>;
      profile(x: Float32Array, options?: Record<string, unknown>): Promise<{ name: string; ms: number }[]>;
      dispose(): void;
    };
  }
}

export interface ChromiumSession {
  readonly harness: BrowserHarness;
  readonly info: Record<string, unknown>;
  readonly loadMs: number;
  close(): Promise<void>;
}

/** Open the page with `bundleDir` served at /bundle/ and load the model folder `rel` under it (e.g. 'webgpu/fp32'). */
export async function openSf2Page(bundleDir: string, rel: string, args: readonly string[], options: Record<string, unknown> = {}): Promise<ChromiumSession> {
  const h = await BrowserHarness.open({ mounts: { '/bundle/': bundleDir }, files: { '/sf2-page.html': SF2_PAGE }, page: '/sf2-page.html', args });
  try {
    await h.page.waitForFunction(() => window.sf2ready === true, undefined, { timeout: 60000 });
    const r = await h.evaluate(({ dir, o }) => window.sf2wg.load(dir, o), { dir: `/bundle/${rel}/`, o: options });
    return {
      harness: h,
      info: r.info,
      loadMs: r.ms,
      async close() {
        try {
          await h.evaluate(() => window.sf2wg.dispose(), undefined);
        } finally {
          await h.close();
        }
      },
    };
  } catch (e) {
    await h.close();
    throw e;
  }
}

interface Probed {
  readonly adapter: AdapterInfo;
  readonly features: readonly string[];
  readonly args: readonly string[];
  readonly version: string;
}

/** Chromium's WebGPU adapter and the flags sessions should use (probed once per process). */
let probed: Promise<Probed | string> | undefined;
export function probeChromiumWebgpu(): Promise<Probed | string> {
  probed ??= (async () => {
    const c = await chromiumProbe();
    if (!c.available) return c.reason!;
    let h: BrowserHarness | undefined;
    try {
      h = await BrowserHarness.open({ files: { '/index.html': '<!doctype html><title>probe</title>' }, page: '/index.html' });
      const a = await h.adapterInfo();
      if (!a.adapter) return `Chromium has no WebGPU adapter: ${a.error}`;
      return { adapter: a.adapter, features: a.features ?? [], args: a.adapter.isFallbackAdapter ? SWIFTSHADER_CHROMIUM_ARGS : [], version: h.chromiumVersion };
    } catch (e) {
      return `headless Chromium does not start: ${(e as Error).message.split('\n')[0]}`;
    } finally {
      await h?.close();
    }
  })();
  return probed;
}

export const chromiumWebgpu: ParityRuntime = {
  id: 'chromium/webgpu',
  target: 'webgpu',
  device: 'gpu',
  async probe(): Promise<Probe> {
    const p = await probeChromiumWebgpu();
    if (typeof p === 'string') return { available: false, reason: p };
    const info: RuntimeInfo = {
      engine: 'sf2.js in headless Chromium',
      version: p.version,
      device: 'gpu',
      backend: 'webgpu',
      adapter: p.adapter,
      notes: [
        `headless Chromium ${p.version}`,
        `adapter features: ${p.features.join(', ') || 'none'}`,
        ...(p.adapter.isFallbackAdapter ? [`a software (fallback) adapter; Chromium flags ${p.args.join(' ')} (compile time only)`] : []),
      ],
    };
    return { available: true, info };
  },
  async open(bundleDir: string, file: BundleFile, _contract: ModelContract): Promise<RuntimeSession> {
    const p = await probeChromiumWebgpu();
    if (typeof p === 'string') throw new Error(`chromium/webgpu is not available: ${p}`);
    const s = await openSf2Page(bundleDir, `webgpu/${file.precision}`, p.args);
    return {
      run: (input: Float32Array) => s.harness.evaluate((x) => window.sf2wg.embed(x), input),
      close: () => s.close(),
    };
  },
};
