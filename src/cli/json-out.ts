/**
 * --json output: exactly one JSON object on stdout per run, whatever the exit
 * code. A command prints its object itself on success (emitJson); on a failure
 * it attaches what it knows to the error it throws (withJson), and the CLI's
 * one catch (main.ts) prints that merged with `ok: false`, `exitCode` and
 * `error: {code, message, hint}`. Logs stay on stderr.
 */
const PAYLOAD = Symbol.for('sf2-export.jsonPayload');

/** Write one JSON object as one line on stdout. */
export function emitJson(obj: object): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

/** Attach the --json fields a failing command knows (e.g. the partial parity results) to its error. */
export function withJson<E extends Error>(err: E, payload: Record<string, unknown>): E {
  Object.defineProperty(err, PAYLOAD, { value: payload, enumerable: false });
  return err;
}

/** What withJson attached, or {}. */
export function jsonPayloadOf(err: unknown): Record<string, unknown> {
  const p = err && typeof err === 'object' ? (err as Record<symbol, unknown>)[PAYLOAD] : undefined;
  return p && typeof p === 'object' ? (p as Record<string, unknown>) : {};
}
