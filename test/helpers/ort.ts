/**
 * Run a Model (or an .onnx file, or encoded bytes) on onnxruntime-node's CPU
 * provider with graph optimizations OFF (`graphOptimizationLevel: 'disabled'`),
 * so a reference run computes exactly the graph as written: no fusions, no
 * constant folding, no layout changes (../../shared/docs/style.md: "a reference
 * run with graph optimizations on" is what to avoid).
 *
 * Outputs come back as Float32Arrays (float16 and float64 outputs converted);
 * `runOrtTensors` also returns the dims. One intra-op thread by default:
 * deterministic reductions, and two test forks share a 2-core CI machine.
 *
 * Helpers around it: `withOutputs` copies a model and makes internal values
 * graph outputs (the way to read the ORIGINAL model's embedding tensor), and
 * `seededImages` makes reproducible inputs.
 */
import * as ort from 'onnxruntime-node';
import { cloneModel } from '../../src/ir/clone.js';
import type { Model } from '../../src/ir/model.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { mulberry32 } from '../../src/data/references.js';

export interface Feed {
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  readonly dims: readonly number[];
}
export type Feeds = Readonly<Record<string, Feed | Float32Array>>;

export interface OrtOptions {
  /** Output names to fetch (default: all graph outputs). */
  readonly outputs?: readonly string[];
  /** Intra-op threads (default 1). */
  readonly threads?: number;
  /** Optimization level (default 'disabled'; benchmarks may ask for 'all'). */
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

type Source = Model | string | Uint8Array;

export async function createSession(model: Source, opts: OrtOptions = {}): Promise<ort.InferenceSession> {
  const so: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.optimization ?? 'disabled',
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  if (typeof model === 'string') return ort.InferenceSession.create(model, so);
  const bytes = model instanceof Uint8Array ? model : encodeOnnx(model);
  return ort.InferenceSession.create(bytes, so);
}

function toOrtFeeds(feeds: Feeds, session: ort.InferenceSession): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) {
    if (!session.inputNames.includes(name)) continue;
    if (f instanceof Float32Array) throw new Error(`feed ${name}: give dims ({data, dims})`);
    const d = f.data;
    const type = d instanceof Float32Array ? 'float32' : d instanceof BigInt64Array ? 'int64' : d instanceof Int32Array ? 'int32' : 'uint8';
    out[name] = new ort.Tensor(type, d, [...f.dims]);
  }
  return out;
}

function toFloat32(t: ort.Tensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16' && d instanceof Uint16Array) {
    // Decoded by the IR's converter, not a Float16Array (not guaranteed in Node 20).
    return Float32Array.from(d, (b) => f16(b));
  }
  if (d instanceof BigInt64Array) return Float32Array.from(d, (x) => Number(x));
  return Float32Array.from(d as ArrayLike<number>);
}

function f16(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Run and return every fetched output with its dims. */
export async function runOrtTensors(model: Source, feeds: Feeds, opts: OrtOptions = {}): Promise<Record<string, OrtTensor>> {
  const session = await createSession(model, opts);
  try {
    const fetches = opts.outputs ? [...opts.outputs] : [...session.outputNames];
    const res = await session.run(toOrtFeeds(feeds, session), fetches);
    const out: Record<string, OrtTensor> = {};
    for (const name of fetches) out[name] = { data: toFloat32(res[name]!), dims: [...res[name]!.dims] };
    return out;
  } finally {
    await session.release();
  }
}

/** Run and return every fetched output as a Float32Array. */
export async function runOrt(model: Source, feeds: Feeds, opts: OrtOptions = {}): Promise<Record<string, Float32Array>> {
  const t = await runOrtTensors(model, feeds, opts);
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.data]));
}

/**
 * A copy of `model` whose graph outputs are `names` (values already in the
 * graph, e.g. the original's embedding tensor inside a head). Shapes are
 * dropped from the new outputs' annotations when unknown, which onnxruntime
 * accepts (it infers them).
 */
export function withOutputs(model: Model, names: readonly string[]): Model {
  const copy = cloneModel(model);
  const g = copy.graph;
  g.outputs = names.map((n) => {
    const v = g.value(n);
    if (!v) throw new Error(`withOutputs: no value named ${n}`);
    return v;
  });
  return copy;
}

/** mulberry32, the same PRNG the parity engine's synthetic inputs use. */
export const rng = mulberry32;

/** `count` values uniform in [lo, hi) from `seed`. */
export function seededFloats(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Seeded images [n, c, h, w] in [-1, 1), as the SphereFace2 normalization produces. */
export function seededImages(n: number, seed: number, c = 3, h = 112, w = 112): Feed {
  return { data: seededFloats(n * c * h * w, seed), dims: [n, c, h, w] };
}

/** max |a - b| over all elements. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Row-wise cosine similarity of two [rows, dim] matrices; returns the minimum. */
export function minRowCosine(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): number {
  if (a.length !== b.length || a.length % dim) throw new Error(`shapes differ: ${a.length} vs ${b.length} (dim ${dim})`);
  let min = Infinity;
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = 0; j < dim; j++) {
      const x = a[r * dim + j]!, y = b[r * dim + j]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    min = Math.min(min, ab / Math.sqrt(aa * bb));
  }
  return min;
}
