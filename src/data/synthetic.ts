/**
 * Seeded synthetic inputs and the PRNGs behind them: the one place that makes
 * model inputs out of nothing (when no reference or calibration data is given).
 *
 *   mulberry32(seed): a 32-bit PRNG, uniforms in [0, 1) (the published
 *     generator: a += 0x6D2B79F5, then two xor-shift-multiply rounds).
 *   normalInputs(count, seed): x = clamp(0.5 z, -1, 1), z ~ N(0, 1) by
 *     Box-Muller on mulberry32 uniforms, z0 = sqrt(-2 ln u1) cos(2 pi u2),
 *     z1 = sqrt(-2 ln u1) sin(2 pi u2), u1 in (0, 1]: the parity references'
 *     synthetic faces (they span the preprocessed pixel range like real faces).
 *   uniformInputs(count): x = 2 s / (2^32 - 1) - 1 over the xorshift32 states
 *     s (13, 17, 5; seed 0x9E3779B9), uniform in [-1, 1]: the quantizer's
 *     calibration inputs when none are given. It keeps its own generator
 *     because int8 scales measured on these inputs are in the bundles, which
 *     stay byte-identical.
 */

/** Parity's default seed for synthetic references. */
export const DEFAULT_SEED = 0x5f2e5f2e;

/** mulberry32: a 32-bit seeded PRNG; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` values clamp(0.5 z, -1, 1), z standard normal by Box-Muller on mulberry32(seed). */
export function normalInputs(count: number, seed = DEFAULT_SEED): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(count);
  for (let k = 0; k < out.length; k += 2) {
    const u1 = 1 - rand();
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[k] = Math.max(-1, Math.min(1, 0.5 * r * Math.cos(2 * Math.PI * u2)));
    if (k + 1 < out.length) out[k + 1] = Math.max(-1, Math.min(1, 0.5 * r * Math.sin(2 * Math.PI * u2)));
  }
  return out;
}

/** `count` values uniform in [-1, 1] from xorshift32 (seed 0x9E3779B9). */
export function uniformInputs(count: number): Float32Array {
  const data = new Float32Array(count);
  let s = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; // xorshift32
    data[i] = (s / 0xffffffff) * 2 - 1;
  }
  return data;
}
