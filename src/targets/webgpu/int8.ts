/**
 * The WebGPU target's int8 weights as float32, for the per-target sensitivity
 * (src/quantize/target-int8.ts). pack.ts stores every conv and fc weight as
 * int8 symmetric per output channel (src/quantize/schemes.ts), so in the ONNX
 * layout of the node that is
 *   W~ = dequantize(quantizeWeightPerChannel(W, output-channel axis))
 * (Conv: axis 0 of [O, I/g, kh, kw]; Gemm: axis 0 with transB, else 1; MatMul:
 * the last axis of a 2-D B). The zero padding pack.ts adds to reach quads does
 * not change a channel's max |w|, so the scales are the same.
 */
import type { Node } from '../../ir/node.js';
import { dequantizePerChannel, quantizeWeightPerChannel } from '../../quantize/schemes.js';
import { WEIGHT_OPS } from '../../quantize/int8.js';
import { constOf } from './ops/const.js';
import type { TargetInt8Decision } from '../../quantize/target-int8.js';
import { decideInt8For } from '../int8-inputs.js';
import type { TargetContext } from '../target.js';

export const WEBGPU_INT8_SCHEME = 'int8 symmetric per output channel (f32 scale per channel), f32 activations and arithmetic';

export function webgpuInt8Weight(n: Node): Float32Array | null {
  const w = constOf(n.inputs[1]);
  if (!w) return null;
  if (n.op === 'Conv' && w.dims.length !== 4) return null;
  if ((n.op === 'Gemm' || n.op === 'MatMul') && w.dims.length !== 2) return null;
  if (n.op !== 'Conv' && n.op !== 'Gemm' && n.op !== 'MatMul') return null;
  const axis = WEIGHT_OPS[n.op]!.axis(n, w);
  const q = quantizeWeightPerChannel(w, axis);
  return dequantizePerChannel(q);
}

/** The conv / fc layers that stay float32 in this int8 bundle (and the measurements), logged. */
export function decideWebgpuInt8(ctx: TargetContext): Promise<TargetInt8Decision> {
  return decideInt8For(ctx, { target: 'webgpu', step: 'mixed precision for its per-channel scheme', scheme: WEBGPU_INT8_SCHEME, unit: 'layer(s)', weightOf: webgpuInt8Weight });
}
