/**
 * A pickle reader (protocols 2 to 5) that builds data, never code.
 *
 * Python's pickle is a small stack machine: opcodes push values, MARK opens a
 * frame, APPENDS/SETITEMS/TUPLE pop back to the mark, GET/PUT use a memo, and
 * GLOBAL + REDUCE calls any function of any module with any arguments. That
 * last part is why `torch.load(weights_only=False)` runs whatever a file
 * says. This reader executes nothing: GLOBAL names are looked up in an
 * allow-list given by the caller (`globals`), and the only "calls" are the
 * handlers that list holds (build a tensor from a storage, an OrderedDict).
 * Any other name (os.system, builtins.eval, a training-code class) is refused
 * with exit 3 at the opcode that names it, before anything else happens.
 *
 * Values: None -> null, bool, int -> number (bigint beyond 2^53), float ->
 * number, str -> string, bytes -> Uint8Array, list -> PyList, tuple ->
 * PyTuple, dict -> PyDict (ordered, primitive keys), allowed globals ->
 * whatever their handler builds.
 *
 * Bounds a hostile file meets: every length is checked against the bytes
 * left, the stack and the memo have maximum sizes, memo indices must exist,
 * nesting through MARK frames is bounded, and each opcode consumes at least
 * one byte, so the work is linear in the file size. Opcodes of protocols 0/1
 * that instantiate classes (INST, OBJ), extension registry codes (EXT1/2/4)
 * and out-of-band buffers are refused.
 */
import { InputError } from '../errors.js';

export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}
export class PyList {
  readonly items: unknown[] = [];
}
export type DictKey = string | number | bigint | boolean | null;
export class PyDict {
  readonly map = new Map<DictKey, unknown>();
  /** State set by BUILD (an OrderedDict's `_metadata`, ...), kept and ignored. */
  state: unknown = undefined;
  /** The class that made it: 'dict' or 'collections.OrderedDict'. */
  constructor(readonly pyClass = 'dict') {}
}

/** A reference to an allowed global (the result of GLOBAL / STACK_GLOBAL). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string, readonly handler: GlobalHandler) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface GlobalHandler {
  /** REDUCE: `callable(*args)`. Absent: the global cannot be called. */
  call?(args: readonly unknown[], where: string): unknown;
  /** NEWOBJ: `cls.__new__(cls, *args)`. */
  construct?(args: readonly unknown[], where: string): unknown;
  /** A type used only as a value (storage classes in persistent ids). */
  readonly value?: unknown;
}

export interface UnpickleOptions {
  /** `module.name` -> handler. Anything not here is refused. */
  readonly globals: ReadonlyMap<string, GlobalHandler>;
  /** BINPERSID / PERSID: what the persistent id (already unpickled) stands for. */
  readonly persistentLoad?: (pid: unknown) => unknown;
  /** For error messages: the file (and entry) being read. */
  readonly where: string;
  readonly maxStack?: number;
  readonly maxMemo?: number;
  readonly maxMarkDepth?: number;
}

export interface UnpickleResult {
  readonly value: unknown;
  /** Offset just past the STOP opcode. */
  readonly end: number;
}

/** Thrown when the bytes end before STOP: the caller may retry with more of the file. */
export class PickleTruncated extends InputError {
  constructor(where: string, at: number) {
    super('pth-truncated', `${where}: the pickle ends at byte ${at} before its STOP opcode; the file is truncated`, 'copy or download the checkpoint again');
  }
}

const MARK = Symbol('mark');

