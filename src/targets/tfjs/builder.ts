/**
 * Accumulates a TF graph: nodes in emission order and the Const tensors whose
 * bytes go into the weights manifest (in the same order, so the output is
 * deterministic). Node names are made TF-valid and unique.
 */
import { tfAttr, type TfAttr, type TfDType, type TfNode } from './graphdef.js';

/** What a constant is, for precision decisions (only kernels are quantized). */
export type ConstRole =
  /** A Conv/MatMul weight: quantized in fp16/int8 bundles. */
  | 'kernel'
  /** A per-channel vector or small float tensor (bias, PReLU slope, BN scale): kept float32. */
  | 'param'
  /** Integer operands (shapes, permutations, axes, paddings). */
  | 'index';

export interface TfConst {
  readonly name: string;
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
  readonly role: ConstRole;
  /**
   * For kernels: how many trailing axes index the output channel (HWIO and
   * [K, N] matrices: 1; depthwise [H, W, C, M]: 2). Per-channel quantization
   * groups by these axes.
   */
  readonly channelAxes?: number;
  /** The ONNX node being converted when the Const was made (int8 mixed precision keeps kernels by node). */
  readonly source?: string;
}

const VALID_START = /^[A-Za-z0-9.]/;

/** A TF-valid node name: [A-Za-z0-9.][A-Za-z0-9_.\-/]*. */
export function sanitizeName(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^\/+/, '').replace(/\/+$/, '').replace(/\/{2,}/g, '/');
  if (!VALID_START.test(s)) s = `n${s}`;
  return s;
}

export class TfGraphBuilder {
  readonly nodes: TfNode[] = [];
  readonly consts: TfConst[] = [];
  private readonly names = new Set<string>();
  /** The ONNX node being converted (set by convert.ts), recorded on the Consts it makes. */
  source: string | undefined;

  /** A fresh node name derived from `base`. */
  name(base: string): string {
    const b = sanitizeName(base);
    let n = b;
    for (let k = 1; this.names.has(n); k++) n = `${b}_${k}`;
    this.names.add(n);
    return n;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Add an op node; returns its name (its first output). */
  op(base: string, op: string, inputs: readonly string[], attr: Readonly<Record<string, TfAttr>> = {}): string {
    const name = this.name(base);
    const node: TfNode = { name, op, input: [...inputs], attr: { ...attr } };
    this.nodes.push(node);
    return name;
  }

  placeholder(base: string, dims: readonly number[]): string {
    const name = this.name(base);
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: tfAttr.type('DT_FLOAT'), shape: tfAttr.shape(dims) } });
    return name;
  }

  constF32(base: string, shape: readonly number[], data: Float32Array, role: Exclude<ConstRole, 'index'>, channelAxes?: number): string {
    return this.addConst(base, 'float32', shape, data, role, channelAxes);
  }

  constI32(base: string, shape: readonly number[], values: readonly number[]): string {
    return this.addConst(base, 'int32', shape, Int32Array.from(values), 'index');
  }

  private addConst(base: string, dtype: 'float32' | 'int32', shape: readonly number[], data: Float32Array | Int32Array, role: ConstRole, channelAxes?: number): string {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`const ${base}: shape [${shape.join(',')}] needs ${size} values, got ${data.length}`);
    const name = this.name(base);
    const tfType: TfDType = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    this.nodes.push({ name, op: 'Const', attr: { dtype: tfAttr.type(tfType), value: tfAttr.tensor(tfType, shape) } });
    this.consts.push({ name, dtype, shape: [...shape], data, role, ...(channelAxes !== undefined ? { channelAxes } : {}), ...(this.source !== undefined ? { source: this.source } : {}) });
    return name;
  }
}
