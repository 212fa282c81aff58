/**
 * Where the backbone and the head are in a checkpoint object.
 *
 *   2023 (opensphere/module): {'backbone': state_dict, 'head': {'w', 'b'}}
 *   2022 (model/): backbone_<iter>.pth = the backbone state_dict of a
 *        DataParallel model (every key `module.`...), head_<iter>.pth =
 *        {'module.w', 'module.b'} in a separate file (--head FILE)
 *   a bare state_dict, with or without `module.`; a dict that holds one under
 *   `state_dict`, `model` or `backbone`; a flat state_dict with
 *   `backbone.`/`head.` prefixes.
 *
 * The SphereFace2 head is `w` (feat_dim x num_class in the 2022 code,
 * num_class x feat_dim in the 2023 code) and a scalar bias `b` of shape (1,).
 */
import { InputError, UnsupportedError } from '../errors.js';
import { PyDict } from './pickle.js';
import { PthTensor, type Checkpoint } from './checkpoint.js';

export interface HeadTensors {
  /** Where it came from: 'checkpoint' or the --head file. */
  readonly source: string;
  readonly keys: readonly string[];
  readonly w: PthTensor | undefined;
  readonly b: PthTensor | undefined;
  readonly bytes: number;
}

export interface BackboneLayout {
  /** 2023 | 2022 (DataParallel keys) | state_dict | <key> (a dict holding it) */
  readonly layout: string;
  readonly description: string;
  readonly prefixStripped: string;
  readonly tensors: Map<string, PthTensor>;
  /** Entries of the state_dict that are not tensors (ignored). */
  readonly nonTensors: readonly string[];
  readonly head: HeadTensors | null;
  /** Other top-level entries (optimizer, epoch, ...), ignored. */
  readonly ignored: readonly string[];
}

const WRAPPER_KEYS = ['state_dict', 'model', 'model_state_dict', 'net'] as const;

function asStateDict(d: PyDict, where: string): { tensors: Map<string, PthTensor>; nonTensors: string[] } {
  const tensors = new Map<string, PthTensor>();
  const nonTensors: string[] = [];
  for (const [k, v] of d.map) {
    if (typeof k !== 'string') throw new InputError('pth-layout', `${where}: a state_dict key that is not a string (${String(k)})`, 'the checkpoint is damaged');
    if (v instanceof PthTensor) tensors.set(k, v);
    else nonTensors.push(k);
  }
  return { tensors, nonTensors };
}

function stripCommon(tensors: Map<string, PthTensor>, prefix: string): Map<string, PthTensor> | null {
  if (tensors.size === 0 || ![...tensors.keys()].every((k) => k.startsWith(prefix))) return null;
  return new Map([...tensors].map(([k, v]) => [k.slice(prefix.length), v]));
}

function headOf(tensors: ReadonlyMap<string, PthTensor>, source: string): HeadTensors | null {
  const keys = [...tensors.keys()];
  if (!keys.length) return null;
  const w = tensors.get('w') ?? tensors.get('weight');
  const b = tensors.get('b') ?? tensors.get('bias');
  const bytes = [...tensors.values()].reduce((a, t) => a + t.byteLength, 0);
  return { source, keys, w, b, bytes };
}

function isHeadOnly(tensors: ReadonlyMap<string, PthTensor>): boolean {
  const keys = [...tensors.keys()];
  return keys.length > 0 && keys.length <= 3 && keys.includes('w') && keys.every((k) => k === 'w' || k === 'b' || k === 'num_batches_tracked');
}

