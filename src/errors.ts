/**
 * One error family for the whole tool. Every error a user can cause is an
 * `Sf2Error` with a stable `code`, a one-line message (what and where) and a
 * `hint` (how to fix it). The CLI maps the class to an exit code in exactly one
 * place: `exitCodeFor` below. Documented in docs/cli.md.
 */


export const ExitCode = {
  ok: 0,
  /** A bug in sf2-export (anything that is not an Sf2Error). */
  internal: 1,
  /** Bad command line or configuration. */
  usage: 2,
  /** Bad input: a model, external data, reference or bundle that cannot be read. */
  input: 3,
  /** A valid model that uses something sf2-export cannot convert. */
  unsupported: 4,
  /** Parity failed: an exported embedding is too far from the reference. */
  parity: 5,
  /** Verification failed: a bundle's files, report or signature do not hold. */
  verify: 6,
  /**
   * Unverified: some bundle file was run by no runtime at all (every runtime that
   * could run it was skipped: no adapter, a missing GPU feature, a missing package).
   * Not a parity failure; `--allow-unverified` accepts it.
   */
  unverified: 7,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class Sf2Error extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;
  constructor(exitCode: ExitCodeValue, code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
    this.exitCode = exitCode;
  }
  /** `message (hint)` on one line, as the CLI prints it. */
  oneLine(): string {
    const msg = this.message.replace(/\s*\n\s*/g, ' ');
    return this.hint ? `${msg} (${this.hint})` : msg;
  }
}

export class UsageError extends Sf2Error {
  constructor(message: string, hint?: string) {
    super(ExitCode.usage, 'usage', message, hint);
  }
}

export class InputError extends Sf2Error {
  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(ExitCode.input, code, message, hint, options);
  }
}

export class UnsupportedError extends Sf2Error {
  constructor(code: string, message: string, hint?: string) {
    super(ExitCode.unsupported, code, message, hint);
  }
}

/**
 * R: what the failing step produced (exportModel: its ExportResult, the bundle
 * having been written for inspection; docs/api.md). A type parameter, so that
 * this bottom layer names no type of the layers above it.
 */
export class ParityError<R = unknown> extends Sf2Error {
  result?: R;
  constructor(message: string, hint?: string, result?: R) {
    super(ExitCode.parity, 'parity', message, hint);
    if (result) this.result = result;
  }
}

export class VerifyError extends Sf2Error {
  constructor(message: string, hint?: string) {
    super(ExitCode.verify, 'verify', message, hint);
  }
}

export class UnverifiedError extends Sf2Error {
  constructor(message: string, hint?: string) {
    super(ExitCode.unverified, 'unverified', message, hint);
  }
}

/** The single mapping from any thrown value to a process exit code. */
export function exitCodeFor(err: unknown): ExitCodeValue {
  return err instanceof Sf2Error ? err.exitCode : ExitCode.internal;
}

/**
 * Run `fn`, making an InputError or UnsupportedError it throws name `file`
 * (prefixed "FILE: ") when its message does not already: every error about a
 * model names the model.
 */
export function namingFile<T>(file: string, fn: () => T): T {
  try {
    const r = fn();
    if (r instanceof Promise) return r.catch((e: unknown) => { throw withFile(file, e); }) as T;
    return r;
  } catch (e) {
    throw withFile(file, e);
  }
}

function withFile(file: string, e: unknown): unknown {
  if ((e instanceof InputError || e instanceof UnsupportedError) && !e.message.includes(file)) e.message = `${file}: ${e.message}`;
  return e;
}
