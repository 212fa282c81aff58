/**
 * Sealing and signing a bundle: what the writer (the export, a parity
 * re-check) writes last and what `sf2-export verify` recomputes.
 *
 * Seal: manifest.json is the canonical manifest (stableStringify: sorted keys)
 * with an `integrity` field
 *     integrity = "sha256:" + sha256(canonical manifest without `integrity`)
 * so one flipped byte in it is caught even without a signature.
 *
 * Signature (node:crypto, ed25519): SIGNATURE is JSON
 *   {"algorithm": "ed25519", "payload": "sf2-export-signature-v1",
 *    "publicKey": <SPKI PEM>, "signature": <base64>}
 * over the canonical digest list
 *   "sf2-export-signature-v1\n" + for manifest.json and every file the
 *   manifest lists, sorted by path: "<sha256>  <path>\n"
 * so it covers every byte of the bundle (the manifest covers the reports).
 */
import { createPrivateKey, createPublicKey, sign as edSign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { sha256FileSync, sha256Hex } from '../data/sha256.js';
import { MANIFEST_FILE } from './manifest.js';
import { stableStringify } from './stable-json.js';
import { writeAtomic } from './text-files.js';

export const SIGNATURE_FILE = 'SIGNATURE';
export const SIGNATURE_PAYLOAD = 'sf2-export-signature-v1';

/** "sha256:<hex>" of the canonical manifest without its `integrity` field. */
export function manifestIntegrity(manifest: object): string {
  const { integrity: _drop, ...rest } = manifest as { integrity?: unknown };
  void _drop;
  return `sha256:${sha256Hex(Buffer.from(stableStringify(rest), 'utf8'))}`;
}

/** The manifest's text with its integrity digest: what to write as manifest.json. */
export function sealManifest(manifest: object): string {
  const { integrity: _drop, ...rest } = manifest as { integrity?: unknown };
  void _drop;
  return stableStringify({ ...rest, integrity: manifestIntegrity(rest) });
}

/** The canonical digest list a signature covers (see the module comment). */
export function signaturePayload(dir: string): Buffer {
  const manifestBytes = readFileSync(join(dir, MANIFEST_FILE));
  const m = JSON.parse(manifestBytes.toString('utf8')) as { files?: Array<{ path?: unknown }> } | null;
  const lines = [`${sha256Hex(manifestBytes)}  ${MANIFEST_FILE}`];
  for (const f of Array.isArray(m?.files) ? m.files : []) {
    const p = String(f.path);
    lines.push(`${sha256FileSync(join(dir, p), { fromDisk: true })}  ${p}`);
  }
  lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : a.slice(66) > b.slice(66) ? 1 : 0));
  return Buffer.from(`${SIGNATURE_PAYLOAD}\n${lines.join('\n')}\n`, 'utf8');
}

/** An ed25519 key from a PEM file (UsageError when unreadable, InputError when not an ed25519 key). */
export function loadKey(path: string, kind: 'private' | 'public'): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    throw new UsageError(`--${kind === 'private' ? 'sign' : 'public'}-key ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (e) {
    throw new InputError('key', `${path} is not a PEM ${kind} key (${(e as Error).message})`, 'make one with: openssl genpkey -algorithm ed25519 -out key.pem; openssl pkey -in key.pem -pubout -out key.pub');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError('key', `${path} is a ${key.asymmetricKeyType} key, not ed25519`, 'openssl genpkey -algorithm ed25519 -out key.pem');
  return key;
}

/** Write DIR/SIGNATURE: an ed25519 signature of manifest.json and every file it lists. */
export async function signBundle(dir: string, keyPath: string): Promise<string> {
  const key = loadKey(keyPath, 'private');
  if (!existsSync(join(dir, MANIFEST_FILE))) throw new InputError('bundle', `${dir} has no ${MANIFEST_FILE} to sign`);
  const payload = signaturePayload(dir);
  const sig = edSign(null, payload, key);
  const pub = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  const doc = { algorithm: 'ed25519', payload: SIGNATURE_PAYLOAD, publicKey: pub, signature: sig.toString('base64') };
  writeAtomic(join(dir, SIGNATURE_FILE), JSON.stringify(doc, null, 2) + '\n');
  return SIGNATURE_FILE;
}
