/**
 * Human output goes to stderr; stdout is reserved for --json results. One
 * logger per command run, configured once from the global flags:
 *  - on a terminal (and not in CI): progress bars redrawn in place, colour
 *    unless NO_COLOR;
 *  - otherwise (a pipe, a CI log): plain lines, one when a step starts and one
 *    when it ends;
 *  - --json or --quiet: nothing but warnings and errors.
 */
export interface LogOptions {
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
  color?: boolean;
  /** Force terminal (progress bar) mode on or off; default: stream.isTTY and not CI. */
  tty?: boolean;
}

export interface Progress {
  /** Advance by `n` (default 1) units of the total. */
  tick(n?: number): void;
  /** Finish, with a short result. */
  done(result?: string): void;
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  /** A step that takes time: prints "msg ..." and returns a function that ends it with its duration. */
  step(msg: string): (result?: string) => void;
  /** A step with a known amount of work (runtimes, batches): a bar on a terminal. */
  progress(label: string, total: number): Progress;
  readonly verbose: boolean;
}

const BAR = 24;

export function createLogger(opts: LogOptions = {}, stream: NodeJS.WritableStream = process.stderr): Logger {
  const quiet = !!opts.quiet || !!opts.json;
  const isTTY = opts.tty ?? ((stream as NodeJS.WriteStream).isTTY === true && !process.env.CI);
  const color = opts.color ?? (!process.env.NO_COLOR && isTTY);
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const write = (s: string) => stream.write(s + '\n');
  const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(2)} s`;
  return {
    verbose: !!opts.verbose,
    info: (m) => {
      if (!quiet) write(m);
    },
    warn: (m) => write(paint('33', `warning: ${m}`)),
    debug: (m) => {
      if (opts.verbose && !opts.json) write(paint('2', m));
    },
    step: (m) => {
      const t0 = performance.now();
      if (quiet) return () => {};
      if (isTTY) stream.write(`${paint('36', '…')} ${m}`);
      else write(`${m} ...`);
      return (result) => {
        const line = `${m}: ${result ?? 'done'} ${paint('2', `(${secs(t0)})`)}`;
        if (isTTY) stream.write(`\r\x1b[2K${paint('32', '✓')} ${line}\n`);
        else write(line);
      };
    },
    progress: (label, total) => {
      const t0 = performance.now();
      let n = 0;
      const draw = () => {
        const filled = total > 0 ? Math.round((BAR * Math.min(n, total)) / total) : BAR;
        stream.write(`\r\x1b[2K${label} ${paint('36', '█'.repeat(filled))}${paint('2', '░'.repeat(BAR - filled))} ${n}/${total}`);
      };
      if (!quiet) {
        if (isTTY) draw();
        else write(`${label} (0/${total}) ...`);
      }
      return {
        tick: (k = 1) => {
          n += k;
          if (!quiet && isTTY) draw();
        },
        done: (result) => {
          if (quiet) return;
          const line = `${label}: ${result ?? `${n}/${total}`} ${paint('2', `(${secs(t0)})`)}`;
          if (isTTY) stream.write(`\r\x1b[2K${paint('32', '✓')} ${line}\n`);
          else write(line);
        },
      };
    },
  };
}

export const silentLogger: Logger = {
  verbose: false,
  info() {},
  warn() {},
  debug() {},
  step: () => () => {},
  progress: () => ({ tick() {}, done() {} }),
};
