/**
 * What every backbone builder shares: a view of the state_dict that records
 * which keys were used, and the layers torch.onnx.export turns into ONNX ops
 * (eval model, every BatchNorm kept, as TrainingMode.PRESERVE gives):
 *
 *   nn.Conv2d(k, stride, pad)    -> Conv(x, W[, B]) kernel_shape, strides, pads, dilations, group 1
 *   nn.BatchNorm2d / 1d (eval)   -> BatchNormalization(x, weight, bias, running_mean, running_var), epsilon 1e-5
 *   nn.PReLU(C)                  -> PRelu(x, slope[C, 1, 1])
 *   nn.ReLU                      -> Relu
 *   out + identity               -> Add
 *   torch.flatten(x, 1)          -> Flatten axis 1
 *   nn.Linear                    -> Gemm(x, W, B) transB 1
 *   nn.Dropout (eval)            -> nothing
 *
 * BatchNorm epsilon is not stored in a state_dict; opensphere uses 1e-5 for
 * every BN, and so does this importer. A builder that meets a missing key or
 * a shape that does not fit throws ArchMismatch: the architecture does not
 * match (the caller tries the next one), never a crash.
 */
import { attr } from '../../ir/attribute.js';
import { DType } from '../../ir/dtype.js';
import type { GraphBuilder } from '../../ir/builder.js';
import type { Value } from '../../ir/value.js';
import { tensorDataOf, type Checkpoint, type PthTensor } from '../checkpoint.js';

export const BN_EPSILON = 1e-5;

export class ArchMismatch extends Error {}

export interface BnSite {
  /** state_dict prefix, e.g. layer1.0.bn1 */
  readonly module: string;
  readonly channels: number;
  /** What it follows or feeds, as built. */
  readonly position: 'after-conv' | 'before-conv' | 'before-flatten' | 'after-linear';
}

/** The state_dict of a backbone (prefix already stripped): tensors by key, with use tracking. */
export class StateDictView {
  readonly used = new Set<string>();
  readonly bns: BnSite[] = [];
  constructor(readonly tensors: ReadonlyMap<string, PthTensor>, readonly ck: Checkpoint) {}

  has(key: string): boolean {
    return this.tensors.has(key);
  }

  /** The tensor at `key` with exactly `shape` (null entries: any size); throws ArchMismatch otherwise. */
  need(key: string, shape: readonly (number | null)[]): PthTensor {
    const t = this.tensors.get(key);
    if (!t) throw new ArchMismatch(`${key} is missing`);
    if (t.shape.length !== shape.length || shape.some((s, i) => s !== null && s !== t.shape[i])) {
      throw new ArchMismatch(`${key} is [${t.shape.join(', ')}], expected [${shape.map((s) => s ?? '*').join(', ')}]`);
    }
    if (t.dtype === DType.INT64 || t.dtype === DType.BOOL) throw new ArchMismatch(`${key} is an integer tensor`);
    this.used.add(key);
    return t;
  }

  /** Keys no builder step used (num_batches_tracked counters never matter). */
  leftover(): string[] {
    return [...this.tensors.keys()].filter((k) => !this.used.has(k) && !k.endsWith('num_batches_tracked'));
  }
}

export interface Act {
  readonly v: Value;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

const nodeName = (prefix: string, op: string) => `/${prefix.replace(/\./g, '/')}/${op}`;

export class Layers {
  constructor(readonly b: GraphBuilder, readonly sd: StateDictView) {}

  private param(key: string, t: PthTensor, dims?: readonly number[]): Value {
    const g = this.b.graph;
    const existing = g.value(key);
    if (existing?.isConst) return existing;
    return this.b.constant(key, tensorDataOf(this.sd.ck, t, dims ?? t.shape));
  }

  /** Conv2d(in -> out, k x k, stride, pad k/2); `out` null: read from the weight. */
  conv(x: Act, prefix: string, k: number, stride: number, out: number | null, bias: 'yes' | 'no' | 'optional'): Act {
    const wt = this.sd.need(`${prefix}.weight`, [out, x.c, k, k]);
    const o = wt.shape[0]!;
    const inputs: Value[] = [x.v, this.param(`${prefix}.weight`, wt)];
    const hasBias = bias === 'yes' || (bias === 'optional' && this.sd.has(`${prefix}.bias`));
    if (hasBias) inputs.push(this.param(`${prefix}.bias`, this.sd.need(`${prefix}.bias`, [o])));
    const pad = (k - 1) >> 1;
    const h = Math.floor((x.h + 2 * pad - k) / stride) + 1;
    const w = Math.floor((x.w + 2 * pad - k) / stride) + 1;
    const v = this.b.op('Conv', inputs, ['batch', o, h, w], nodeName(prefix, 'Conv'), {
      dilations: attr.ints([1, 1]),
      group: attr.int(1),
      kernel_shape: attr.ints([k, k]),
      pads: attr.ints([pad, pad, pad, pad]),
      strides: attr.ints([stride, stride]),
    });
    return { v, c: o, h, w };
  }

