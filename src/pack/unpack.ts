/**
 * Safe unpacking of a bundle tarball (for `verify FILE.tgz`). A tarball is
 * untrusted input: an entry whose path is absolute or climbs out with `..`, a
 * symbolic or hard link, a device, FIFO or any other non-regular entry is
 * refused, and nothing is written outside the target folder. Bombs (more
 * entries or bytes than src/limits.ts allows) are refused while listing,
 * before anything is inflated to disk.
 */
import { createReadStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { InputError } from '../errors.js';
import { limit, raiseHint } from '../limits.js';

function cleanMessage(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ').slice(0, 200);
}

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
  // Bombs stop the listing at the first entry over a limit (sizes come from the
  // headers, so a 3 GiB entry is refused without inflating it).
  const maxEntries = limit('bundleEntries'), maxBytes = limit('bundleBytes');
  let entries = 0, total = 0;
  let bomb: InputError | undefined;
  const stream = createReadStream(file);
  try {
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        strict: true,
        onReadEntry: (e) => {
          entries++;
          total += e.size ?? 0;
          const p = entryProblem(e.path, e.type);
          if (p) problems.push(p);
          if (!bomb && entries > maxEntries) bomb = new InputError('tarball', `${file}: over ${maxEntries} entries (a bundle has far fewer)`, raiseHint('bundleEntries'));
          if (!bomb && total > maxBytes) bomb = new InputError('tarball', `${file}: its entries hold over ${maxBytes} bytes (entry ${e.path}: ${e.size} bytes)`, raiseHint('bundleBytes'));
          if (bomb) {
            stream.destroy();
            resolve();
          }
          e.resume();
        },
      } as ConstructorParameters<typeof tar.Parser>[0]);
      parser.on('error', reject);
      parser.on('end', () => resolve());
      stream.on('error', reject);
      stream.pipe(parser as unknown as NodeJS.WritableStream);
    });
  } catch (e) {
    if (!bomb) throw new InputError('tarball', `${file} is not a readable .tgz: ${cleanMessage(e)}`, 'pass a tarball made by sf2-export pack');
  }
  if (bomb) throw bomb;
  if (entries === 0) throw new InputError('tarball', `${file} holds no entries: not a bundle tarball`, 'pass a tarball made by sf2-export pack');
  if (problems.length) throw new InputError('tarball', `${file}: refused: ${problems.join('; ')}`, 'only unpack tarballs made by sf2-export pack');
  mkdirSync(dest, { recursive: true });
  try {
    await tar.extract({
      file,
      cwd: dest,
      strict: true,
      preserveOwner: false,
      filter: (path, entry) => !entryProblem(path, (entry as { type: string }).type),
    });
  } catch (e) {
    throw new InputError('tarball', `${file} cannot be unpacked: ${cleanMessage(e)}`, 'pass a tarball made by sf2-export pack');
  }
  const top = readdirSync(dest);
  if (top.length === 1 && !statSync(join(dest, top[0]!)).isDirectory()) throw new InputError('tarball', `${file} holds one file, not a bundle folder`, 'pass a tarball made by sf2-export pack');
  if (top.length !== 1) throw new InputError('tarball', `${file} holds ${top.length} top-level entries; a bundle tarball holds one folder`);
  return join(dest, top[0]!);
}
