/**
 * Reading and writing a bundle's text files: one owner for the atomic write
 * (a temporary `path.tmp-PID`, then a rename, so a reader never sees half a
 * file) and for the InputError (exit 3) a file that cannot be read gives.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.js';

/** Write `text` to `path` through `path.tmp-PID` and a rename. */
export function writeAtomic(path: string, text: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * `path` as UTF-8 text, or InputError(code): "<path>: cannot read (<errno>)",
 * or "<path>: missing" for a file that is not there when `missing` is set.
 */
export function readText(path: string, code: string, hint: string, opts: { readonly missing?: boolean } = {}): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    throw new InputError(code, `${path}: ${opts.missing && errno === 'ENOENT' ? 'missing' : `cannot read (${errno ?? (e as Error).message})`}`, hint);
  }
}
