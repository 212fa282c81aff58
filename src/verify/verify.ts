/**
 * `sf2-export verify DIR`: does the bundle hold exactly what its manifest and
 * parity report say, and did parity pass? Every check runs and every problem
 * is listed (VerifyError, exit 6, when there is any):
 *
 *   files     each manifest entry exists as a regular file with its sha256 and
 *             size; nothing else is in the folder (symbolic links, extra
 *             files) except manifest.json and SIGNATURE (and, in a packed
 *             bundle, MODEL_CARD.md and SHA256SUMS, whose lines must all hold)
 *   report    parity-report.json is listed in the manifest, matches
 *             docs/parity-report.schema.json, and every file it measured has
 *             the sha256 it measured
 *   coverage  every model file in the manifest was measured and has at least
 *             one passing result; the report covers nothing that is not there
 *   thresholds each result's thresholds are at least as strict as the defaults
 *             (unless --allow-loose-thresholds)
 *   pass      recomputed, not trusted: each result's pass from its stored
 *             metrics and thresholds (../metrics/thresholds.ts `failures`), the metrics'
 *             cosine min/mean from the stored per-row series, and the
 *             report's pass from its results. A report edited to say pass is
 *             caught here even when its hash was updated in the manifest.
 *   golden    each golden set (role 'golden') is well-formed, its rows match
 *             its digest, the weights it lists have the sha256 it was made for,
 *             it was made from the references the report measured and its
 *             threshold is not looser than the defaults (src/bundle/golden-set.ts)
 *   manifest  manifest.json is in canonical form (sorted keys, as written) and
 *             its `integrity` field is "sha256:" + the sha256 of the canonical
 *             manifest without that field, so one flipped byte in it is caught
 *             even without a signature (src/bundle/seal.ts writes it)
 *   derived   parity-report.md/.html, MODEL_CARD.md and SHA256SUMS are
 *             regenerated and compared byte for byte; no empty folders; the
 *             manifest's roles, embeddingDim, preprocessing and parity flag
 *             agree with the report (coverage.ts), so the signature,
 *             which covers manifest.json and what it lists, covers everything
 *   signature a SIGNATURE must verify with the key embedded in it (catches a
 *             damaged file); with --public-key it must verify with THAT key
 *             (that is what authenticates the signer)
 *
 * Signatures (node:crypto, ed25519): SIGNATURE is JSON
 *   {"algorithm": "ed25519", "payload": "sf2-export-signature-v1",
 *    "publicKey": <SPKI PEM>, "signature": <base64>}
 * over the canonical digest list
 *   "sf2-export-signature-v1\n" + for manifest.json and every file the
 *   manifest lists, sorted by path: "<sha256>  <path>\n"
 * so it covers every byte of the bundle (the manifest covers the reports).
 * The embedded publicKey is informative only: verification uses the key the
 * user passes, never the one in the file.
 */
import { sha256FileSync } from '../data/sha256.js';
import { createPublicKey, verify as edVerify, type KeyObject } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, VerifyError } from '../errors.js';
import { checkManifest, MANIFEST_FILE, type Manifest } from '../bundle/manifest.js';
import { checkSchema, type Schema } from './schema-check.js';
import { failures as thresholdFailures, DEFAULT_THRESHOLDS } from '../metrics/thresholds.js';
import { REPORT_JSON, reportPasses, resultLabel, type ParityReport } from '../parity/report.js';
import { loadKey, manifestIntegrity, sealManifest, SIGNATURE_FILE, SIGNATURE_PAYLOAD, signaturePayload, signBundle } from '../bundle/seal.js';
import { stableStringify } from '../bundle/stable-json.js';
import { goldenProblems } from '../bundle/golden-set.js';
import { coverageProblems } from './coverage.js';

/** The seal and the signature are ../bundle/seal.ts's; re-exported for src/index.ts (signBundle) and the tests. */
export { sealManifest, signBundle };
/** Files pack adds beside the bundle (checked through SHA256SUMS). */
const PACK_EXTRAS = ['MODEL_CARD.md', 'SHA256SUMS'];

