/**
 * The zip container of torch.save (PyTorch >= 1.6), read with positioned reads.
 *
 * torch writes an uncompressed ("stored", method 0) zip: `<name>/data.pkl`,
 * `<name>/data/<key>` (one raw storage each, its data aligned to 64 bytes by
 * padding in the local header's extra field), `<name>/version`, and in newer
 * versions `<name>/byteorder`. Only the central directory is read here (from
 * the End Of Central Directory record, with the zip64 records when present);
 * each entry's data offset comes from its local header. Entries are never
 * decompressed: a compressed entry is refused, so every tensor can stay a
 * byte range of the file, read only when used.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface ZipEntry {
  readonly name: string;
  /** Offset of the entry's data in the file. */
  readonly offset: number;
  readonly size: number;
}

export const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04] as const;

/** The largest central directory read (about 100 bytes per entry: millions of tensors). */
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

export function readPositioned(fd: number, offset: number, length: number, where: string): Buffer {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const k = readSync(fd, out, done, Math.min(length - done, 1 << 30), offset + done);
    if (k === 0) throw new InputError('pth-truncated', `${where} ends at byte ${offset + done}, ${offset + length} needed`, 'the checkpoint is truncated; copy or download it again');
    done += k;
  }
  return out;
}

/** List the entries of a stored zip. Errors are InputError (exit 3). */
export function readZipDirectory(path: string, displayPath = path): Map<string, ZipEntry> {
  const fd = openSync(path, 'r');
  try {
    return readDirectory(fd, fstatSync(fd).size, displayPath);
  } finally {
    closeSync(fd);
  }
}

function readDirectory(fd: number, size: number, where: string): Map<string, ZipEntry> {
  const bad = (msg: string): never => {
    throw new InputError('pth-zip', `${where}: ${msg}`, 'the checkpoint is truncated or damaged; save or download it again');
  };
  // EOCD: 22 bytes + a comment of up to 65535 bytes at the end of the file.
  const tailLen = Math.min(size, 22 + 65535);
  const tail = readPositioned(fd, size - tailLen, tailLen, where);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record (the zip is truncated)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // zip64: the locator sits right before the EOCD.
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) bad('a zip64 archive without its zip64 locator');
    const z64 = Number(tail.readBigUInt64LE(loc + 8));
    if (z64 + 56 > size) bad('the zip64 record lies past the end of the file');
    const rec = readPositioned(fd, z64, 56, where);
    if (rec.readUInt32LE(0) !== 0x06064b50) bad('a bad zip64 end-of-central-directory record');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset + cdSize > size) bad('the central directory lies past the end of the file');
  if (count > cdSize / 46) bad(`${count} entries do not fit in a central directory of ${cdSize} bytes`);
  const cd = readPositioned(fd, cdOffset, cdSize, where);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cd.readUInt32LE(p) !== 0x02014b50) bad(`central directory entry ${i} is damaged`);
    const method = cd.readUInt16LE(p + 10);
    let compSize = cd.readUInt32LE(p + 20);
    let rawSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) bad(`central directory entry ${i} is damaged`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extended information (header id 1): the fields that are 0xffffffff, in order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (e + 4 + len > eEnd) break;
      if (id === 1) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) bad(`entry ${name}: a short zip64 extra field`);
          const v = Number(cd.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (rawSize === 0xffffffff) rawSize = next();
        if (compSize === 0xffffffff) compSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (method !== 0) {
      throw new InputError('pth-zip', `${where}: entry ${name} is compressed (method ${method}); torch.save writes stored entries`, 'load and save it again with torch.save');
    }
    if (compSize !== rawSize) bad(`entry ${name}: stored sizes disagree`);
    if (localOffset + 30 > size) bad(`entry ${name}: its local header lies past the end of the file`);
    const lh = readPositioned(fd, localOffset, 30, where);
    if (lh.readUInt32LE(0) !== 0x04034b50) bad(`entry ${name}: bad local header`);
    const offset = localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (offset + compSize > size) bad(`entry ${name} ends at byte ${offset + compSize}, past the end of the file (${size} bytes)`);
    if (entries.has(name)) bad(`entry ${name} appears twice`);
    entries.set(name, { name, offset, size: compSize });
  }
  return entries;
}