  bn(x: Act, prefix: string, position: BnSite['position']): Act {
    const c = x.c;
    const p = (s: string) => this.param(`${prefix}.${s}`, this.sd.need(`${prefix}.${s}`, [c]));
    const inputs = [x.v, p('weight'), p('bias'), p('running_mean'), p('running_var')];
    if (this.sd.has(`${prefix}.num_batches_tracked`)) this.sd.used.add(`${prefix}.num_batches_tracked`);
    this.sd.bns.push({ module: prefix, channels: c, position });
    const shape = x.h === 0 ? ['batch', c] : ['batch', c, x.h, x.w];
    const v = this.b.op('BatchNormalization', inputs, shape, nodeName(prefix, 'BatchNormalization'), {
      epsilon: attr.float(BN_EPSILON),
      momentum: attr.float(0.9),
    });
    return { ...x, v };
  }

  prelu(x: Act, prefix: string): Act {
    const t = this.sd.need(`${prefix}.weight`, [null]);
    const n = t.shape[0]!;
    if (n !== x.c && n !== 1) throw new ArchMismatch(`${prefix}.weight has ${n} slopes for ${x.c} channels`);
    const slope = this.param(`${prefix}.weight`, t, n === 1 ? [1] : [n, 1, 1]);
    const v = this.b.op('PRelu', [x.v, slope], ['batch', x.c, x.h, x.w], nodeName(prefix, 'PRelu'));
    return { ...x, v };
  }

  relu(x: Act, prefix: string): Act {
    return { ...x, v: this.b.op('Relu', [x.v], ['batch', x.c, x.h, x.w], nodeName(prefix, 'Relu')) };
  }

  add(a: Act, b: Act, prefix: string): Act {
    if (a.c !== b.c || a.h !== b.h || a.w !== b.w) throw new ArchMismatch(`${prefix}: the residual add of [${a.c}, ${a.h}, ${a.w}] and [${b.c}, ${b.h}, ${b.w}]`);
    return { ...a, v: this.b.op('Add', [a.v, b.v], ['batch', a.c, a.h, a.w], nodeName(prefix, 'Add')) };
  }

  /** Flatten -> Gemm (fc); the feature map's size comes from fc's in-features. */
  flattenLinear(x: Act, prefix: string): Act {
    const flat = x.c * x.h * x.w;
    const f = this.b.op('Flatten', [x.v], ['batch', flat], '/Flatten', { axis: attr.int(1) });
    const wt = this.sd.need(`${prefix}.weight`, [null, flat]);
    const d = wt.shape[0]!;
    const inputs = [f, this.param(`${prefix}.weight`, wt)];
    if (this.sd.has(`${prefix}.bias`)) inputs.push(this.param(`${prefix}.bias`, this.sd.need(`${prefix}.bias`, [d])));
    const v = this.b.op('Gemm', inputs, ['batch', d], nodeName(prefix, 'Gemm'), { alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1) });
    return { v, c: d, h: 0, w: 0 };
  }
}

/** Blocks of stage `layer{L}`: how many `layer{L}.{j}.` indices exist (0, 1, ...). */
export function countBlocks(sd: StateDictView, stage: string): number {
  let n = 0;
  const prefix = (j: number) => `${stage}.${j}.`;
  const keys = [...sd.tensors.keys()];
  while (keys.some((k) => k.startsWith(prefix(n)))) n++;
  return n;
}

/** Stages layer1, layer2, ... present in the state_dict. */
export function countStages(sd: StateDictView): number {
  let n = 0;
  const keys = [...sd.tensors.keys()];
  while (keys.some((k) => k.startsWith(`layer${n + 1}.`))) n++;
  return n;
}

/**
 * The input size a backbone with `strided` stride-2 stages needs for fc to
 * see `fcIn` features from `c` channels: s x s maps with s = sqrt(fcIn / c),
 * input s * 2^strided (ceil(H / 2) per 3x3 stride-2 pad-1 conv inverts exactly).
 */
export function inputSizeFor(sd: StateDictView, fcKey: string, c: number, strided: number): number {
  const t = sd.tensors.get(fcKey);
  if (!t || t.shape.length !== 2) throw new ArchMismatch(`${fcKey} is missing`);
  const area = t.shape[1]! / c;
  const s = Math.round(Math.sqrt(area));
  if (!Number.isInteger(area) || s * s !== area || s === 0) throw new ArchMismatch(`${fcKey} has ${t.shape[1]} in-features, not ${c} x s x s`);
  return s * 2 ** strided;
}
