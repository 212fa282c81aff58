/**
 * Safe unpacking of a bundle tarball (for `verify FILE.tgz`). A tarball is
 * untrusted input: an entry whose path is absolute or climbs out with `..`, a
 * symbolic or hard link, a device, FIFO or any other non-regular entry is
 * refused, and nothing is written outside the target folder.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { InputError } from '../errors.js';

/** Entry types a bundle may hold. */
const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

/** The problem with an entry, or undefined when it is safe. */
export function entryProblem(path: string, type: string): string | undefined {
  if (!ALLOWED.has(type)) return `${path} is a ${type} entry; a bundle holds only files and folders`;
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.startsWith('\\')) return `${path} is an absolute path`;
  if (path.split(/[\\/]/).includes('..')) return `${path} leaves the target folder`;
  return undefined;
}

/** Unpack `file` into `dest` (created). Returns the single top folder's path. */
export async function unpackBundle(file: string, dest: string): Promise<string> {
  const problems: string[] = [];
  // Pass 1: list every entry and refuse the tarball before writing anything.
  try {
    await tar.list({
      file,
      onReadEntry: (e) => {
        const p = entryProblem(e.path, e.type);
        if (p) problems.push(p);
      },
    });
  } catch (e) {
    throw new InputError('tarball', `${file} is not a readable .tgz: ${(e as Error).message}`);
  }
  if (problems.length) throw new InputError('tarball', `${file}: refused: ${problems.join('; ')}`, 'only unpack tarballs made by sf2-export pack');
  mkdirSync(dest, { recursive: true });
  await tar.extract({
    file,
    cwd: dest,
    strict: true,
    preserveOwner: false,
    filter: (path, entry) => !entryProblem(path, (entry as { type: string }).type),
  });
  const top = readdirSync(dest);
  if (top.length !== 1) throw new InputError('tarball', `${file} holds ${top.length} top-level entries; a bundle tarball holds one folder`);
  return join(dest, top[0]!);
}
