/**
 * Raising the default-domain opset (int8 needs 13: DequantizeLinear with an
 * `axis` for per-channel scales exists from opset 13).
 *
 * Most ops only gained types between opsets 7 and 13. The ones whose
 * signature or meaning changed are a table: each entry converts the node to
 * the new form (Before/After in its comment) or refuses with the reason.
 * Conversions are exact: they move attributes into constant inputs.
 */
import { attr } from '../ir/attribute.js';
import { DType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { TensorData } from '../ir/tensor.js';
import { UnsupportedError } from '../errors.js';

export interface OpsetUpgrade {
  readonly from: number;
  readonly to: number;
  /** Nodes rewritten, as "op name: what changed". */
  readonly converted: readonly string[];
}

interface Change {
  /** The opset version in which the op's signature changed. */
  readonly since: number;
  /** Rewrite `n` in place, or return why it cannot be. */
  readonly convert: (n: Node) => string | undefined;
}

const IS_DEFAULT = (d: string) => d === '' || d === 'ai.onnx';

function moveIntsToInput(attrName: string, slot: number) {
  return (n: Node): string | undefined => {
    const v = n.attrInts(attrName);
    if (v === undefined) return undefined; // nothing to move (default behaviour is the same)
    while (n.inputs.length < slot) n.setInput(n.inputs.length, null);
    n.setInput(slot, n.graph.addConstant(`${n.name}_${attrName}`, TensorData.int64([v.length], v)));
    n.attrs.delete(attrName);
    return undefined;
  };
}

const CHANGES: Readonly<Record<string, readonly Change[]>> = {
  // Squeeze(x){axes} -> Squeeze(x, axes)
  Squeeze: [{ since: 13, convert: moveIntsToInput('axes', 1) }],
  Unsqueeze: [{ since: 13, convert: moveIntsToInput('axes', 1) }],
  // ReduceSum(x){axes} -> ReduceSum(x, axes)
  ReduceSum: [{ since: 13, convert: moveIntsToInput('axes', 1) }],
  // Split(x){split} -> Split(x, split)
  Split: [{ since: 13, convert: moveIntsToInput('split', 1) }],
  // Slice(x){starts, ends, axes} -> Slice(x, starts, ends, axes)
  Slice: [{
    since: 10,
    convert: (n) => {
      const starts = n.attrInts('starts'), ends = n.attrInts('ends'), axes = n.attrInts('axes');
      if (!starts || !ends) return 'Slice without starts/ends attributes';
      const c = (k: string, v: number[]) => n.graph.addConstant(`${n.name}_${k}`, TensorData.int64([v.length], v));
      n.setInput(1, c('starts', starts));
      n.setInput(2, c('ends', ends));
      if (axes) n.setInput(3, c('axes', axes));
      for (const k of ['starts', 'ends', 'axes']) n.attrs.delete(k);
      return undefined;
    },
  }],
  // Clip(x){min, max} -> Clip(x, min, max)
  Clip: [{
    since: 11,
    convert: (n) => {
      const lo = n.attrFloat('min'), hi = n.attrFloat('max');
      const dt = n.inputs[0]?.dtype ?? DType.FLOAT;
      if (dt !== DType.FLOAT) return 'Clip on a non-float32 tensor';
      if (lo !== undefined) n.setInput(1, n.graph.addConstant(`${n.name}_min`, TensorData.float32([], [lo])));
      if (hi !== undefined) {
        if (n.inputs.length < 2) n.setInput(1, null);
        n.setInput(2, n.graph.addConstant(`${n.name}_max`, TensorData.float32([], [hi])));
      }
      n.attrs.delete('min');
      n.attrs.delete('max');
      return undefined;
    },
  }],
  // Pad(x){pads, value, mode} -> Pad(x, pads, value){mode}
  Pad: [{
    since: 11,
    convert: (n) => {
      const pads = n.attrInts('pads');
      if (!pads) return 'Pad without a pads attribute';
      n.setInput(1, n.graph.addConstant(`${n.name}_pads`, TensorData.int64([pads.length], pads)));
      const value = n.attrFloat('value');
      if (value !== undefined && value !== 0) {
        if ((n.inputs[0]?.dtype ?? DType.FLOAT) !== DType.FLOAT) return 'Pad with a constant value on a non-float32 tensor';
        n.setInput(2, n.graph.addConstant(`${n.name}_value`, TensorData.float32([], [value])));
      }
      n.attrs.delete('pads');
      n.attrs.delete('value');
      return undefined;
    },
  }],
  // Dropout(x){ratio} -> Dropout(x): an inference graph's Dropout is the identity either way.
  Dropout: [{ since: 12, convert: (n) => { n.attrs.delete('ratio'); n.attrs.delete('is_test'); return undefined; } }],
  // BatchNormalization{spatial=1} -> BatchNormalization: spatial was removed (always 1 since).
  BatchNormalization: [{
    since: 9,
    convert: (n) => {
      if (n.attrInt('spatial', 1) !== 1) return 'BatchNormalization with spatial=0 (per-element statistics) has no opset-9+ form';
      n.attrs.delete('spatial');
      return undefined;
    },
  }],
  // Softmax{axis} coerced its input to 2-D before opset 13; the same as the new single-axis form only when axis is the last one.
  Softmax: [{ since: 13, convert: lastAxisOnly }],
  LogSoftmax: [{ since: 13, convert: lastAxisOnly }],
  Hardmax: [{ since: 13, convert: lastAxisOnly }],
  Upsample: [{ since: 10, convert: () => 'Upsample was replaced by Resize (whose coordinate modes differ); re-export the model at opset 11 or later' }],
  Resize: [{ since: 11, convert: () => 'Resize changed its inputs and coordinate modes in opset 11; re-export the model at opset 11 or later' }],
  TopK: [{ since: 10, convert: moveIntsToInputOrRefuse }],
  Scatter: [{ since: 11, convert: () => 'Scatter was replaced by ScatterElements; re-export the model at opset 11 or later' }],
};

function lastAxisOnly(n: Node): string | undefined {
  const rank = n.inputs[0]?.shape?.length;
  const axis = n.attrInt('axis', 1);
  if (rank === undefined) return `${n.op} on an input of unknown rank (its meaning changed in opset 13)`;
  const a = axis < 0 ? axis + rank : axis;
  if (a !== rank - 1) return `${n.op} over axes ${a}..${rank - 1} (2-D coercion before opset 13 has no single-axis form)`;
  n.setAttr('axis', attr.int(-1));
  return undefined;
}

function moveIntsToInputOrRefuse(n: Node): string | undefined {
  const k = n.attrInt('k');
  if (k === undefined) return 'TopK without k';
  n.setInput(1, n.graph.addConstant(`${n.name}_k`, TensorData.int64([1], [k])));
  n.attrs.delete('k');
  return undefined;
}

/** Raise the default-domain opset to at least `to` in place; throws UnsupportedError listing every node it cannot convert. */
export function upgradeOpset(model: Model, to: number): OpsetUpgrade {
  const from = model.opset('') ?? 1;
  if (from >= to) return { from, to: from, converted: [] };
  if (from < 7) throw new UnsupportedError('opset', `opset ${from} is older than 7; sf2-export converts opsets 7 and later to ${to}`, 're-export the model at opset 13 or later');
  const converted: string[] = [];
  const problems: string[] = [];
  for (const n of [...model.graph.nodes]) {
    if (!IS_DEFAULT(n.domain)) continue;
    for (const c of CHANGES[n.op] ?? []) {
      if (c.since <= from || c.since > to) continue;
      const why = c.convert(n);
      if (why) problems.push(`${n.name} (${n.op}): ${why}`);
      else converted.push(`${n.name} (${n.op}): opset ${c.since} form`);
    }
  }
  if (problems.length) {
    throw new UnsupportedError('opset', `int8 needs opset ${to} (per-channel DequantizeLinear) and the model (opset ${from}) has ops that cannot be converted: ${problems.join('; ')}`, `re-export the model at opset ${to} or later, or use --precision fp32,fp16`);
  }
  model.opsetImports = model.opsetImports.map((o) => (IS_DEFAULT(o.domain) ? { domain: o.domain, version: to } : o));
  if (model.irVersion < 7) model.irVersion = 7;
  return { from, to, converted };
}

/** The problems `upgradeOpset` would raise, without changing the model (for Target.check). */
export function opsetProblems(model: Model, to: number): string[] {
  const from = model.opset('') ?? 1;
  if (from >= to) return [];
  if (from < 7) return [`opset ${from} is older than 7`];
  const out: string[] = [];
  for (const n of model.graph.nodes) {
    if (!IS_DEFAULT(n.domain)) continue;
    for (const c of CHANGES[n.op] ?? []) {
      if (c.since <= from || c.since > to) continue;
      const refuse = REFUSED_ALWAYS.has(n.op) || (n.op === 'BatchNormalization' && n.attrInt('spatial', 1) !== 1) || (['Softmax', 'LogSoftmax', 'Hardmax'].includes(n.op) && !lastAxisOk(n));
      if (refuse) out.push(`${n.name} (${n.op})`);
    }
  }
  return out;
}

const REFUSED_ALWAYS = new Set(['Upsample', 'Resize', 'Scatter']);

function lastAxisOk(n: Node): boolean {
  const rank = n.inputs[0]?.shape?.length;
  if (rank === undefined) return false;
  const axis = n.attrInt('axis', 1);
  return (axis < 0 ? axis + rank : axis) === rank - 1;
}
