/**
 * Writing a bundle atomically and never losing a user's files.
 *
 * Everything goes into a temporary folder beside the destination (same
 * filesystem, so the final rename is atomic), renamed into place only at the
 * end. The input model is never touched. The rules, checked by `preflight`
 * before any work and again at `commit`:
 *
 *   - `--out` is never the working directory, the model's folder, or a parent
 *     of either (a bundle is replaced as a whole; those hold other files);
 *   - an existing `--out` is refused without `force`; with `force` it is
 *     replaced only when it is a previous sf2-export bundle: a folder whose
 *     manifest.json says `tool.name: "sf2-export"` and in which every file is
 *     one the manifest lists (or manifest.json, SIGNATURE, MODEL_CARD.md,
 *     SHA256SUMS), or a folder with no files at all. Anything else is
 *     refused, so --force never removes a file that was not part of a bundle;
 *   - the output is taken atomically: an exclusive lock file
 *     `.<name>.sf2-lock` (open O_EXCL) beside it for the whole export, so a
 *     second concurrent export to the same --out is refused at once; at commit
 *     a folder that appeared meanwhile is refused (not replaced) without
 *     `force`;
 *   - leftovers of killed runs (`.<name>.tmp-<pid>-*` folders and locks whose
 *     process is gone) are removed by the next run to the same --out.
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { sha256FileSync } from '../data/sha256.js';

/** Files a bundle folder may hold besides those its manifest lists. */
const BUNDLE_EXTRAS = new Set(['manifest.json', 'SIGNATURE', 'manifest.sig', 'MODEL_CARD.md', 'SHA256SUMS']);

export interface OpenOptions {
  /** Replace a previous sf2-export bundle at `out`. */
  readonly force?: boolean;
  /** The input model (its folder and parents are never a valid `out`). */
  readonly model?: string;
}

/** `p` with symbolic links resolved as far as it exists. */
function real(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return abs;
      tail.unshift(basename(head));
      head = parent;
    }
  }
}

/** True when `a` is `b` or a parent folder of `b`. */
function isSameOrParent(a: string, b: string): boolean {
  const rel = relative(a, b);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why `dir` is not a previous sf2-export bundle that --force may replace
 * (undefined when it is one).
 */
export function notABundle(dir: string): string | undefined {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is a file, not a bundle folder';
  if (isEmptyTree(dir)) return undefined; // nothing in it to lose
  let m: { tool?: { name?: unknown }; files?: Array<{ path?: unknown }> };
  try {
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as typeof m;
  } catch {
    return 'has no sf2-export manifest.json';
  }
  if (!m || typeof m !== 'object' || m.tool?.name !== 'sf2-export' || !Array.isArray(m.files)) return 'has a manifest.json that sf2-export did not write';
  const listed = new Set(m.files.map((f) => String(f?.path)));
  const foreign: string[] = [];
  const stack: Array<[string, string]> = [[dir, '']];
  while (stack.length && foreign.length <= 3) {
    const [d, prefix] = stack.pop()!;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = lstatSync(p);
      const rel = `${prefix}${name}`;
      if (s.isDirectory()) stack.push([p, `${rel}/`]);
      else if (!s.isFile() || !(listed.has(rel) || (prefix === '' && BUNDLE_EXTRAS.has(name)))) foreign.push(rel);
      if (foreign.length > 3) break;
    }
  }
  if (foreign.length) return `holds files that are not part of the bundle (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`;
  return undefined;
}

/** True when `dir` holds no files at all (only, at most, empty folders). */
function isEmptyTree(dir: string): boolean {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = lstatSync(p);
      if (!s.isDirectory()) return false;
      stack.push(p);
    }
  }
  return true;
}

