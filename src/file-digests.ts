/**
 * sha256 digests of files this process has just written, so that the manifest
 * does not read a 260 MB model back from disk to hash what the writer already
 * saw go by.
 *
 * A writer that hashes its output as it writes calls `rememberDigest(path,
 * sha256)` once the file is in place; `knownDigest(path)` returns it only while
 * the file is unchanged: same device, inode, size and modification time as
 * when it was remembered (anything that rewrites the file changes the size or
 * the mtime; a rename keeps all four, so a digest remembered for a temporary
 * name should be remembered again for the final one). Otherwise undefined,
 * and the caller hashes the file itself.
 */
import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';

interface Entry {
  readonly sha256: string;
  readonly stamp: string;
}

const known = new Map<string, Entry>();

function stamp(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

export function rememberDigest(path: string, sha256: string): void {
  const abs = resolve(path);
  known.set(abs, { sha256, stamp: stamp(statSync(abs)) });
}

export function knownDigest(path: string): string | undefined {
  const abs = resolve(path);
  const e = known.get(abs);
  if (!e) return undefined;
  try {
    if (stamp(statSync(abs)) === e.stamp) return e.sha256;
  } catch {
    // gone: forget it
  }
  known.delete(abs);
  return undefined;
}