export function findBackbone(ck: Checkpoint, depth = 0): BackboneLayout {
  const where = ck.displayPath;
  // A pickle can make a dict hold itself ('model' -> the same dict): wrappers nest a few levels at most.
  if (depth > 4) throw new UnsupportedError('pth-layout', `${where}: state_dict wrappers nested more than 4 deep`, 'save model.state_dict() itself');
  const root = ck.root;
  if (!(root instanceof PyDict)) {
    throw new UnsupportedError('pth-layout', `${where} holds a ${describe(root)}, not a dict of tensors`, 'save model.state_dict(), or {"backbone": model.state_dict(), "head": head.state_dict()}');
  }
  const top = [...root.map.keys()].map(String);
  // 2023: {'backbone': sd, 'head': sd}
  const bb = root.map.get('backbone');
  if (bb instanceof PyDict) {
    const { tensors, nonTensors } = asStateDict(bb, where);
    const hd = root.map.get('head');
    const head = hd instanceof PyDict ? headOf(asStateDict(hd, where).tensors, 'checkpoint') : null;
    return finish({ layout: '2023', description: "opensphere 2023: {'backbone': state_dict, 'head': state_dict}", tensors, nonTensors, head, ignored: top.filter((k) => k !== 'backbone' && k !== 'head') });
  }
  for (const key of WRAPPER_KEYS) {
    const inner = root.map.get(key);
    if (inner instanceof PyDict) {
      const sub = findBackbone({ ...ck, root: inner }, depth + 1);
      return { ...sub, layout: sub.layout === 'state_dict' ? key : `${key}/${sub.layout}`, description: `a dict holding the state_dict under '${key}' (${sub.description})`, ignored: [...top.filter((k) => k !== key), ...sub.ignored] };
    }
  }
  const { tensors, nonTensors } = asStateDict(root, where);
  if (tensors.size === 0) {
    throw new UnsupportedError('pth-layout', `${where} holds no tensors (top-level keys: ${top.slice(0, 12).join(', ') || 'none'})`, 'pass a checkpoint saved from model.state_dict()');
  }
  const unprefixed = stripCommon(tensors, 'module.');
  if (unprefixed) {
    if (isHeadOnly(unprefixed)) throw headFileError(where);
    return finish({ layout: '2022', description: 'opensphere 2022: a DataParallel state_dict (module. keys); the head is a separate file', tensors: unprefixed, nonTensors, head: null, ignored: [], prefixStripped: 'module.' });
  }
  if (isHeadOnly(tensors)) throw headFileError(where);
  // A flat model state_dict with backbone./head. prefixes.
  const bbKeys = new Map([...tensors].filter(([k]) => k.startsWith('backbone.') || k.startsWith('module.backbone.')).map(([k, v]) => [k.replace(/^(module\.)?backbone\./, ''), v]));
  if (bbKeys.size) {
    const rest = new Map([...tensors].filter(([k]) => !/^(module\.)?backbone\./.test(k)).map(([k, v]) => [k.replace(/^(module\.)?head\./, ''), v]));
    return finish({ layout: 'prefixed', description: 'one state_dict with backbone. and head. prefixes', tensors: bbKeys, nonTensors, head: headOf(rest, 'checkpoint'), ignored: [], prefixStripped: 'backbone.' });
  }
  // A bare backbone state_dict, possibly with the head's w and b beside it.
  const head = tensors.has('w') ? headOf(new Map([...tensors].filter(([k]) => k === 'w' || k === 'b')), 'checkpoint') : null;
  if (head) {
    tensors.delete('w');
    tensors.delete('b');
  }
  return finish({ layout: 'state_dict', description: 'a bare backbone state_dict', tensors, nonTensors, head, ignored: [] });
}

function finish(l: Omit<BackboneLayout, 'prefixStripped'> & { prefixStripped?: string }): BackboneLayout {
  // Keys of a DataParallel model inside a 2023 or wrapped dict
  const stripped = l.prefixStripped ? null : stripCommon(l.tensors, 'module.');
  return { ...l, prefixStripped: l.prefixStripped ?? (stripped ? 'module.' : ''), tensors: stripped ?? l.tensors };
}

function headFileError(where: string): UnsupportedError {
  return new UnsupportedError('pth-layout', `${where} is a SphereFace2 head (w, b), not a backbone`, 'pass the backbone checkpoint (backbone_<iter>.pth) as the model and this file with --head');
}

/** The head of a separate head file (2022 head_<iter>.pth): its w and b. */
export function headFromFile(ck: Checkpoint): HeadTensors {
  const root = ck.root;
  if (!(root instanceof PyDict)) throw new InputError('pth-head', `--head ${ck.displayPath} holds a ${describe(root)}, not a dict of tensors`, 'pass head_<iter>.pth of the same training run');
  let d = root;
  const inner = root.map.get('head');
  if (inner instanceof PyDict) d = inner;
  const { tensors } = asStateDict(d, ck.displayPath);
  const t = stripCommon(tensors, 'module.') ?? tensors;
  const head = headOf(t, ck.displayPath);
  if (!head || !head.w) throw new InputError('pth-head', `--head ${ck.displayPath} has no head weight w (keys: ${[...t.keys()].slice(0, 8).join(', ')})`, 'pass head_<iter>.pth of the same training run');
  return head;
}

/** Classes and layout of a head for an embedding of size d. */
export function headShape(head: HeadTensors, d: number): { classes: number | null; layout: 'DxC' | 'CxD' | 'unknown' } {
  const s = head.w?.shape;
  if (!s || s.length !== 2) return { classes: null, layout: 'unknown' };
  if (s[0] === d && s[1] !== d) return { classes: s[1]!, layout: 'DxC' };
  if (s[1] === d) return { classes: s[0]!, layout: 'CxD' };
  return { classes: null, layout: 'unknown' };
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PthTensor) return 'single tensor';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
