/**
 * Reading a large .onnx file without reading its weights.
 *
 * A ModelProto is a sequence of protobuf fields; the graph (field 7) holds the
 * initializers (GraphProto field 5, TensorProto), and a tensor's bytes are its
 * raw_data (TensorProto field 9). This walks the wire format with positioned
 * reads and builds a "skeleton": the same message with every large raw_data
 * left out, which protobufjs then decodes as usual (protobuf merges
 * concatenated fields, so copying fields one by one is exact). Each left-out
 * raw_data is remembered as a byte range of the file and becomes a lazy
 * TensorData: read when a pass or a writer asks for it, never if the tensor is
 * dropped (a stripped head). Memory for loading is then the skeleton only.
 *
 * Wire format: tag = varint(field << 3 | type); type 0 varint, 1 fixed64,
 * 2 length-delimited (varint length, then bytes), 5 fixed32.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** raw_data payloads at least this large stay in the file. */
export const LAZY_THRESHOLD = 64 * 1024;

export interface LazyRange {
  readonly offset: number;
  readonly length: number;
}

export interface Skeleton {
  /** The ModelProto without large raw_data payloads. */
  readonly bytes: Uint8Array;
  /** Initializer index (in GraphProto order) -> where its raw_data is in the file. */
  readonly lazy: ReadonlyMap<number, LazyRange>;
  readonly fileBytes: number;
}

class Cursor {
  private buf = Buffer.allocUnsafe(1 << 16);
  private bufStart = 0;
  private bufLen = 0;
  constructor(readonly fd: number, readonly size: number) {}

  byteAt(pos: number): number {
    if (pos < this.bufStart || pos >= this.bufStart + this.bufLen) {
      this.bufStart = pos;
      this.bufLen = readSync(this.fd, this.buf, 0, this.buf.length, pos);
      if (this.bufLen <= 0) throw new RangeError(`unexpected end of file at byte ${pos}`);
    }
    return this.buf[pos - this.bufStart]!;
  }

  /** Reads a varint at pos; returns [value, next position]. */
  varint(pos: number, end: number): [number, number] {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new RangeError(`truncated varint at byte ${pos}`);
      const b = this.byteAt(pos++);
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return [result, pos];
      mul *= 128;
    }
    throw new RangeError(`bad varint at byte ${pos}`);
  }

  read(pos: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, out, done, len - done, pos + done);
      if (n <= 0) throw new RangeError(`unexpected end of file at byte ${pos + done}`);
      done += n;
    }
    return out;
  }
}

interface Field {
  readonly field: number;
  readonly wire: number;
  /** Start of the tag. */
  readonly start: number;
  /** Start of the payload (after the length for wire type 2). */
  readonly payload: number;
  readonly end: number;
}

function* fields(c: Cursor, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [tag, p1] = c.varint(pos, end);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let payload = p1;
    let next: number;
    switch (wire) {
      case 0: next = c.varint(p1, end)[1]; break;
      case 1: next = p1 + 8; break;
      case 5: next = p1 + 4; break;
      case 2: {
        const [len, p2] = c.varint(p1, end);
        payload = p2;
        next = p2 + len;
        break;
      }
      default:
        throw new RangeError(`unsupported wire type ${wire} at byte ${pos}`);
    }
    if (next > end) throw new RangeError(`field ${field} at byte ${pos} runs past the end of its message (byte ${end})`);
    yield { field, wire, start: pos, payload, end: next };
    pos = next;
  }
}

/** The protobuf base-128 varint of a non-negative integer, least significant group first (the one encoder: export.ts uses it too). */
export function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function lengthDelimited(field: number, body: Uint8Array[]): Uint8Array[] {
  const len = body.reduce((a, b) => a + b.byteLength, 0);
  return [Uint8Array.from([...varintBytes(field * 8 + 2), ...varintBytes(len)]), ...body];
}

/** Build the skeleton of the model at `path`. Throws RangeError on a malformed file. */
export function readSkeleton(path: string, threshold = LAZY_THRESHOLD): Skeleton {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const c = new Cursor(fd, size);
    const lazy = new Map<number, LazyRange>();
    const model: Uint8Array[] = [];
    let initIndex = 0;
    for (const f of fields(c, 0, size)) {
      if (f.field !== 7 || f.wire !== 2) {
        model.push(c.read(f.start, f.end - f.start));
        continue;
      }
      const graph: Uint8Array[] = [];
      for (const g of fields(c, f.payload, f.end)) {
        if (g.field !== 5 || g.wire !== 2 || g.end - g.payload < threshold) {
          graph.push(c.read(g.start, g.end - g.start));
          if (g.field === 5 && g.wire === 2) initIndex++;
          continue;
        }
        const tensor: Uint8Array[] = [];
        let range: LazyRange | undefined;
        for (const t of fields(c, g.payload, g.end)) {
          if (t.field === 9 && t.wire === 2 && t.end - t.payload >= threshold) {
            range = { offset: t.payload, length: t.end - t.payload };
          } else tensor.push(c.read(t.start, t.end - t.start));
        }
        if (range) lazy.set(initIndex, range);
        graph.push(...lengthDelimited(5, tensor));
        initIndex++;
      }
      model.push(...lengthDelimited(7, graph));
    }
    return { bytes: Buffer.concat(model), lazy, fileBytes: size };
  } finally {
    closeSync(fd);
  }
}
