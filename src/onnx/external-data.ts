/**
 * External data: tensors whose bytes live in a separate file, named by
 * `external_data` entries {location, offset, length, checksum} with `location`
 * relative to the model's folder.
 *
 * Safety: a model file is untrusted input. A location that is absolute, that
 * climbs out with `..`, or that is (or passes through) a link leading outside
 * the model's folder is refused, so a hostile model cannot make sf2-export read
 * /etc/shadow into a bundle.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import type { ExternalLocation } from '../ir/tensor.js';

export interface ExternalEntry {
  readonly key?: string | null;
  readonly value?: string | null;
}

export function resolveExternal(
  modelPath: string,
  baseDir: string,
  tensorName: string,
  entries: readonly ExternalEntry[],
  byteLength: number,
): ExternalLocation {
  const kv = new Map(entries.map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  const where = `${modelPath}: tensor ${tensorName}`;
  if (!location) throw new InputError('external-data', `${where} has external data without a location`, 're-export the model');
  if (isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location) || location.startsWith('\\')) {
    throw new InputError('external-data', `${where} names external data by an absolute path (${location})`, 'external data must be a path relative to the model file');
  }
  const parts = location.split(/[\\/]/);
  if (parts.includes('..')) {
    throw new InputError('external-data', `${where}: external data location ${location} leaves the model's folder`, 'keep the data file in the model folder');
  }
  const file = resolve(baseDir, location);
  let real: string;
  let realBase: string;
  try {
    realBase = realpathSync(baseDir);
    real = realpathSync(file);
  } catch {
    throw new InputError('external-data', `${where}: external data file ${location} is missing`, `copy ${location} beside the model`);
  }
  const rel = relative(realBase, real);
  if (rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    throw new InputError('external-data', `${where}: external data ${location} is a link that leaves the model's folder`, 'replace the link by the file itself');
  }
  const st = statSync(real);
  if (!st.isFile()) throw new InputError('external-data', `${where}: external data ${location} is not a regular file`);
  const offset = parseNonNegative(kv.get('offset'), 0, where, 'offset');
  const length = parseNonNegative(kv.get('length'), st.size - offset, where, 'length');
  if (length !== byteLength) {
    throw new InputError('external-data', `${where}: external data holds ${length} bytes, its shape and type need ${byteLength}`, 'the data file does not belong to this model');
  }
  if (offset + length > st.size) {
    throw new InputError('external-data', `${where}: external data ${location} has ${st.size} bytes, the tensor needs bytes up to ${offset + length}`, 'the data file is truncated; copy it again');
  }
  return { file: real, location, offset, length };
}

function parseNonNegative(s: string | undefined, dflt: number, where: string, what: string): number {
  if (s === undefined || s === '') return dflt;
  if (!/^\d+$/.test(s)) throw new InputError('external-data', `${where}: external data ${what} "${s}" is not a non-negative integer`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new InputError('external-data', `${where}: external data ${what} ${s} is too large`);
  return n;
}