export interface VerifyOptions {
  /** ed25519 public key (PEM file path). */
  readonly publicKey?: string;
  /** Accept results measured with thresholds looser than the defaults (otherwise a problem: a report edited to pass by loosening them is caught). */
  readonly allowLooseThresholds?: boolean;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
  readonly files: number;
  readonly results: number;
  readonly signed: boolean;
}

/** Every entry under `root` as '/'-separated paths: regular files, and anything else flagged. */
function walk(root: string): { files: string[]; dirs: string[]; odd: string[] } {
  const files: string[] = [], dirs: string[] = [], odd: string[] = [];
  const stack: Array<[string, string]> = [[root, '']];
  while (stack.length) {
    const [dir, prefix] = stack.pop()!;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        dirs.push(`${prefix}${name}`);
        stack.push([p, `${prefix}${name}/`]);
      } else if (st.isFile()) files.push(`${prefix}${name}`);
      else odd.push(`${prefix}${name} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`);
    }
  }
  files.sort();
  return { files, dirs: dirs.sort(), odd };
}

let schemaCache: Schema | undefined;
export function reportSchema(): Schema {
  schemaCache ??= JSON.parse(readFileSync(new URL('../../docs/parity-report.schema.json', import.meta.url), 'utf8')) as Schema;
  return schemaCache;
}

/** Problems with a report's own logic: pass recomputed from metrics, thresholds and series. */
export function reportLogicProblems(report: ParityReport): string[] {
  const out: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  for (const r of report.results) {
    const label = resultLabel(r);
    if (r.metrics) {
      const why = thresholdFailures(r.metrics, r.thresholds);
      if (r.pass !== (why.length === 0)) out.push(`${label}: says ${r.pass ? 'pass' : 'fail'}, its metrics and thresholds say ${why.length ? `fail (${why.join('; ')})` : 'pass'}`);
      if (r.status !== (why.length ? 'fail' : 'pass')) out.push(`${label}: status ${r.status} does not match its metrics`);
      const cos = r.series?.cosine;
      if (!cos || cos.length !== r.metrics.rows.rows) out.push(`${label}: per-row series missing or of the wrong length`);
      else {
        const min = Math.min(...cos), mean = cos.reduce((a, b) => a + b, 0) / cos.length;
        if (!close(min, r.metrics.rows.cosine.min)) out.push(`${label}: stored min cosine ${r.metrics.rows.cosine.min} is not the series' minimum ${min}`);
        if (!close(mean, r.metrics.rows.cosine.mean)) out.push(`${label}: stored mean cosine ${r.metrics.rows.cosine.mean} is not the series' mean ${mean}`);
      }
      const expectRows = r.subset ? r.subset.rows.length : report.reference.rows;
      if (r.metrics.rows.rows !== expectRows) out.push(`${label}: measured ${r.metrics.rows.rows} rows, ${r.subset ? 'its subset lists' : 'the reference has'} ${expectRows}`);
      if (r.subset && r.subset.rows.some((i, k) => !Number.isInteger(i) || i < 0 || i >= report.reference.rows || (k > 0 && i <= r.subset!.rows[k - 1]!))) out.push(`${label}: its row subset is not ascending reference rows`);
      if (report.reference.pairs > 0 && report.reference.issame.some((s) => s === 1) && report.reference.issame.some((s) => s === 0) && !r.metrics.pairs) out.push(`${label}: the reference has pairs but the result has no pair metrics`);
    } else if (r.pass || r.status !== 'error') {
      out.push(`${label}: has no metrics but says ${r.pass ? 'pass' : r.status}`);
    }
  }
  const pass = reportPasses(report);
  if (report.pass !== pass) out.push(`the report says ${report.pass ? 'pass' : 'fail'}, its results say ${pass ? 'pass' : 'fail'}`);
  return out;
}

