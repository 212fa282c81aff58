/**
 * Weight quantization for tfjs bundles. The tfjs weights manifest knows only
 * per-tensor schemes (each weight's entry carries at most one quantization
 * {dtype: uint8 | uint16 | float16, min?, scale?}, no per-channel scales;
 * uint8/uint16 decode as v * scale + min); a loaded weight is float32
 * again, computed by tfjs as fround(v * scale + min).
 *
 *   fp16        manifest {dtype: 'float16'}: IEEE binary16 bits, round to nearest
 *               even (src/ir/float16.ts). A tensor with |w| > 65504 would become
 *               Inf: it stays float32 (reported).
 *   uint8 per tensor (manifest affine):
 *               lo = min W, hi = max W, s = (hi - lo) / 255 (1 if hi = lo),
 *               q = clamp(round((W - lo) / s), 0, 255),   W~ = q s + lo.
 *               |W - W~| <= s / 2.
 *   int8 per output channel (symmetric: src/quantize's quantizeWeightPerChannel,
 *               so every target rounds weights identically):
 *               s_c = max(max |W_c| / 127, 1e-12), q = clamp(round_half_even(W / s_c), -127, 127),
 *               stored as uint8 q + 128 with manifest {scale: 1, min: -128} (so it
 *               loads as the integer q exactly), and W~ = q * s_c computed in the
 *               graph by a Mul with a [C] scale Const (broadcast on the trailing
 *               output-channel axes of HWIO / [K, N] / [H, W, C, M] kernels).
 *               |W_c - W~_c| <= s_c / 2.
 *
 * Which is better for a kernel is measured, not assumed: the error that
 * matters after a convolution is each output channel's relative weight error
 * (a BN-folded kernel has channels of very different magnitudes, and a
 * per-tensor step that suits the largest channel wipes out the smallest), so
 *     E = mean over channels c of ||W_c - W~_c||^2 / ||W_c||^2
 * is computed for both and the lower wins; per tensor also wins ties within 1%
 * because it needs no extra op at run time.
 */
import { quantizeWeightPerChannel, toFloat16 } from '../../quantize/index.js';
import { FLOAT16_MAX } from '../../quantize/schemes.js';

/** float16 bits, or undefined when a value would overflow to Inf. */
export function toFloat16Bits(w: Float32Array): Uint16Array | undefined {
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]!) > FLOAT16_MAX) return undefined;
  return toFloat16(w);
}

export interface PerTensorU8 {
  readonly q: Uint8Array;
  readonly min: number;
  readonly scale: number;
}

export function quantizePerTensorU8(w: Float32Array): PerTensorU8 {
  let lo = Infinity, hi = -Infinity;
  for (const x of w) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // The manifest stores min and scale as JSON numbers that tfjs reads as
  // doubles; round them to float32 so the error measured here is the one tfjs gets.
  const min = Math.fround(lo);
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const q = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.min(255, Math.max(0, Math.round((w[i]! - min) / scale)));
  return { q, min, scale };
}

export function dequantizePerTensorU8(p: PerTensorU8): Float32Array {
  const out = new Float32Array(p.q.length);
  for (let i = 0; i < out.length; i++) out[i] = p.q[i]! * p.scale + p.min;
  return out;
}

export interface PerChannelI8 {
  /** q + 128 as bytes (so the manifest's uint8 with min -128 decodes to q). */
  readonly stored: Uint8Array;
  /** One scale per channel (the trailing `channels` elements cycle fastest). */
  readonly scales: Float32Array;
}

/** Symmetric int8 per channel, where the channel is the flat index modulo `channels` (trailing channel axes). */
export function quantizePerChannelI8(w: Float32Array, channels: number): PerChannelI8 {
  // As a [rest, channels] matrix the channel is axis 1 of the shared scheme.
  const q = quantizeWeightPerChannel({ values: w, dims: [w.length / channels, channels] }, 1);
  const stored = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) stored[i] = q.data[i]! + 128;
  return { stored, scales: q.scales };
}

export function dequantizePerChannelI8(p: PerChannelI8): Float32Array {
  const c = p.scales.length;
  const out = new Float32Array(p.stored.length);
  for (let i = 0; i < out.length; i++) out[i] = (p.stored[i]! - 128) * p.scales[i % c]!;
  return out;
}

/** Mean over channels of the relative squared error (channels with zero weights are skipped). */
export function channelRelativeError(w: Float32Array, approx: Float32Array, channels: number): number {
  const err = new Float64Array(channels), norm = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = i % channels;
    const d = w[i]! - approx[i]!;
    err[c] = err[c]! + d * d;
    norm[c] = norm[c]! + w[i]! * w[i]!;
  }
  let sum = 0, k = 0;
  for (let c = 0; c < channels; c++) {
    if (norm[c]! === 0) continue;
    sum += err[c]! / norm[c]!;
    k++;
  }
  return k ? sum / k : 0;
}

export type Int8Scheme = 'per-tensor' | 'per-channel';

export interface Int8Choice {
  readonly scheme: Int8Scheme;
  readonly errorPerTensor: number;
  readonly errorPerChannel: number;
  readonly perTensor: PerTensorU8;
  readonly perChannel: PerChannelI8;
}

/** Quantize both ways and pick (or take the forced scheme). */
export function chooseInt8(w: Float32Array, channels: number, force?: Int8Scheme): Int8Choice {
  const perTensor = quantizePerTensorU8(w);
  const perChannel = quantizePerChannelI8(w, channels);
  const errorPerTensor = channelRelativeError(w, dequantizePerTensorU8(perTensor), channels);
  const errorPerChannel = channelRelativeError(w, dequantizePerChannelI8(perChannel), channels);
  const scheme = force ?? (errorPerChannel < errorPerTensor * 0.99 ? 'per-channel' : 'per-tensor');
  return { scheme, errorPerTensor, errorPerChannel, perTensor, perChannel };
}
