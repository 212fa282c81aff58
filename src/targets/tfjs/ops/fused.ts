/**
 * Activations absorbed into a fused op (tfjs has fused kernels for them on
 * every backend): Relu, LeakyRelu, and PRelu with a per-channel slope become
 * `fused_ops: [BiasAdd, <act>]` of the _FusedConv2D / FusedDepthwiseConv2dNative
 * / _FusedMatMul before them. An activation is absorbed only when it is the
 * op's single consumer and the value is not a graph output.
 */
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { Converter } from '../convert.js';
import { tfAttr, type TfAttr } from '../graphdef.js';

export interface Activation {
  readonly fusedOps: readonly string[];
  /** Per-channel PReLU slope, length = channels. */
  readonly alpha?: Float32Array;
  readonly leaky?: number;
  readonly node: Node;
  readonly out: Value;
}

/** A constant broadcastable per channel (axis 1 of an NCHW or [N, D] activation), as a [C] vector. */
export function perChannel(v: Value | null, channels: number, rank: number): Float32Array | undefined {
  if (!v?.const || v.const.dims.length > rank) return undefined;
  const d = [...Array(rank - v.const.dims.length).fill(1), ...v.const.dims] as number[];
  if (d.some((x, i) => i !== 1 && x !== 1) || (d[1] !== 1 && d[1] !== channels)) return undefined;
  const data = v.const.float32();
  return data.length === channels ? data : new Float32Array(channels).fill(data[0]!);
}

export function takeActivation(v: Value, channels: number, rank: number): Activation | undefined {
  const c = v.onlyConsumer;
  if (!c || c.inputs[0] !== v || c.outputs.length !== 1) return undefined;
  if (c.op === 'Relu') return { fusedOps: ['Relu'], node: c, out: c.output(0) };
  if (c.op === 'LeakyRelu') return { fusedOps: ['LeakyRelu'], leaky: c.attrFloat('alpha', 0.01), node: c, out: c.output(0) };
  if (c.op === 'PRelu') {
    const alpha = perChannel(c.inputs[1] ?? null, channels, rank);
    if (alpha) return { fusedOps: ['Prelu'], alpha, node: c, out: c.output(0) };
  }
  return undefined;
}

/** Args and attrs of a fused op with BiasAdd and an optional activation. */
export function fusedArgs(cx: Converter, base: string, bias: Float32Array, act: Activation | undefined): { args: string[]; attrs: Record<string, TfAttr> } {
  const args = [cx.b.constF32(`${base}/bias`, [bias.length], bias, 'param')];
  if (act?.alpha) args.push(cx.b.constF32(`${base}/alpha`, [act.alpha.length], act.alpha, 'param'));
  const attrs: Record<string, TfAttr> = { fused_ops: tfAttr.strs(['BiasAdd', ...(act?.fusedOps ?? [])]), num_args: tfAttr.int(args.length) };
  if (act?.leaky !== undefined) attrs.leakyrelu_alpha = tfAttr.float(act.leaky);
  return { args, attrs };
}
