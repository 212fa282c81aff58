/**
 * Human output goes to stderr; stdout is reserved for --json results. One
 * logger per command run, configured once from the global flags:
 *  - on a terminal (and not in CI): progress bars redrawn in place, colour
 *    unless NO_COLOR;
 *  - otherwise (a pipe, a CI log): plain lines, one when a step starts and one
 *    when it ends;
 *  - --quiet: nothing but warnings and errors. --json changes nothing here:
 *    stdout carries the one JSON object, these logs stay on stderr.
 */
export interface LogOptions {
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
  color?: boolean;
  /** Force terminal (progress bar) mode on or off; default: stream.isTTY and not CI. */
  tty?: boolean;
}

export type Outcome = 'pass' | 'fail' | 'error' | 'skip';

export interface Progress {
  /** Advance by `n` (default 1) rows; 'flip' counts the width-flipped copies apart. */
  tick(n?: number, part?: 'flip'): void;
  /** Finish, with a short result and its outcome (default pass: the mark it gets). */
  done(result?: string, outcome?: Outcome): void;
}

export interface ProgressOptions {
  /** The rows are run a second time width-flipped: count those apart. */
  readonly flips?: boolean;
}

/** Mark, colour (ANSI SGR) and word per outcome: the word survives NO_COLOR. */
export const MARKS: Readonly<Record<Outcome, { readonly mark: string; readonly color: string; readonly word: string }>> = {
  pass: { mark: '✓', color: '32', word: 'pass' },
  fail: { mark: '✗', color: '31', word: 'FAIL' },
  error: { mark: '!', color: '35', word: 'ERROR' },
  skip: { mark: '-', color: '33', word: 'skip' },
};

/** The plain (uncoloured) mark and word of an outcome, e.g. "- skip". */
export function mark(o: Outcome): string {
  return `${MARKS[o].mark} ${MARKS[o].word}`;
}

/** How often a plain log (not a terminal) gets a progress line while a run sits still. */
export const HEARTBEAT_MS = 30000;

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  /** A step that takes time: prints "msg ..." and returns a function that ends it with its duration. */
  step(msg: string): (result?: string) => void;
  /** A step with a known amount of work (rows of a parity run): a bar on a terminal. */
  progress(label: string, total: number, options?: ProgressOptions): Progress;
  readonly verbose: boolean;
}

const BAR = 24;

export function createLogger(opts: LogOptions = {}, stream: NodeJS.WritableStream = process.stderr): Logger {
  const quiet = !!opts.quiet;
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
      if (opts.verbose) write(paint('2', m));
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
    progress: (label, total, popts = {}) => {
      const t0 = performance.now();
      let n = 0;
      let f = 0;
      let last = t0;
      const counts = () => {
        const s = (performance.now() - t0) / 1000;
        const rate = s > 0 && n + f > 0 ? `, ${((n + f) / s).toFixed(n + f >= 10 * s ? 0 : 2)} rows/s` : '';
        return `rows ${n}/${total}${popts.flips ? `, flips ${f}/${total}` : ''}, ${s.toFixed(0)} s${rate}`;
      };
      const all = popts.flips ? 2 * total : total;
      const draw = () => {
        const filled = all > 0 ? Math.round((BAR * Math.min(n + f, all)) / all) : BAR;
        stream.write(`\r\x1b[2K${label} ${paint('36', '█'.repeat(filled))}${paint('2', '░'.repeat(BAR - filled))} ${counts()}`);
      };
      let timer: ReturnType<typeof setInterval> | undefined;
      if (!quiet) {
        if (isTTY) {
          draw();
          timer = setInterval(draw, 1000);
        } else {
          write(`${label} (${counts()}) ...`);
          timer = setInterval(() => {
            if (performance.now() - last >= HEARTBEAT_MS) {
              last = performance.now();
              write(`${label} (${counts()}) ...`);
            }
          }, 1000);
        }
        timer.unref?.();
      }
      return {
        tick: (k = 1, part) => {
          if (part === 'flip') f += k;
          else n += k;
          if (!quiet && isTTY) draw();
        },
        done: (result, outcome = 'pass') => {
          if (timer) clearInterval(timer);
          if (quiet) return;
          const m = MARKS[outcome];
          const s = (performance.now() - t0) / 1000;
          const rate = n + f > 0 && s > 0 ? `, ${((n + f) / s).toFixed(2)} rows/s` : '';
          const text = result ?? `${m.word}: ${counts()}`;
          // The word is always there: a result that does not start with it gets it.
          const worded = text.toLowerCase().startsWith(m.word.toLowerCase()) ? text : `${m.word}: ${text}`;
          const line = `${label}: ${worded} ${paint('2', `(${secs(t0)}${rate})`)}`;
          if (isTTY) stream.write(`\r\x1b[2K${paint(m.color, m.mark)} ${line}\n`);
          else write(`${m.mark} ${line}`);
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