/** Check a bundle folder; never throws for a bad bundle (only for a bad key or a missing folder). */
export function verifyBundleDir(dir: string, options: VerifyOptions = {}): VerifyResult {
  const problems: string[] = [];
  const notes: string[] = [];
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`, 'pass a bundle folder written by sf2-export, or its .tgz');
  const pubKey = options.publicKey ? loadKey(options.publicKey, 'public') : undefined;

  // manifest
  let manifest: Manifest | undefined;
  let manifestBytes: Buffer | undefined;
  try {
    manifestBytes = readFileSync(join(dir, MANIFEST_FILE));
    const checked = checkManifest(JSON.parse(manifestBytes.toString('utf8')));
    manifest = checked.manifest;
    if (!manifest) {
      // Not the shape sf2-export writes (hand-made, truncated): named field by field, nothing below reads it.
      problems.push(...checked.problems.map((p) => `${MANIFEST_FILE}: ${p}`));
    } else {
      if (stableStringify(manifest) !== manifestBytes.toString('utf8')) problems.push(`${MANIFEST_FILE} is not in the canonical form sf2-export writes (edited by hand?)`);
      const want = manifest.integrity;
      if (typeof want !== 'string') problems.push(`${MANIFEST_FILE} has no integrity digest (written by an older sf2-export? re-export, or run \`sf2-export parity DIR\`)`);
      else if (want !== manifestIntegrity(manifest)) problems.push(`${MANIFEST_FILE}: integrity digest does not match its content`);
    }
  } catch (e) {
    problems.push(`${MANIFEST_FILE}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(e as Error).message})`}`);
  }

  const { files: onDisk, dirs: onDiskDirs, odd } = walk(dir);
  problems.push(...odd);
  const disk = new Set(onDisk);
  const listed = new Map<string, { sha256: string; bytes: number; role: string; target: string; precision: string }>();
  const hashes = new Map<string, string>();
  const hashOf = (p: string) => {
    let h = hashes.get(p);
    if (h === undefined) {
      h = sha256FileSync(join(dir, p), { fromDisk: true });
      hashes.set(p, h);
    }
    return h;
  };

  if (manifest) {
    for (const f of manifest.files) {
      const p = typeof f.path === 'string' ? f.path : '';
      if (!p || p.startsWith('/') || p.split('/').includes('..') || p.includes('\\')) {
        problems.push(`${MANIFEST_FILE} lists an unsafe path ${JSON.stringify(f.path)}`);
        continue;
      }
      if (listed.has(p)) problems.push(`${MANIFEST_FILE} lists ${p} twice`);
      listed.set(p, { sha256: String(f.sha256), bytes: Number(f.bytes), role: String(f.role ?? ''), target: String(f.target ?? ''), precision: String(f.precision ?? '') });
      if (!disk.has(p)) {
        problems.push(`${p}: listed in ${MANIFEST_FILE} but missing`);
        continue;
      }
      const h = hashOf(p);
      if (h !== f.sha256) problems.push(`${p}: sha256 ${h.slice(0, 16)}... does not match ${MANIFEST_FILE} (${String(f.sha256).slice(0, 16)}...)`);
      const size = lstatSync(join(dir, p)).size;
      if (size !== f.bytes) problems.push(`${p}: ${size} bytes, ${MANIFEST_FILE} says ${String(f.bytes)}`);
    }
    if (manifest.parity && manifest.parity.pass !== true) problems.push(`${MANIFEST_FILE} records that parity failed`);
    if (manifest.parity === null) problems.push(`${MANIFEST_FILE}: the bundle was exported without parity (--no-parity)`);
  }

  // extra files (pack's MODEL_CARD.md and SHA256SUMS are checked through SHA256SUMS)
  const packed = disk.has('SHA256SUMS') && !listed.has('SHA256SUMS');
  if (packed) {
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean);
    const seen = new Set<string>();
    for (const line of sums) {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (!m) { problems.push(`SHA256SUMS: bad line ${JSON.stringify(line.slice(0, 80))}`); continue; }
      seen.add(m[2]!);
      if (!disk.has(m[2]!)) problems.push(`SHA256SUMS lists ${m[2]}, which is missing`);
      else if (hashOf(m[2]!) !== m[1]) problems.push(`${m[2]}: sha256 does not match SHA256SUMS`);
    }
    for (const p of onDisk) if (p !== 'SHA256SUMS' && !seen.has(p)) problems.push(`${p} is not in SHA256SUMS`);
  }
  // (with no readable manifest nothing is listed: that one problem is already said, not once per file)
  if (manifest) for (const p of onDisk) {
    if (listed.has(p) || p === MANIFEST_FILE || p === SIGNATURE_FILE) continue;
    if (packed && PACK_EXTRAS.includes(p)) continue;
    problems.push(`${p}: not listed in ${MANIFEST_FILE}`);
  }

  // report
  let results = 0;
  let checkedReport: ParityReport | undefined;
  let rawReport: unknown;
  if (manifest) {
    if (!listed.has(REPORT_JSON)) problems.push(`${REPORT_JSON} is not listed in ${MANIFEST_FILE}${disk.has(REPORT_JSON) ? '' : ' (no parity report)'}`);
    if (disk.has(REPORT_JSON)) {
      let report: ParityReport | undefined;
      try {
        report = JSON.parse(readFileSync(join(dir, REPORT_JSON), 'utf8')) as ParityReport;
      } catch (e) {
        problems.push(`${REPORT_JSON} is not valid JSON (${(e as Error).message})`);
      }
      rawReport = report;
      if (report) {
        const schemaProblems = checkSchema(report, reportSchema());
        if (schemaProblems.length) {
          problems.push(...schemaProblems.slice(0, 20).map((p) => `${REPORT_JSON} schema: ${p}`));
          if (schemaProblems.length > 20) problems.push(`${REPORT_JSON} schema: ${schemaProblems.length - 20} more problems`);
        } else {
          checkedReport = report;
          results = report.results.length;
          for (const f of report.files) {
            if (!disk.has(f.path)) problems.push(`${f.path}: measured by ${REPORT_JSON} but missing`);
            else if (hashOf(f.path) !== f.sha256) problems.push(`${f.path}: sha256 does not match what ${REPORT_JSON} measured`);
            if (!listed.has(f.path)) problems.push(`${f.path}: measured by ${REPORT_JSON} but not listed in ${MANIFEST_FILE}`);
          }
          const measured = new Set(report.files.map((f) => f.path));
          for (const [p, f] of listed) {
            if (f.role !== 'model') continue;
            if (!measured.has(p)) problems.push(`${p}: model file not covered by ${REPORT_JSON}`);
            else if (!report.results.some((r) => r.file === p && r.pass)) {
              // Run by no runtime and accepted with --allow-unverified: said, not a problem.
              if (report.allowUnverified && report.uncovered.includes(p) && !report.results.some((r) => r.file === p)) notes.push(`${p}: UNVERIFIED, run by no runtime (accepted with --allow-unverified)`);
              else problems.push(`${p}: no passing parity result`);
            }
          }
          for (const r of report.results) {
            if (!listed.has(r.file)) problems.push(`${resultLabel(r)}: reports on ${r.file}, which is not in ${MANIFEST_FILE}`);
            const d = DEFAULT_THRESHOLDS[r.precision as keyof typeof DEFAULT_THRESHOLDS];
            if (d && (r.thresholds.minCosine < d.minCosine || r.thresholds.maxFlipFraction > d.maxFlipFraction)) {
              const msg = `${resultLabel(r)}: measured with thresholds looser than the defaults (min cosine ${r.thresholds.minCosine} < ${d.minCosine} or flips ${r.thresholds.maxFlipFraction} > ${d.maxFlipFraction})`;
              if (options.allowLooseThresholds) notes.push(msg);
              else problems.push(`${msg}; pass --allow-loose-thresholds to accept`);
            }
          }
          problems.push(...reportLogicProblems(report));
          // Golden sets (src/bundle/golden-set.ts): intact, made from the references this report measured, weights as exported.
          for (const [p, f] of listed) if (f.role === 'golden' && disk.has(p)) problems.push(...goldenProblems(dir, p, report, options.allowLooseThresholds));
          if (!report.pass) problems.push(`${REPORT_JSON}: parity failed (${report.results.filter((r) => !r.pass).map(resultLabel).join(', ') || 'no passing result'})`);
          for (const s of report.skipped) notes.push(`skipped ${s.runtime}: ${s.reason}`);
        }
      }
    }
  }

  // derived files, folders, re-sealable manifest fields (coverage.ts)
  const signed = disk.has(SIGNATURE_FILE);
  if (manifest) {
    const cov = coverageProblems({ dir, manifest, report: checkedReport, rawReport, files: onDisk, dirs: onDiskDirs, signed, sha256: hashOf });
    problems.push(...cov.problems);
    notes.push(...cov.notes);
  }

  // signature
  if (pubKey && !signed) problems.push(`--public-key given but the bundle has no ${SIGNATURE_FILE}`);
  if (signed && manifestBytes) {
    let doc: { algorithm?: unknown; payload?: unknown; signature?: unknown; publicKey?: unknown } | undefined;
    try {
      doc = JSON.parse(readFileSync(join(dir, SIGNATURE_FILE), 'utf8')) as typeof doc;
    } catch (e) {
      problems.push(`${SIGNATURE_FILE}: not valid JSON (${(e as Error).message})`);
    }
    if (doc) {
      if (doc.algorithm !== 'ed25519' || doc.payload !== SIGNATURE_PAYLOAD || typeof doc.signature !== 'string' || typeof doc.publicKey !== 'string') {
        problems.push(`${SIGNATURE_FILE}: not an sf2-export ed25519 signature`);
      } else {
        let payload: Buffer | undefined;
        try {
          payload = signaturePayload(dir);
        } catch {
          problems.push(`${SIGNATURE_FILE}: cannot recompute the signed digest list (files missing)`);
        }
        const sig = Buffer.from(doc.signature, 'base64');
        if (payload) {
          let embedded: KeyObject | undefined;
          try {
            embedded = createPublicKey(doc.publicKey);
          } catch {
            problems.push(`${SIGNATURE_FILE}: its publicKey is not a valid key`);
          }
          if (embedded && (embedded.asymmetricKeyType !== 'ed25519' || !edVerify(null, payload, embedded, sig))) problems.push(`${SIGNATURE_FILE}: the signature does not match the bundle (or is damaged)`);
          if (pubKey && !edVerify(null, payload, pubKey, sig)) problems.push(`${SIGNATURE_FILE}: the signature does not verify with ${options.publicKey}`);
          if (!pubKey) notes.push(`the bundle is signed and the signature is intact; pass --public-key KEY.pub to check WHO signed it`);
        }
      }
    }
  }

  return { ok: problems.length === 0, problems, notes, files: listed.size, results, signed };
}

/** Verify a folder or a .tgz made by `sf2-export pack`. */
export async function verifyBundle(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  if (/\.(tgz|tar\.gz)$/i.test(path) && existsSync(path) && lstatSync(path).isFile()) {
    const { unpackBundle } = await import('../pack/unpack.js');
    const tmp = mkdtempSync(join(tmpdir(), 'sf2-verify-'));
    try {
      const top = await unpackBundle(path, tmp);
      return verifyBundleDir(top, options);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return verifyBundleDir(path, options);
}

/** Throw VerifyError (exit 6) listing every problem. */
export function assertVerified(path: string, r: VerifyResult): void {
  if (r.ok) return;
  throw new VerifyError(`${path}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}: ${r.problems.join('; ')}`, 'the bundle was changed after export, or parity failed; re-export it, or run `sf2-export parity DIR` to re-measure');
}
