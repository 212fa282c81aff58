/**
 * `sf2-export serve DIR`: serve an exported bundle folder on loopback, for the
 * WebGPU demo page (DIR/webgpu/index.html: two faces in, their cosine out) or
 * any page of your own that loads the bundle. WebGPU needs a secure context;
 * http://127.0.0.1 is one.
 *
 * Static files only: GET and HEAD, paths decoded and normalized, never outside
 * DIR (no '..', no symbolic links leading out), regular files only; a folder
 * serves its index.html. The root URL (the one printed) opens the demo page
 * when the folder has no index.html of its own.
 */
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';

export interface ServeOptions {
  readonly port?: number | string;
  readonly host?: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.data': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface Serving {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Start serving `dir`; resolves once listening. */
export async function startServe(dir: string, opts: ServeOptions = {}): Promise<Serving> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`serve: ${dir} is not a folder`, 'pass the --out folder of an export');
  const root = realpathSync(resolve(dir));
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port === undefined ? 8080 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`serve: --port ${opts.port} is not a port number`, 'use 0..65535 (0: any free port)');

  const server = createServer((req, res) => {
    const send = (code: number, msg: string) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : `${msg}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path: string;
    try {
      // Decoded but not normalized: a '..' segment is refused, not resolved.
      path = decodeURIComponent((req.url ?? '/').split(/[?#]/)[0]!);
    } catch {
      return send(400, 'bad path');
    }
    if (!path.startsWith('/') || path.includes('\0') || path.split(/[/\\]/).includes('..')) return send(403, 'forbidden');
    let file = resolve(root, `.${path}`);
    // The printed URL is the folder's root: with no index.html of its own, it
    // opens the WebGPU demo (a redirect, so the page's relative URLs resolve under /webgpu/).
    if (path === '/' && !existsSync(join(root, 'index.html')) && existsSync(join(root, 'webgpu', 'index.html'))) {
      res.writeHead(302, { Location: '/webgpu/', 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
      return res.end(req.method === 'HEAD' ? undefined : 'the WebGPU demo is at /webgpu/\n');
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const real = realpathSync(file);
      if (real !== root && !real.startsWith(root + sep)) return send(403, 'forbidden');
      const st = statSync(real);
      if (!st.isFile()) return send(404, 'not found');
      res.writeHead(200, {
        'Content-Type': TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(real).pipe(res);
    } catch {
      send(404, 'not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(new UsageError(`serve: port ${port} on ${host} is in use`, 'pass --port with another number (0: any free port)'));
      else fail(new UsageError(`serve: cannot listen on ${host}:${port}: ${e.message}`));
    });
    server.listen(port, host, () => ok());
  });
  const a = server.address() as AddressInfo;
  const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  return {
    url,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The command: serve until interrupted (Ctrl-C). */
export async function serveCommand(dir: string, opts: ServeOptions, log: Logger): Promise<number> {
  const s = await startServe(dir, opts);
  const demo = existsSync(join(dir, 'webgpu', 'index.html'));
  log.info(`serving ${resolve(dir)} at ${s.url}${demo ? ' (the WebGPU demo page)' : ''}`);
  if (!demo) log.warn(`${join(dir, 'webgpu', 'index.html')} does not exist: export with --target webgpu for the demo page`);
  log.info('press Ctrl-C to stop');
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await s.close();
  return 0;
}