/** Remove `.<name>.tmp-<pid>-*` folders and a `.<name>.sf2-lock` left by processes that no longer run. */
export function cleanStale(final: string): string[] {
  const parent = dirname(final);
  const prefix = `.${basename(final)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const m = /^tmp-(\d+)-[0-9a-f]{8}(\.old)?$/.exec(rest);
    let pid: number | undefined;
    if (m) pid = Number(m[1]);
    else if (rest === 'sf2-lock') {
      try {
        pid = Number(readFileSync(join(parent, name), 'utf8').trim());
      } catch {
        continue;
      }
    } else continue;
    if (alive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function lockPath(final: string): string {
  return join(dirname(final), `.${basename(final)}.sf2-lock`);
}

/**
 * Check `out` before any work: not the cwd, the model's folder or a parent of
 * them; an existing one only with force and only a previous bundle; the
 * nearest existing folder writable. Throws UsageError (exit 2).
 */
export function preflight(out: string, options: OpenOptions = {}): string {
  const final = real(out);
  const cwd = real(process.cwd());
  if (isSameOrParent(final, cwd)) {
    throw new UsageError(`--out ${out} is the working directory or one of its parents; a bundle folder is replaced as a whole`, 'choose a new folder, e.g. --out sf2-dist/<model>');
  }
  if (options.model) {
    const modelDir = dirname(real(options.model));
    if (isSameOrParent(final, modelDir)) {
      throw new UsageError(`--out ${out} is the model's folder or one of its parents; it holds files that are not part of a bundle`, 'choose a new folder, e.g. --out sf2-dist/<model>');
    }
  }
  if (existsSync(final) || isLink(final)) {
    if (!options.force) throw new UsageError(`output folder ${out} already exists`, 'pass --force to replace it, or choose another --out');
    const why = notABundle(final);
    if (why) throw new UsageError(`--force refuses to replace ${out}: it ${why}`, '--force only replaces a bundle written by sf2-export; remove it yourself or choose another --out');
  }
  // The nearest existing ancestor must be a writable folder.
  let probe = dirname(final);
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  try {
    if (!statSync(probe).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    accessSync(probe, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new UsageError(`--out ${out}: cannot write in ${probe} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'choose a folder you can write to');
  }
  return final;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export class BundleDir {
  readonly final: string;
  readonly tmp: string;
  private readonly force: boolean;
  private readonly lock: string;
  private done = false;

  private constructor(final: string, tmp: string, force: boolean, lock: string) {
    this.final = final;
    this.tmp = tmp;
    this.force = force;
    this.lock = lock;
  }

  /** Check `out` (see `preflight`), take its lock and make the temporary folder. */
  static open(out: string, force: boolean | OpenOptions): BundleDir {
    const opts: OpenOptions = typeof force === 'boolean' ? { force } : force;
    const final = preflight(out, opts);
    const parent = dirname(final);
    try {
      mkdirSync(parent, { recursive: true });
    } catch (e) {
      throw new UsageError(`--out ${out}: cannot create ${parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'choose a folder you can write to');
    }
    cleanStale(final);
    const lock = lockPath(final);
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UsageError(`--out ${out}: cannot write in ${parent} (${code ?? (e as Error).message})`, 'choose a folder you can write to');
      let pid = '?';
      try {
        pid = readFileSync(lock, 'utf8').trim() || '?';
      } catch {
        /* gone meanwhile */
      }
      throw new UsageError(`another sf2-export (pid ${pid}) is writing ${out}`, `wait for it to finish, or choose another --out (a stale ${basename(lock)} of a process that has ended is removed by the next run)`);
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    const tmp = join(parent, `.${basename(final)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(tmp);
    } catch (e) {
      rmSync(lock, { force: true });
      throw new UsageError(`--out ${out}: cannot write in ${parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'choose a folder you can write to');
    }
    return new BundleDir(final, tmp, opts.force ?? false, lock);
  }

  /**
   * Move the finished bundle into place. Without force, a folder that appeared
   * at the destination meanwhile is refused; with force, whatever is there
   * must (still) be a previous bundle.
   */
  commit(): void {
    if (existsSync(this.final) || isLink(this.final)) {
      if (!this.force) throw new UsageError(`output folder ${this.final} appeared while exporting; it was left alone`, 'pass --force to replace a previous bundle, or choose another --out');
      const why = notABundle(this.final);
      if (why) throw new UsageError(`--force refuses to replace ${this.final}: it ${why}`, '--force only replaces a bundle written by sf2-export');
      const old = `${this.tmp}.old`;
      renameSync(this.final, old);
      try {
        renameSync(this.tmp, this.final);
      } catch (e) {
        renameSync(old, this.final);
        throw e;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      // rename(2) replaces an empty folder that appeared in between (nothing is lost)
      // and fails with ENOTEMPTY/EEXIST on anything else.
      try {
        renameSync(this.tmp, this.final);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') throw new UsageError(`output folder ${this.final} appeared while exporting; it was left alone`, 'choose another --out');
        throw e;
      }
    }
    this.done = true;
    this.unlock();
  }

  /** Remove the temporary folder (after an error) and release the lock. */
  abort(): void {
    if (!this.done) rmSync(this.tmp, { recursive: true, force: true });
    this.unlock();
  }

  private unlock(): void {
    try {
      if (readFileSync(this.lock, 'utf8').trim() === String(process.pid)) unlinkSync(this.lock);
    } catch {
      /* already gone */
    }
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

/** sha256 of a file (src/data/sha256.ts). */
export { sha256FileSync };
