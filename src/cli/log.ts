/**
 * Human output goes to stderr; stdout is reserved for --json results. One
 * logger per command run, configured once from the global flags.
 */
export interface LogOptions {
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
  color?: boolean;
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  /** A step that takes time: prints "msg ..." and returns a function that ends it with its duration. */
  step(msg: string): (result?: string) => void;
  readonly verbose: boolean;
}

export function createLogger(opts: LogOptions = {}, stream: NodeJS.WritableStream = process.stderr): Logger {
  const quiet = !!opts.quiet || !!opts.json;
  const color = opts.color ?? (!process.env.NO_COLOR && (stream as NodeJS.WriteStream).isTTY === true);
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const write = (s: string) => stream.write(s + '\n');
  return {
    verbose: !!opts.verbose,
    info: (m) => { if (!quiet) write(m); },
    warn: (m) => { if (!opts.json || opts.verbose) write(paint('33', `warning: ${m}`)); else write(`warning: ${m}`); },
    debug: (m) => { if (opts.verbose && !opts.json) write(paint('2', m)); },
    step: (m) => {
      const t0 = performance.now();
      if (!quiet) write(`${m} ...`);
      return (result) => {
        const s = ((performance.now() - t0) / 1000).toFixed(2);
        if (!quiet) write(`${m}: ${result ?? 'done'} (${s} s)`);
      };
    },
  };
}

export const silentLogger: Logger = { verbose: false, info() {}, warn() {}, debug() {}, step: () => () => {} };
