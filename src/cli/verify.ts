/**
 * `sf2-export verify DIR|FILE.tgz [--public-key KEY.pub]`: exit 0 only when
 * every file matches manifest.json and the parity report, the report covers
 * every model file and passed (recomputed, not trusted), and, with
 * --public-key, the signature holds. Otherwise exit 6, listing every problem.
 * The checks are in src/verify/verify.ts.
 */
import { assertVerified, verifyBundle } from '../verify/verify.js';
import type { Logger } from '../log.js';
import type { OptionsOf } from './flags.js';
import { emitJson, withJson } from './json-out.js';

/** The flags of `sf2-export verify` (the flag table, flags.ts). */
export type VerifyCommandOptions = OptionsOf<'verify'>;

export async function verifyCommand(path: string, opts: VerifyCommandOptions, log: Logger): Promise<number> {
  const r = await verifyBundle(path, { publicKey: opts.publicKey, allowLooseThresholds: opts.allowLooseThresholds });
  const json = { ok: r.ok, path, files: r.files, results: r.results, signed: r.signed, signatureChecked: !!opts.publicKey && r.signed, problems: r.problems, notes: r.notes };
  for (const n of r.notes) log.info(`note: ${n}`);
  for (const p of r.problems) process.stderr.write(`problem: ${p}\n`);
  if (r.ok) log.info(`verified ${path}: ${r.files} files, ${r.results} parity results${opts.publicKey ? ', signature valid' : ''}`);
  try {
    assertVerified(path, r);
  } catch (e) {
    // --json: main.ts prints this with ok: false, the exit code and the error.
    throw withJson(e as Error, json);
  }
  if (opts.json) emitJson(json);
  return 0;
}
