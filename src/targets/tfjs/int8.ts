/**
 * The tfjs target's int8 kernels as float32, for the per-target sensitivity
 * (src/quantize/target-int8.ts). weights.ts stores every kernel Const either
 * per tensor (uint8 affine) or per output channel (int8 + scale), whichever has
 * the lower mean per-channel relative error (quantize.ts chooseInt8). Both
 * schemes and the error see a kernel only as a set of values per output
 * channel, so the choice is computed here on the ONNX weight viewed as
 * [rest, O] (output channel trailing, like HWIO / [K, N] / [H, W, C, M]) and the
 * dequantized values are put back in the ONNX layout. A grouped convolution is
 * one kernel per group (ops/conv.ts), so each group is quantized on its own.
 */
import type { Node } from '../../ir/node.js';
import type { TargetInt8Decision } from '../../quantize/target-int8.js';
import { decideInt8For } from '../int8-inputs.js';
import type { TargetContext } from '../target.js';
import { chooseInt8, dequantizePerChannelI8, dequantizePerTensorU8 } from './quantize.js';

export const TFJS_INT8_SCHEME = 'kernels on 8 bits: per tensor (uint8 affine) or per output channel (int8 + float32 scale, one Mul), chosen per kernel; float32 activations';

/** W [O, R] (row-major, O outputs) -> W~ as tfjs would load it. */
function roundTrip(w: Float32Array, o: number): Float32Array {
  const r = w.length / o;
  const t = new Float32Array(w.length);
  for (let i = 0; i < o; i++) for (let j = 0; j < r; j++) t[j * o + i] = w[i * r + j]!;
  const q = chooseInt8(t, o);
  const back = q.scheme === 'per-tensor' ? dequantizePerTensorU8(q.perTensor) : dequantizePerChannelI8(q.perChannel);
  const out = new Float32Array(w.length);
  for (let i = 0; i < o; i++) for (let j = 0; j < r; j++) out[i * r + j] = back[j * o + i]!;
  return out;
}

export function tfjsInt8Weight(n: Node): Float32Array | null {
  const w = n.inputs[1]?.const;
  if (!w) return null;
  const data = w.float32();
  if (n.op === 'Conv' && w.dims.length === 4) {
    const [o, ig] = w.dims as [number, number];
    const g = n.attrInt('group', 1);
    const cin = n.inputs[0]?.shape?.[1];
    const depthwise = g !== 1 && g === cin && ig === 1;
    if (g === 1 || depthwise) return roundTrip(data, o);
    const og = o / g, per = data.length / g;
    const out = new Float32Array(data.length);
    for (let j = 0; j < g; j++) out.set(roundTrip(data.subarray(j * per, (j + 1) * per), og), j * per);
    return out;
  }
  if ((n.op === 'Gemm' || n.op === 'MatMul') && w.dims.length === 2) {
    const [r, c] = w.dims as [number, number];
    // Output channels: Gemm transB rows of [N, K]; else the columns of [K, N].
    if (n.op === 'Gemm' && n.attrInt('transB', 0) === 1) return roundTrip(data, r);
    const t = new Float32Array(data.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j]!;
    const back = roundTrip(t, c);
    const out = new Float32Array(data.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = back[j * r + i]!;
    return out;
  }
  return null;
}

/** The kernels that stay float32 in this int8 bundle (and the measurements), logged. */
export function decideTfjsInt8(ctx: TargetContext): Promise<TargetInt8Decision> {
  return decideInt8For(ctx, { target: 'tfjs', step: 'mixed precision for its per-tensor / per-channel kernels', scheme: TFJS_INT8_SCHEME, unit: 'kernel(s)', weightOf: tfjsInt8Weight });
}
