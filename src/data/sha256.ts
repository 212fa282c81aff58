/**
 * sha256 digests, hex: of bytes, of a file, and of a set of named files.
 *
 *   sha256Hex(bytes)        the digest of the bytes;
 *   sha256FileSync(path)    the digest of the file's bytes, read through one
 *                           reused 4 MiB buffer (no per-chunk allocation: fresh
 *                           memory is slow to fault in on some VMs, and a
 *                           1.5 GB model would otherwise allocate 1.5 GB of
 *                           short-lived chunks), or the digest its writer
 *                           remembered while the file is unchanged
 *                           (src/file-digests.ts);
 *   filesDigest(files)      one file: its sha256; several: the sha256 of the
 *                           sorted lines "<sha256>  <name>\n" (sha256sum
 *                           format), the digest parity reports for a reference
 *                           set and the golden set records.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { knownDigest } from '../file-digests.js';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let hashBuffer: Buffer | undefined;

/**
 * sha256 of a file, read through one reused 4 MiB buffer. By default a digest
 * this process's own writer remembered for the unchanged file is returned
 * without reading it; `verify` passes `{ fromDisk: true }`, since what it
 * checks is the bytes on disk, never what this process believes it wrote.
 */
export function sha256FileSync(path: string, opts: { readonly fromDisk?: boolean } = {}): string {
  const known = opts.fromDisk ? undefined : knownDigest(path); // hashed by its writer as it was written
  if (known) return known;
  const h = createHash('sha256');
  const buf = (hashBuffer ??= Buffer.allocUnsafe(1 << 22)); // one per process
  const fd = openSync(path, 'r');
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function filesDigest(files: readonly { readonly name: string; readonly sha256: string }[]): string {
  return files.length === 1 ? files[0]!.sha256 : sha256Hex(files.map((f) => `${f.sha256}  ${f.name}\n`).sort().join(''));
}
