/**
 * Running engine code in a child Node process, for runtimes that must not (or
 * cannot) run in ours: native GPU engines that read their driver environment
 * when the process starts (see gpu-env.ts), or that may crash the process on
 * a device loss.
 *
 * The child program is a plain-JavaScript ES module TEXT (so it runs the same
 * from src/ under vitest and from dist/) that defines
 *     export const handlers = { async name(...args) { ... }, ... };
 * It may use `require(...)`, which resolves packages from sf2-export's own
 * node_modules. Calls and results travel over Node's IPC channel with the
 * 'advanced' serialization (structured clone): typed arrays pass as they are.
 *
 *     const w = await ChildWorker.start(SOURCE, { env, name: 'onnxruntime-node/webgpu' });
 *     const out = await w.call<Float32Array>('run', ...args);
 *     await w.close();
 *
 * A child that dies fails every pending call with its exit status and the
 * tail of its stderr. The program never touches the filesystem: it is sent
 * over IPC and imported from a data: URL (see BOOTSTRAP), and the child ends
 * when its parent does.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const BOOT = (requireBase: string) => `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(requireBase)});
`;

const LOOP = `
process.on('message', async (m) => {
  if (!m || typeof m.id !== 'number') return;
  try {
    const h = handlers[m.method];
    if (typeof h !== 'function') throw new Error('no handler ' + m.method);
    const result = await h(...m.args);
    process.send({ id: m.id, ok: true, result });
  } catch (e) {
    process.send({ id: m.id, ok: false, error: String(e && e.message ? e.message : e) });
  }
});
process.on('disconnect', () => process.exit(0));
// Tied to the parent's life: a parent killed with SIGKILL closes the IPC channel
// ('disconnect' above); a reparented child (ppid changed) also ends.
{
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent || !process.connected) process.exit(0); }, 1000).unref();
}
process.send({ ready: true });
`;

export interface ChildOptions {
  /** The complete environment of the child (default: ours). */
  readonly env?: Readonly<Record<string, string>>;
  /** For messages, e.g. the runtime id. */
  readonly name: string;
  /** How long starting may take (default 60 s). */
  readonly startTimeoutMs?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/**
 * The child's whole program is sent over its private IPC channel and imported
 * from a `data:` URL: no file is ever written or read (a worker file in a
 * shared $TMPDIR could be planted by another user and would run as us). The
 * only code given to `node -e` is this fixed bootstrap.
 */
const BOOTSTRAP = `process.once('message', (m) => {
  if (!m || typeof m.program !== 'string') process.exit(70);
  import('data:text/javascript;base64,' + m.program).catch((e) => { process.stderr.write(String(e && e.stack || e) + '\\n'); process.exit(70); });
});`;

function programText(source: string): string {
  const requireBase = new URL('../../package.json', import.meta.url).href;
  return BOOT(requireBase) + source + LOOP;
}

export class ChildWorker {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail = '';
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.stderr?.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString()).slice(-4000);
    });
    child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (typeof m?.id !== 'number') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error ?? 'unknown error'));
    });
    child.on('exit', (code, signal) => {
      this.exited = `${this.name} worker exited (${signal ?? `code ${code}`})${this.tail()}`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  private tail(): string {
    const t = this.stderrTail.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
    return t ? `: ${t}` : '';
  }

  /** Start a worker running `source` (see the module comment). */
  static start(source: string, options: ChildOptions): Promise<ChildWorker> {
    const child = spawn(process.execPath, ['-e', BOOTSTRAP], {
      env: options.env ?? (process.env as Record<string, string>),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const w = new ChildWorker(child, options.name);
    child.send({ program: Buffer.from(programText(source), 'utf8').toString('base64') }, () => {});
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${options.name} worker did not start in ${(options.startTimeoutMs ?? 60000) / 1000} s${w.tail()}`));
      }, options.startTimeoutMs ?? 60000);
      const onMsg = (m: { ready?: boolean }) => {
        if (m?.ready) {
          clearTimeout(timer);
          child.off('message', onMsg);
          resolve(w);
        }
      };
      child.on('message', onMsg);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(w.exited ?? `${options.name} worker exited`));
      });
    });
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, method, args }, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  /** The last lines the child wrote on stderr (Dawn and driver warnings). */
  stderr(): string {
    return this.stderrTail;
  }

  /** Disconnect and wait for the child to end (killed after 10 s). */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    try {
      this.child.disconnect();
    } catch {
      this.child.kill('SIGKILL');
    }
    await done;
    clearTimeout(timer);
  }
}
