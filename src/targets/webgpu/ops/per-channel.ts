/**
 * Per-channel parameters of a constant broadcast against an activation of per-image
 * shape `s`: the constant must vary at most along the channel axis (axis 1 of the
 * full tensor). Returns the parameter expanded to `s[0]` channels, or a reason.
 */
import type { TensorData } from '../../../ir/tensor.js';
import type { Value } from '../../../ir/value.js';
import type { LowerContext } from '../op-table.js';
import { constOf } from './const.js';

export function perChannel(c: TensorData, s: readonly number[]): Float32Array | string {
  const full = s.length + 1;
  const dims = c.dims;
  if (dims.length > full) return `constant of shape [${dims.join(',')}] has more dimensions than the activation`;
  const aligned = [...Array(full - dims.length).fill(1), ...dims] as number[];
  const channels = s[0] ?? 1;
  for (let i = 0; i < full; i++) {
    if (i === 1) continue;
    if (aligned[i] !== 1) return `constant of shape [${dims.join(',')}] varies along axis ${i}; only per-channel (axis 1) or scalar constants are supported`;
  }
  const n = full > 1 ? aligned[1]! : 1;
  if (n !== 1 && n !== channels) return `constant of shape [${dims.join(',')}] does not match ${channels} channels`;
  const vals = c.float32();
  const out = new Float32Array(channels);
  for (let i = 0; i < channels; i++) out[i] = vals[n === 1 ? 0 : i]!;
  return out;
}

/** The constant `v` per channel of the node's activation, or null (not a constant, or the reason reported as `what: reason`). */
export function channelParam(v: Value | null | undefined, what: string, c: LowerContext): Float32Array | null {
  const t = constOf(v);
  if (!t) return null;
  const r = perChannel(t, c.x.shape);
  if (typeof r === 'string') return c.fail(`${what}: ${r}`);
  return r;
}
