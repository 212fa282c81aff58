/**
 * The shared headless-Chromium harness for in-browser parity runtimes (tfjs
 * webgl/webgpu, the WebGPU bundle, onnxruntime-web) and for looking at the
 * HTML report.
 *
 *   import { BrowserHarness, packageDir, chromiumProbe } from './index.js';
 *
 *   const probe = await chromiumProbe();             // { available, reason?, version? }
 *   const h = await BrowserHarness.open({
 *     mounts: { '/bundle/': bundleDir, '/tfjs/': packageDir('@tensorflow/tfjs-core', 'dist') },
 *     files: { '/index.html': '<!doctype html><script type="module">...</script>' },
 *     page: '/index.html',                            // opened, waited for 'load'
 *   });
 *   const out = await h.evaluate(async ({ x, n }) => window.run(x, n), { x: float32Array, n });
 *   const adapter = await h.adapterInfo();           // navigator.gpu adapter, or { error }
 *   await h.close();                                 // browser, server, temp profile
 *
 * Typed arrays (Float32Array, ...) pass through evaluate() in both directions.
 * Page errors and console errors are collected (h.errors()) and appended to a
 * failed evaluate's message, with the URLs the page could not fetch.
 *
 * Chromium: $SF2_CHROMIUM or /usr/bin/chromium, through playwright-core, with
 * the flags in CHROMIUM_ARGS (headless, no sandbox, no network services,
 * WebGPU on). Without a GPU, Chromium's WebGPU adapter is SwiftShader
 * (isFallbackAdapter: true). A fresh temporary profile each time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterInfo } from '../runtime.js';
import { startStaticServer, type StaticServer, type StaticServerOptions } from './server.js';

type PW = typeof import('playwright-core');
type BrowserContext = import('playwright-core').BrowserContext;
type Page = import('playwright-core').Page;

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

export function chromiumPath(): string {
  return process.env.SF2_CHROMIUM || '/usr/bin/chromium';
}

async function playwright(): Promise<PW> {
  return (await import('playwright-core')) as PW;
}

export interface ChromiumProbe {
  readonly available: boolean;
  readonly reason?: string;
  readonly executable: string;
}

/** Can a headless Chromium be launched here? (Cheap: checks the executable and playwright-core.) */
export async function chromiumProbe(): Promise<ChromiumProbe> {
  const executable = chromiumPath();
  if (!existsSync(executable)) return { available: false, executable, reason: `no Chromium at ${executable} (install the chromium package, or set SF2_CHROMIUM)` };
  try {
    await playwright();
  } catch (e) {
    return { available: false, executable, reason: `playwright-core does not load: ${(e as Error).message.split('\n')[0]}` };
  }
  return { available: true, executable };
}

export interface BrowserPageOptions extends StaticServerOptions {
  /** Path to open on the server, e.g. '/index.html'. */
  readonly page: string;
  /** Extra Chromium flags (e.g. '--enable-features=Vulkan'). */
  readonly args?: readonly string[];
  /** Viewport (default 1280 x 900). */
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Page load timeout (default 60 s). */
  readonly timeoutMs?: number;
}

export class BrowserHarness {
  private readonly errorLines: string[] = [];

  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
    readonly server: StaticServer,
    private readonly profile: string,
    readonly chromiumVersion: string,
  ) {
    page.on('pageerror', (e) => this.errorLines.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errorLines.push(`console: ${m.text()}`);
    });
  }

  /** Launch Chromium, serve the files, open `page` and wait for its load event. */
  static async open(opts: BrowserPageOptions): Promise<BrowserHarness> {
    const server = await startStaticServer(opts);
    const profile = mkdtempSync(join(tmpdir(), 'sf2-chromium-'));
    let context: BrowserContext | undefined;
    try {
      const pw = await playwright();
      context = await pw.chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath(),
        headless: true,
        args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
        viewport: opts.viewport ?? { width: 1280, height: 900 },
        env: { ...(process.env as Record<string, string>), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(opts.timeoutMs ?? 60000);
      const version = context.browser()?.version() ?? 'unknown';
      const h = new BrowserHarness(page, context, server, profile, version);
      await page.goto(server.url(opts.page), { waitUntil: 'load', timeout: opts.timeoutMs ?? 60000 });
      return h;
    } catch (e) {
      await context?.close().catch(() => {});
      await server.close();
      rmSync(profile, { recursive: true, force: true });
      throw e;
    }
  }

  /** Page errors, console errors and 404s so far. */
  errors(): string[] {
    return [...this.errorLines, ...this.server.missing.map((p) => `not found: ${p}`)];
  }

  /** page.evaluate, with the page's errors added to a failure's message. */
  async evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    try {
      // playwright's PageFunction types the argument as Unboxed<A>; for plain data that is A.
      return (await this.page.evaluate(fn as never, arg)) as R;
    } catch (e) {
      const extra = this.errors().slice(-5).join(' | ');
      throw new Error(`${(e as Error).message.split('\n')[0]}${extra ? ` (${extra})` : ''}`);
    }
  }

  /** The page's WebGPU adapter (requestAdapter with default options), or why there is none. */
  async adapterInfo(): Promise<{ adapter?: AdapterInfo; features?: string[]; error?: string }> {
    return this.page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu) return { error: 'navigator.gpu is undefined (WebGPU disabled, or not a secure context)' };
      const a = (await gpu.requestAdapter()) as null | { info: Record<string, unknown>; features: Set<string>; isFallbackAdapter?: boolean };
      if (!a) return { error: 'requestAdapter() returned null' };
      const i = a.info;
      return {
        adapter: {
          vendor: String(i.vendor ?? ''),
          architecture: String(i.architecture ?? ''),
          description: String(i.description || i.device || ''),
          isFallbackAdapter: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter ?? false),
        },
        features: [...a.features].sort(),
      };
    });
  }

  /** A PNG of the page (full page by default). */
  async screenshot(fullPage = true): Promise<Buffer> {
    return this.page.screenshot({ fullPage, type: 'png' });
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      await this.server.close();
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}
