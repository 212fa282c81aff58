/**
 * A static HTTP server on 127.0.0.1 (an ephemeral port) for headless-browser
 * runs: URL prefixes mounted on folders, plus in-memory files. Loopback only;
 * GET/HEAD only; paths are decoded, normalized and must stay inside their
 * mount (no '..', no symbolic links out, only regular files). It sends
 * COOP/COEP headers so pages are cross-origin isolated (SharedArrayBuffer:
 * multi-threaded wasm), and no-store so nothing is cached between runs.
 *
 *   const s = await startStaticServer({ mounts: { '/bundle/': dir, '/ort/': packageDir('onnxruntime-web', 'dist') },
 *                                       files: { '/index.html': html } });
 *   s.url('/index.html')  // http://127.0.0.1:PORT/index.html
 *   await s.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.data': 'application/octet-stream',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.wgsl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

export interface StaticServerOptions {
  /** URL prefix (starting and ending with '/') -> folder. */
  readonly mounts?: Readonly<Record<string, string>>;
  /** Exact URL path -> content. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
}

export interface StaticServer {
  readonly origin: string;
  url(path: string): string;
  /** Requests answered 404 (for error messages: a page that fetched something missing). */
  readonly missing: readonly string[];
  close(): Promise<void>;
}

/** The folder of an installed package (optionally a sub-folder), resolved from sf2-export's own node_modules. */
export function packageDir(name: string, sub = ''): string {
  const req = createRequire(import.meta.url);
  try {
    return join(dirname(req.resolve(`${name}/package.json`)), sub);
  } catch {
    // package.json not exported: walk up from the resolved entry point.
    for (const p of req.resolve.paths(name) ?? []) {
      const dir = join(p, name);
      if (existsSync(join(dir, 'package.json'))) return join(dir, sub);
    }
    throw new Error(`package ${name} is not installed`);
  }
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const mounts = Object.entries(opts.mounts ?? {}).map(([prefix, dir]) => {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error(`mount prefix ${prefix} must start and end with '/'`);
    return [prefix, realpathSync(resolve(dir))] as const;
  }).sort((a, b) => b[0].length - a[0].length);
  const files = new Map(Object.entries(opts.files ?? {}));
  const missing: string[] = [];

  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'bad path');
    }
    if (path.includes('\0') || path.split('/').includes('..')) return send(res, 400, 'bad path');
    if (path === '/favicon.ico' && !files.has(path)) {
      res.writeHead(204, HEADERS); // browsers ask for it on their own; not a missing file of the page
      return res.end();
    }
    const mem = files.get(path);
    if (mem !== undefined) {
      res.writeHead(200, { ...HEADERS, 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream' });
      return res.end(req.method === 'HEAD' ? undefined : mem);
    }
    const m = mounts.find(([prefix]) => path.startsWith(prefix));
    if (!m) {
      missing.push(path);
      return send(res, 404, 'not found');
    }
    const abs = resolve(m[1], path.slice(m[0].length));
    let real: string;
    try {
      real = realpathSync(abs);
      if (!(real === m[1] || real.startsWith(m[1] + sep)) || !statSync(real).isFile()) throw new Error('outside');
    } catch {
      missing.push(path);
      return send(res, 404, 'not found');
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': MIME[extname(real)] ?? 'application/octet-stream', 'Content-Length': statSync(real).size });
    if (req.method === 'HEAD') return res.end();
    createReadStream(real).pipe(res);
  };

  const server = createServer(handler);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (p: string) => origin + (p.startsWith('/') ? p : `/${p}`),
    missing,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
