/**
 * Activation ranges for static quantization, measured by running an
 * instrumented copy of the float32 model (the tensors of interest added as
 * graph outputs) on onnxruntime-node over the calibration inputs.
 *
 * Pass 1 (every method): min and max of each tensor.
 * Pass 2 (percentile, entropy): a histogram of each tensor over [min(0, lo),
 * max(0, hi)] (signed values, HIST_BINS bins), and for signed tensors one of
 * |x| over [0, max|x|] (entropy only).
 *
 *   minmax:     [lo, hi] = [min, max].
 *   percentile: [lo, hi] = the (100 - p)-th and p-th percentiles of the values
 *               (p = 99.999 by default, as onnxruntime's calibrator), read off
 *               the histogram (linear inside a bin).
 *   entropy:    the threshold t minimising KL(P || Q), where P is the histogram
 *               clipped at t (outliers added to the last kept bin) and Q is P
 *               quantized to L levels and expanded back (TensorRT's method; the
 *               reference implementation is MXNet's _get_optimal_threshold).
 *               A non-negative tensor uses its one-sided histogram and L = 256
 *               (uint8 over [0, t]); a signed tensor the |x| histogram and
 *               L = 128 (uint8 over [-t, t] gives each side 128 levels), and
 *               [lo, hi] = [max(min, -t), min(max, t)]. Exact zeros are left out of
 *               the entropy histograms: zero is exact at any threshold, and the
 *               spike of zeros after a ReLU (often half the values) would make
 *               clipping look free (measured: thresholds at 25% of the max and
 *               a min cosine of 0.51 on sfnet10 with the zeros counted).
 */
import { cloneModel } from '../ir/clone.js';
import { DType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { forEachBatch, type Batches } from '../data/ort-run.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export const HIST_BINS = 2048;
/** Activation values one calibration run may return (128 MB of float32). */
const FLOATS_PER_RUN = 32 * 2 ** 20;

/** Values per batch row of a tensor; an unknown dim counts as 1e6 values (plan for the worst). */
function rowFloats(shape: readonly (number | string | null)[] | undefined): number {
  if (!shape) return 1e6;
  return shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1e6), 1);
}
export const DEFAULT_PERCENTILE = 99.999;

export interface TensorRange {
  /** The range to quantize to. */
  readonly lo: number;
  readonly hi: number;
  /** Observed extremes. */
  readonly min: number;
  readonly max: number;
}

export interface CalibrateOptions {
  readonly method: CalibrationMethod;
  readonly percentile?: number;
  /** Rows per onnxruntime run (default: as many as keep the extra outputs under 128 MB, at most 16). */
  readonly batch?: number;
}

class Hist {
  readonly counts = new Float64Array(HIST_BINS);
  constructor(readonly left: number, readonly right: number) {}
  add(x: Float32Array, abs: boolean, skipZeros = false): void {
    const w = (this.right - this.left) / HIST_BINS;
    if (!(w > 0)) {
      this.counts[0]! += x.length;
      return;
    }
    const inv = 1 / w;
    const c = this.counts;
    for (let i = 0; i < x.length; i++) {
      const v = abs ? Math.abs(x[i]!) : x[i]!;
      if (skipZeros && v === 0) continue;
      let b = Math.floor((v - this.left) * inv);
      if (b < 0) b = 0;
      else if (b >= HIST_BINS) b = HIST_BINS - 1;
      c[b]!++;
    }
  }
  get width(): number {
    return (this.right - this.left) / HIST_BINS;
  }
  /** Value below which a fraction q of the mass lies (linear inside a bin). */
  quantile(q: number): number {
    const total = this.counts.reduce((a, b) => a + b, 0);
    const target = q * total;
    let acc = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      const c = this.counts[b]!;
      if (acc + c >= target && c > 0) return this.left + (b + (target - acc) / c) * this.width;
      acc += c;
    }
    return this.right;
  }
}

