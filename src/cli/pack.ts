/** `sf2-export pack DIR [--out FILE.tgz] [--force]` */
import { packBundle } from '../pack/pack.js';
import type { Logger } from '../log.js';
import type { OptionsOf } from './flags.js';
import { emitJson } from './json-out.js';

export async function packCommand(dir: string, opts: OptionsOf<'pack'>, log: Logger): Promise<number> {
  const r = await packBundle(dir, { out: opts.out, force: opts.force, allowFailed: opts.allowFailed });
  if (r.parityFailed) log.warn(`packed although parity failed (--allow-failed): ${r.parityFailed.join('; ')}`);
  if (opts.json) emitJson({ ok: true, file: r.file, ...(r.parityFailed ? { parityFailed: r.parityFailed } : {}), bytes: r.bytes, sha256: r.sha256, entries: r.entries });
  log.info(`wrote ${r.file} (${r.entries.length} files, ${r.bytes} bytes, sha256 ${r.sha256})`);
  return 0;
}
