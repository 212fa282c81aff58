/**
 * Writing a bundle atomically: everything goes into a temporary folder beside
 * the destination (same filesystem, so the final rename is atomic), which is
 * renamed into place only at the end. An existing destination is refused
 * unless `force`; with `force` it is swapped out and removed after the rename.
 * The input model is never touched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export class BundleDir {
  readonly final: string;
  readonly tmp: string;
  private done = false;

  private constructor(final: string, tmp: string) {
    this.final = final;
    this.tmp = tmp;
  }

  static open(out: string, force: boolean): BundleDir {
    const final = resolve(out);
    if (existsSync(final) && !force) {
      throw new UsageError(`output folder ${out} already exists`, 'pass --force to replace it, or choose another --out');
    }
    mkdirSync(dirname(final), { recursive: true });
    const tmp = join(dirname(final), `.${basename(final)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp);
    return new BundleDir(final, tmp);
  }

  /** Move the finished bundle into place. */
  commit(): void {
    if (existsSync(this.final)) {
      const old = `${this.tmp}.old`;
      renameSync(this.final, old);
      renameSync(this.tmp, this.final);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(this.tmp, this.final);
    }
    this.done = true;
  }

  /** Remove the temporary folder (after an error). */
  abort(): void {
    if (!this.done) rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Every regular file under `root`, as '/'-separated relative paths, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${prefix}${name}/`);
      else if (st.isFile()) out.push(`${prefix}${name}`);
    }
  };
  walk(root, '');
  return out.sort();
}

export async function sha256File(path: string): Promise<string> {
  return sha256FileSync(path);
}

/**
 * sha256 of a file through one reused 4 MiB buffer: no per-chunk allocation
 * (fresh memory is slow to fault in on some VMs, and a 1.5 GB model would
 * otherwise allocate 1.5 GB of short-lived chunks).
 */
export function sha256FileSync(path: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 22);
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