/** Ranges of `tensors` (names of float32 values of `model`, the graph input allowed). */
export async function calibrate(model: Model, tensors: readonly string[], data: Batches, opts: CalibrateOptions): Promise<Map<string, TensorRange>> {
  const inputName = model.graph.realInputs()[0]!.name;
  const inner = tensors.filter((t) => t !== inputName);
  const probe = cloneModel(model);
  for (const t of inner) {
    const v = probe.graph.requireValue(t);
    if (!v.isGraphOutput) probe.graph.outputs.push(v);
    v.dtype ??= DType.FLOAT;
  }
  // Rows per run: the extra outputs of one run stay under FLOATS_PER_RUN (an iresnet100
  // has ~100 M activation values per image across its tensors).
  const perRow = inner.reduce((sum, t) => sum + rowFloats(probe.graph.requireValue(t).shape), 0);
  const batch = opts.batch ?? Math.max(1, Math.min(16, Math.floor(FLOATS_PER_RUN / Math.max(1, perRow))));
  const run = async (each: (name: string, x: Float32Array) => void) => {
    if (inner.length) {
      await forEachBatch(probe, data, inner, (_rows, values) => {
        for (const t of inner) each(t, values.get(t)!);
      }, { batch, optimization: 'disabled' });
    }
    if (tensors.includes(inputName)) each(inputName, data.data);
  };

  const mins = new Map<string, number>(), maxs = new Map<string, number>();
  await run((t, x) => {
    let lo = mins.get(t) ?? Infinity, hi = maxs.get(t) ?? -Infinity;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    mins.set(t, lo);
    maxs.set(t, hi);
  });
  const out = new Map<string, TensorRange>();
  for (const t of tensors) {
    const min = mins.get(t)!, max = maxs.get(t)!;
    if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`tensor ${t} has non-finite values on the calibration data`);
    out.set(t, { lo: min, hi: max, min, max });
  }
  if (opts.method === 'minmax') return out;

  const entropy = opts.method === 'entropy';
  const signed = new Map<string, Hist>(), absH = new Map<string, Hist>();
  for (const t of tensors) {
    const r = out.get(t)!;
    signed.set(t, new Hist(Math.min(0, r.min), Math.max(0, r.max)));
    if (entropy && r.min < 0) absH.set(t, new Hist(0, Math.max(-r.min, r.max)));
  }
  await run((t, x) => {
    signed.get(t)!.add(x, false, entropy);
    absH.get(t)?.add(x, true, entropy);
  });
  for (const t of tensors) {
    const r = out.get(t)!;
    if (opts.method === 'percentile') {
      const p = (opts.percentile ?? DEFAULT_PERCENTILE) / 100;
      const h = signed.get(t)!;
      const lo = r.min < 0 ? Math.max(r.min, h.quantile(1 - p)) : r.min;
      const hi = r.max > 0 ? Math.min(r.max, h.quantile(p)) : r.max;
      out.set(t, { ...r, lo: Math.min(lo, hi), hi });
    } else {
      const a = absH.get(t);
      if (a) {
        const th = (klThresholdBins(a.counts, 128) * a.width);
        out.set(t, { ...r, lo: Math.max(r.min, -th), hi: Math.min(r.max, th) });
      } else {
        const h = signed.get(t)!; // over [0, max]
        const th = klThresholdBins(h.counts, 256) * h.width;
        out.set(t, { ...r, lo: r.min, hi: Math.min(r.max, th) });
      }
    }
  }
  return out;
}

/** Candidate thresholds are every KL_STRIDE-th bin edge (and the last): 1/256 of the range. */
const KL_STRIDE = 8;

/** Smooth zeros away (MXNet _smooth_distribution, on counts): zeros get eps, the rest give it up. */
function smooth(p: Float64Array, eps = 1e-4): Float64Array | null {
  let zeros = 0;
  for (const x of p) if (x === 0) zeros++;
  const nonzeros = p.length - zeros;
  if (nonzeros === 0) return null;
  const eps1 = (eps * zeros) / nonzeros;
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] === 0 ? eps : p[i]! - eps1;
  for (const x of out) if (x <= 0) return null;
  return out;
}

/**
 * Number of histogram bins (from the left edge) to keep: argmin over i of
 * KL(P_i || Q_i) (see the header). Returns hist.length when nothing better.
 */
export function klThresholdBins(hist: Float64Array, levels: number): number {
  const nb = hist.length;
  let total = 0;
  for (const c of hist) total += c;
  if (total === 0) return nb;
  // Suffix sums: outlier mass beyond bin i.
  const suffix = new Float64Array(nb + 1);
  for (let i = nb - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + hist[i]!;
  let best = nb, bestKl = Infinity;
  for (let i = levels; i <= nb; i += i + KL_STRIDE > nb && i < nb ? nb - i : KL_STRIDE) {
    const p = hist.slice(0, i);
    p[i - 1]! += suffix[i]!;
    const q = new Float64Array(i);
    for (let j = 0; j < levels; j++) {
      const start = Math.floor((j * i) / levels), end = j === levels - 1 ? i : Math.floor(((j + 1) * i) / levels);
      let sum = 0, nonzero = 0;
      for (let k = start; k < end; k++) {
        sum += hist[k]!;
        if (hist[k] !== 0) nonzero++;
      }
      if (nonzero) for (let k = start; k < end; k++) if (hist[k] !== 0) q[k] = sum / nonzero;
    }
    const sp = smooth(p), sq = smooth(q);
    if (!sp || !sq) continue;
    const ps = normalize(sp), qs = normalize(sq);
    let kl = 0;
    for (let k = 0; k < i; k++) kl += ps[k]! * Math.log(ps[k]! / qs[k]!);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

function normalize(p: Float64Array): Float64Array {
  let s = 0;
  for (const x of p) s += x;
  if (s > 0) for (let i = 0; i < p.length; i++) p[i]! /= s;
  return p;
}