export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): UnpickleResult {
  const where = opts.where;
  const maxStack = opts.maxStack ?? 1 << 20;
  const maxMemo = opts.maxMemo ?? 1 << 20;
  const maxMarks = opts.maxMarkDepth ?? 256;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  let pos = start;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const td = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');

  const bad = (msg: string): never => {
    throw new InputError('pth-pickle', `${where}: ${msg} (at byte ${pos})`, 'the checkpoint is damaged or not written by torch.save');
  };
  const need = (k: number): void => {
    if (k < 0 || !Number.isSafeInteger(k)) bad(`bad length ${k}`);
    if (pos + k > n) throw new PickleTruncated(where, n);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(n)) bad(`length ${v} is larger than the file`);
    return Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const s = bytes.subarray(pos, pos + k);
    pos += k;
    return s;
  };
  const line = (): string => {
    const e = bytes.indexOf(0x0a, pos);
    if (e < 0) throw new PickleTruncated(where, n);
    const s = latin1.decode(bytes.subarray(pos, e));
    pos = e + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => {
    try {
      return td.decode(b);
    } catch {
      return bad('a string is not valid UTF-8');
    }
  };
  const push = (v: unknown): void => {
    if (stack.length >= maxStack) bad(`more than ${maxStack} values on the pickle stack`);
    stack.push(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) bad('pop from an empty pickle stack');
    const v = stack.pop();
    if (v === MARK) bad('a MARK where a value was expected');
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) bad('the pickle stack is empty');
    const v = stack[stack.length - 1];
    if (v === MARK) bad('a MARK where a value was expected');
    return v;
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) bad('no MARK to pop back to');
    stack = prev!;
    return items;
  };
  const put = (i: number, v: unknown): void => {
    if (!memo.has(i) && memo.size >= maxMemo) bad(`more than ${maxMemo} memo entries`);
    memo.set(i, v);
  };
  const get = (i: number): unknown => {
    if (!memo.has(i)) bad(`memo entry ${i} does not exist`);
    return memo.get(i);
  };
  const fromLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    const h = opts.globals.get(q);
    if (!h) {
      throw new InputError(
        'pth-global',
        `${where}: the pickle names the global ${q}, which a checkpoint of tensors never needs; refused and nothing was run`,
        'only state_dicts of tensors (torch.save(model.state_dict())) are read; see docs/pth.md for the allowed globals',
      );
    }
    return new PyGlobal(module, name, h);
  };
  const dictKey = (k: unknown): DictKey => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    return bad('a dict key that is not a string or number');
  };
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (!(d instanceof PyDict)) bad('SETITEM(S) on something that is not a dict');
    (d as PyDict).map.set(dictKey(k), v);
  };
  const appendTo = (l: unknown, vs: readonly unknown[]): void => {
    if (!(l instanceof PyList)) bad('APPEND(S) on something that is not a list');
    const items = (l as PyList).items;
    if (items.length + vs.length > maxStack) bad(`a list of more than ${maxStack} items`);
    for (const v of vs) items.push(v);
  };

  for (;;) {
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p < 2 || p > 5) bad(`pickle protocol ${p} (2 to 5 are read)`);
        break;
      }
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length) bad(`STOP with ${stack.length} values on the stack`);
        return { value: pop(), end: pos };
      case 0x28: // MARK
        if (metastack.length >= maxMarks) bad(`more than ${maxMarks} nested MARKs`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x49: { // INT (text)
        const s = line();
        if (s === '01') push(true);
        else if (s === '00') push(false);
        else {
          if (!/^[+-]?\d{1,30}$/.test(s)) bad(`bad INT ${JSON.stringify(s.slice(0, 40))}`);
          const b = BigInt(s);
          push(b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);
        }
        break;
      }
      case 0x4a: push(i32()); break; // BININT
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x4c: { // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d{1,40}$/.test(s)) bad('bad LONG');
        const b = BigInt(s);
        push(b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);
        break;
      }
      case 0x8a: push(fromLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const k = i32();
        if (k < 0 || k > 64) bad(`LONG4 of ${k} bytes`);
        push(fromLong(take(k)));
        break;
      }
      case 0x46: { // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (s.trim() === '' || (Number.isNaN(v) && !/nan/i.test(s))) bad('bad FLOAT');
        push(v);
        break;
      }
      case 0x47: { // BINFLOAT (big-endian double)
        need(8);
        push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x53: { // STRING (text, quoted)
        const s = line();
        push(s.replace(/^(['"])(.*)\1$/s, '$2'));
        break;
      }
      case 0x54: push(latin1.decode(take(i32()))); break; // BINSTRING
      case 0x55: push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x56: push(line()); break; // UNICODE (raw-unicode-escape, ASCII in practice)
      case 0x58: push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8c: push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: push(utf8(take(u64()))); break; // BINUNICODE8
      case 0x42: push(take(u32())); break; // BINBYTES
      case 0x43: push(take(u8())); break; // SHORT_BINBYTES
      case 0x8e: push(take(u64())); break; // BINBYTES8
      case 0x96: push(take(u64())); break; // BYTEARRAY8
      case 0x5d: push(new PyList()); break; // EMPTY_LIST
      case 0x61: { // APPEND
        const v = pop();
        appendTo(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x6c: { // LIST
        const l = new PyList();
        appendTo(l, popMark());
        push(l);
        break;
      }
      case 0x29: push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        push(new PyTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        push(new PyTuple([a, b, c]));
        break;
      }
      case 0x7d: push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) bad('DICT with an odd number of items');
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) bad('SETITEMS with an odd number of items');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x8f: push(new PyList()); break; // EMPTY_SET (a list of members: sets never matter here)
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x91: { // FROZENSET
        const l = new PyList();
        appendTo(l, popMark());
        push(l);
        break;
      }
      case 0x67: { // GET
        const s = line();
        if (!/^\d{1,10}$/.test(s)) bad('bad GET index');
        push(get(Number(s)));
        break;
      }
      case 0x68: push(get(u8())); break; // BINGET
      case 0x6a: push(get(u32())); break; // LONG_BINGET
      case 0x70: { // PUT
        const s = line();
        if (!/^\d{1,10}$/.test(s)) bad('bad PUT index');
        put(Number(s), top());
        break;
      }
      case 0x71: put(u8(), top()); break; // BINPUT
      case 0x72: put(u32(), top()); break; // LONG_BINPUT
      case 0x94: put(memo.size, top()); break; // MEMOIZE
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        push(findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL of non-strings');
        push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        if (!(fn instanceof PyGlobal)) bad('REDUCE of something that is not an allowed global');
        if (!(args instanceof PyTuple)) bad('REDUCE arguments are not a tuple');
        const g = fn as PyGlobal;
        if (!g.handler.call) bad(`${g.qualified} cannot be called`);
        push(g.handler.call!((args as PyTuple).items, where));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop(), cls = pop();
        if (!(cls instanceof PyGlobal) || !(args instanceof PyTuple)) bad('NEWOBJ of something that is not an allowed class');
        const g = cls as PyGlobal;
        if (!g.handler.construct) bad(`${g.qualified} cannot be instantiated`);
        push(g.handler.construct!((args as PyTuple).items, where));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(), args = pop(), cls = pop();
        if (!(cls instanceof PyGlobal) || !(args instanceof PyTuple) || !(kwargs instanceof PyDict)) bad('NEWOBJ_EX of something that is not an allowed class');
        const g = cls as PyGlobal;
        if (!g.handler.construct || (kwargs as PyDict).map.size) bad(`${g.qualified} cannot be instantiated`);
        push(g.handler.construct!((args as PyTuple).items, where));
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state); only dicts keep it (as data)
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        else if (obj && typeof obj === 'object' && 'setState' in obj && typeof (obj as { setState: unknown }).setState === 'function') {
          (obj as { setState(s: unknown): void }).setState(state);
        } else bad('BUILD on an object that takes no state');
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) bad('a persistent id where none is expected');
        push(opts.persistentLoad!(pid));
        break;
      }
      case 0x50: { // PERSID
        const pid = line();
        if (!opts.persistentLoad) bad('a persistent id where none is expected');
        push(opts.persistentLoad!(pid));
        break;
      }
      case 0x69: { // INST: instantiate module.name (protocol 0)
        const module = line();
        const name = line();
        findGlobal(module, name); // refuses with the name
        return bad(`INST of ${module}.${name} is not read`);
      }
      case 0x6f: // OBJ
        return bad('OBJ (class instantiation of protocol 1) is not read');
      case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4
        return bad('extension registry codes (EXT1/2/4) are not read');
      case 0x97: case 0x98: // NEXT_BUFFER, READONLY_BUFFER
        return bad('out-of-band buffers are not read');
      default:
        pos = opAt;
        return bad(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
