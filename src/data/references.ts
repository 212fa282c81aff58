/**
 * Parity references: preprocessed inputs X [N, 3, H, W] float32 and the
 * reference embeddings E [N, D] float32 they must map to, plus optional face
 * pairs for verification metrics. From, in order of preference:
 *
 *   --reference REF.npz        arrays `inputs`, `embeddings`, optional `pairs`
 *                              [M, 2] int and `issame` [M] bool/int, optional
 *                              `embeddings_flip` [N, D] (reference of the
 *                              width-flipped inputs, for the flip-TTA metric)
 *   --inputs X.npy --reference Y.npy
 *   --images DIR               aligned H x W face images (PNG, JPEG), sorted by
 *                              name, preprocessed by the contract:
 *                                  x[c, y, x] = (pixel[y, x, c] - mean[c]) / std[c]
 *                              (RGB, NCHW; SphereFace2: mean = std = 127.5;
 *                              a BGR contract reads the pixel's bytes 2, 1, 0);
 *                              references from the ORIGINAL model
 *   (nothing)                  synthetic inputs (below), references from the
 *                              original model, and a warning: they test the
 *                              arithmetic, not faces
 *
 * "From the original model" means: the source .onnx, cut so that its output
 * is the embedding tensor the head reads (findHead, or --embedding NAME),
 * nothing else changed, run on onnxruntime-node cpu with graph optimizations
 * OFF (an optimizer's rewrites are exactly what parity must not trust).
 *
 * Synthetic inputs: x = clamp(0.5 * z, -1, 1), z ~ N(0, 1) from Box-Muller on
 * mulberry32(seed) uniforms (seed 0x5F2E5F2E unless given), NCHW order. The
 * values span the preprocessed pixel range [-1, 1] like real faces do.
 *
 * A model whose input is NHWC ([N, H, W, 3], contract layout 'NHWC') takes its
 * references in that layout: npz/npy inputs must be [N, H, W, 3]; images and
 * synthetic inputs are made as above and transposed; the set records `layout`.
 *
 * Everything is validated: dtype float32, shapes, N agreement, D equal to the
 * model's embedding size, finite values, no zero-norm reference row (its
 * cosine is undefined), pair indices in range. Any failure is an InputError
 * (exit 3) with a one-line reason.
 */
import { sha256FileSync, sha256Hex } from './sha256.js';
import { ortRefusal } from './ort-errors.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { runPaddedBatches } from './padded-batches.js';
import { DEFAULT_SEED, mulberry32, normalInputs } from './synthetic.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { ModelContract } from '../analysis/contract.js';
import { chwOf, SPHEREFACE2_MEAN, SPHEREFACE2_STD, type InputLayout } from '../analysis/contract.js';
import { isCheckpointPath, loadModel } from '../pth/load-model.js';
import { saveOnnx } from '../onnx/export.js';
import type { Model } from '../ir/model.js';
import { extractSubgraph } from '../ir/extract.js';
import { findHead, embeddingCandidates } from '../analysis/head.js';
import { readNpy, readNpz, type NpyArray } from './npy.js';
import { ort } from './ort.js';

export interface ReferenceFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface ReferenceSet {
  readonly kind: 'npz' | 'npy' | 'images' | 'synthetic';
  /** One line: where the references came from. */
  readonly description: string;
  /** [N, C, H, W] float32, C order; [N, H, W, C] for a model with an NHWC input (`layout`). */
  readonly inputs: Float32Array;
  /** The dims of `inputs`, in the model's layout. */
  readonly dims: readonly [number, number, number, number];
  /** The model's input layout the inputs are in (absent: NCHW). */
  readonly layout?: InputLayout;
  /** [N, D] float32: the reference raw embeddings. */
  readonly embeddings: Float32Array;
  readonly dim: number;
  /** [N, D]: reference embeddings of the width-flipped inputs, when known. */
  readonly flipEmbeddings?: Float32Array;
  readonly flipSource?: string;
  /** [M, 2] row indices, flattened; and same-identity labels [M] (0/1). */
  readonly pairs?: Int32Array;
  readonly issame?: Uint8Array;
  /** Files the references were read from, hashed. */
  readonly files: readonly ReferenceFile[];
  readonly warnings: readonly string[];
}

/** Where references come from: the files, or the original model they are computed from (shared by every caller that loads them). */
export interface ReferenceSource {
  /** REF.npz, or Y.npy together with `inputs`. */
  readonly reference?: string;
  readonly inputs?: string;
  readonly images?: string;
  /** The original (head-on) model, for references computed here and for flip references. */
  readonly originalModel?: string;
  /** Embedding tensor of the original model instead of the detected one (the export's: manifest.head.embeddingTensor). */
  readonly embedding?: string;
  /** A .pth original model: the architecture (--arch) and a separate head file (--head), as the export loads it. */
  readonly arch?: string;
  readonly head?: string;
}

export interface ReferenceOptions extends ReferenceSource {
  /** Compute flip references from the original model when the files have none (default true; golden sets alone do not need them). */
  readonly flip?: boolean;
  /** The contract of the bundle (input name/shape, D, mean/std). */
  readonly contract?: ModelContract;
  /** Synthetic rows (default 16) and seed (default 0x5F2E5F2E). */
  readonly syntheticCount?: number;
  readonly seed?: number;
  readonly log?: Logger;
}

export { DEFAULT_SEED };
export const DEFAULT_SYNTHETIC_COUNT = 16;
/** References computed from a checkpoint's imported graph check the export, not the import itself. */
export const PTH_WARNING = 'references come from the graph sf2-export imported from the PyTorch checkpoint, so the import itself was not checked against PyTorch: pass --reference REF.npz with embeddings computed by PyTorch (docs/pth.md)';
export const SYNTHETIC_WARNING = 'synthetic inputs test the arithmetic of the export, not faces: pass --reference REF.npz (PyTorch embeddings of real aligned faces) or --images DIR for a meaningful check';

// ---------------------------------------------------------------- small helpers

function fail(code: string, msg: string, hint?: string): never {
  throw new InputError(code, msg, hint ?? 'see docs/parity.md for the reference format');
}

/** A file's digest and size, read through one 4 MiB buffer: the original model can be GBs, and is never held whole. */
function hashFile(path: string): ReferenceFile {
  return { path, sha256: sha256FileSync(path), bytes: statSync(path).size };
}

export { mulberry32 };

/** n * c * h * w synthetic inputs: clamp(0.5 z, -1, 1), z standard normal by Box-Muller (src/data/synthetic.ts). */
export function syntheticInputs(n: number, c: number, h: number, w: number, seed = DEFAULT_SEED): Float32Array {
  return normalInputs(n * c * h * w, seed);
}

/** Mirror every [C, H, W] image of an [N, C, H, W] batch along W ([N, H, W, C] when NHWC). */
export function flipWidth(x: Float32Array, dims: readonly [number, number, number, number], layout: InputLayout = 'NCHW'): Float32Array {
  if (layout === 'NHWC') {
    const [n, h, w, c] = dims;
    const out = new Float32Array(x.length);
    for (let r = 0; r < n * h; r++) {
      const o = r * w * c;
      for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[o + j * c + k] = x[o + (w - 1 - j) * c + k]!;
    }
    return out;
  }
  const [n, c, h, w] = dims;
  const out = new Float32Array(x.length);
  for (let r = 0; r < n * c * h; r++) {
    const o = r * w;
    for (let j = 0; j < w; j++) out[o + j] = x[o + w - 1 - j]!;
  }
  return out;
}

/** [N, C, H, W] -> [N, H, W, C]. */
export function toNhwc(x: Float32Array, [n, c, h, w]: readonly [number, number, number, number]): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) out[((i * h + y) * w + z) * c + k] = x[((i * c + k) * h + y) * w + z]!;
  return out;
}

function firstNonFinite(a: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) return k;
  return -1;
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

// ---------------------------------------------------------------- validation

function checkFloat32(a: NpyArray, where: string, rank: number, what: string): Float32Array {
  if (a.dtype !== 'f4') fail('reference', `${where} is ${a.dtype === 'f8' ? 'float64' : a.dtype}, not float32`, `save it as ${what} with .astype(np.float32)`);
  if (a.shape.length !== rank) fail('reference', `${where} has shape ${shapeStr(a.shape)}, expected ${what}`);
  const data = a.data as Float32Array;
  const bad = firstNonFinite(data);
  if (bad >= 0) {
    const per = a.shape.slice(1).reduce((x, y) => x * y, 1) || 1;
    fail('reference', `${where} holds ${Number.isNaN(data[bad]) ? 'NaN' : 'Inf'} at row ${Math.floor(bad / per)} (element ${bad})`, 'references must be finite; re-export them');
  }
  return data;
}

function checkInputs(a: NpyArray, where: string, contract?: ModelContract): { data: Float32Array; dims: [number, number, number, number] } {
  if (contract?.input.layout === 'NHWC') {
    // the model takes NHWC: references come in its layout, [N, H, W, 3]
    const data = checkFloat32(a, where, 4, '[N, H, W, 3] float32 (NHWC, the model input layout)');
    const [n, h, w, c] = a.shape as [number, number, number, number];
    if (n < 1) fail('reference', `${where} has no rows (shape ${shapeStr(a.shape)})`);
    if (c !== 3) fail('reference', `${where} has shape ${shapeStr(a.shape)}: ${c} channels last, expected 3 (the model's input is NHWC RGB)`, a.shape[1] === 3 ? 'it looks NCHW: transpose to NHWC with x.transpose(0, 2, 3, 1)' : undefined);
    const [, ch, cw] = contract.input.shape;
    if ((typeof ch === 'number' && ch !== h) || (typeof cw === 'number' && cw !== w)) fail('reference', `${where} has shape ${shapeStr(a.shape)}, the model takes [N, ${ch}, ${cw}, 3]`);
    return { data, dims: [n, h, w, c] };
  }
  const data = checkFloat32(a, where, 4, '[N, 3, H, W] float32 (NCHW)');
  const [n, c, h, w] = a.shape as [number, number, number, number];
  if (n < 1) fail('reference', `${where} has no rows (shape ${shapeStr(a.shape)})`);
  if (c !== 3) fail('reference', `${where} has shape ${shapeStr(a.shape)}: ${c} channels, expected 3 (NCHW RGB)`, a.shape[3] === 3 ? 'it looks NHWC: transpose to NCHW with x.transpose(0, 3, 1, 2)' : undefined);
  const [, , ch, cw] = contract?.input.shape ?? [];
  if ((typeof ch === 'number' && ch !== h) || (typeof cw === 'number' && cw !== w)) {
    fail('reference', `${where} has shape ${shapeStr(a.shape)}, the model takes [N, 3, ${ch}, ${cw}]`);
  }
  return { data, dims: [n, c, h, w] };
}

function checkEmbeddings(a: NpyArray, where: string, n: number, contract?: ModelContract, inputsWhere = 'inputs'): Float32Array {
  const data = checkFloat32(a, where, 2, '[N, D] float32');
  const [m, d] = a.shape as [number, number];
  if (m !== n) fail('reference', `${where} has ${m} rows, ${inputsWhere} has ${n}`, 'the embeddings must be row for row those of the inputs');
  if (contract && d !== contract.embeddingDim) fail('reference', `${where} has D = ${d}, the model's embedding has ${contract.embeddingDim}`, 'was the reference made for another model, or of the normalized or head output?');
  for (let r = 0; r < m; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += data[r * d + k]! ** 2;
    if (s === 0) fail('reference', `${where} row ${r} is all zeros (its cosine is undefined)`);
  }
  return data;
}

function intArray(a: NpyArray): Float64Array | null {
  switch (a.dtype) {
    case 'i1': case 'i2': case 'i4': case 'i8': case 'u1': case 'u2': case 'u4': case 'u8': case 'b1': {
      const out = new Float64Array(a.data.length);
      for (let k = 0; k < out.length; k++) out[k] = Number(a.data[k]!);
      return out;
    }
    default:
      return null;
  }
}

function checkPairs(pairs: NpyArray | undefined, issame: NpyArray | undefined, where: string, n: number): { pairs?: Int32Array; issame?: Uint8Array } {
  if (!pairs && !issame) return {};
  if (!pairs || !issame) fail('reference', `${where} has ${pairs ? 'pairs but no issame' : 'issame but no pairs'}`, 'give both arrays or neither');
  const p = intArray(pairs);
  if (!p || pairs.shape.length !== 2 || pairs.shape[1] !== 2) fail('reference', `${where}:pairs is ${pairs.dtype} ${shapeStr(pairs.shape)}, expected [M, 2] integers`);
  const m = pairs.shape[0]!;
  const s = intArray(issame);
  if (!s || issame.shape.length !== 1 || issame.shape[0] !== m) fail('reference', `${where}:issame is ${issame.dtype} ${shapeStr(issame.shape)}, expected [${m}] bool or 0/1`);
  const out = new Int32Array(2 * m);
  for (let k = 0; k < 2 * m; k++) {
    const v = p[k]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) fail('reference', `${where}:pairs row ${Math.floor(k / 2)} has index ${v}, outside [0, ${n})`);
    out[k] = v;
  }
  const same = new Uint8Array(m);
  for (let k = 0; k < m; k++) {
    if (s[k] !== 0 && s[k] !== 1) fail('reference', `${where}:issame[${k}] is ${s[k]}, not 0 or 1`);
    same[k] = s[k]!;
  }
  return { pairs: out, issame: same };
}

// ---------------------------------------------------------------- the original model

/**
 * The original model cut at its embedding: graph outputs = [the embedding
 * value], dead nodes and head-only inputs (a label) removed. Nothing else changes.
 */
export function cutAtEmbedding(model: Model, embedding?: string): { model: Model; embedding: string } {
  const g = model.graph;
  const head = embedding ? undefined : findHead(g);
  const name = embedding ?? head?.embedding;
  if (!name) {
    const c = embeddingCandidates(g);
    throw new InputError('embedding', `cannot find the embedding in the original model (${head?.reason ?? 'no head found'}); candidates: ${c.slice(0, 8).join(', ') || 'none'}`, 'pass --embedding NAME');
  }
  const v = g.value(name);
  if (!v) throw new InputError('embedding', `the original model has no tensor named ${name}`, 'check --embedding against `sf2-export inspect`');
  extractSubgraph(model, [v]);
  return { model, embedding: name };
}

export interface EmbeddingRunner {
  readonly embedding: string;
  readonly inputName: string;
  /** The model's batch size when its batch dimension is a number (runs must use exactly that many rows). */
  readonly fixedBatch?: number;
  /** [n, C, H, W] -> [n, D] from the cut original model, optimizations off. */
  run(x: Float32Array, dims: readonly [number, number, number, number]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** How a .pth original model is loaded (--arch, --head); ignored for .onnx. */
export interface OriginalLoadOptions {
  readonly arch?: string;
  readonly head?: string;
}

/** Open the original model, cut at its embedding, on onnxruntime-node cpu with graph optimizations OFF. */
export async function openOriginal(path: string, embedding?: string, load: OriginalLoadOptions = {}): Promise<EmbeddingRunner> {
  const m = loadModel(path, { arch: load.arch, head: load.head });
  const cut = cutAtEmbedding(m, embedding);
  const inputs = cut.model.graph.realInputs();
  if (inputs.length !== 1) throw new InputError('model-inputs', `${path}: the embedding needs ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}), not one image`, 'pass --embedding NAME');
  const inputName = inputs[0]!.name;
  const b0 = inputs[0]!.shape?.[0];
  const fixedBatch = typeof b0 === 'number' && b0 > 0 ? b0 : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sf2-ref-'));
  let session: import('onnxruntime-node').InferenceSession;
  try {
    const file = join(dir, 'original-cut.onnx');
    saveOnnx(cut.model, file, { externalData: 'auto' });
    try {
      session = await ort().InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', logSeverityLevel: 4 });
    } catch (e) {
      throw ortRefusal(path, 'load', e, [file, dir]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const o = ort();
  // The closures below hold the embedding's name, not `cut`: the model (all of a .pth's weights)
  // is garbage once onnxruntime has its own copy, not kept alive next to it while the runner is open.
  const cutName = cut.embedding;
  return {
    embedding: cutName,
    inputName,
    ...(fixedBatch ? { fixedBatch } : {}),
    async run(x, dims) {
      let r: Awaited<ReturnType<typeof session.run>>;
      try {
        r = await session.run({ [inputName]: new o.Tensor('float32', x, [...dims]) }, { logSeverityLevel: 4 });
      } catch (e) {
        throw ortRefusal(path, 'run', e);
      }
      const t = r[cutName] ?? Object.values(r)[0]!;
      if (t.type !== 'float32' || t.dims.length !== 2 || t.dims[0] !== dims[0]) {
        throw new InputError('embedding', `${path}: tensor ${cutName} is ${t.type} [${t.dims.join(', ')}], not [N, D] float32`, 'pass --embedding NAME');
      }
      return (t.data as Float32Array).slice();
    },
    close: () => session.release(),
  };
}

/** Run the original in batches of `batch` rows (exactly its fixed batch size, zero-padded, when it has one: src/data/padded-batches.ts). */
function originalEmbeddings(r: EmbeddingRunner, x: Float32Array, dims: readonly [number, number, number, number], batch = 16): Promise<Float32Array> {
  const [n, c, h, w] = dims;
  return runPaddedBatches(x, n, r.fixedBatch ?? batch, !!r.fixedBatch, (xb, m) => r.run(xb, [m, c, h, w]));
}

// ---------------------------------------------------------------- images

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** Decode aligned face images and preprocess them by the contract. Sorted by file name. */
export async function loadImages(dir: string, h: number, w: number, mean: readonly number[] = SPHEREFACE2_MEAN, std: readonly number[] = SPHEREFACE2_STD, colorOrder: 'RGB' | 'BGR' = 'RGB'): Promise<{ inputs: Float32Array; names: string[]; files: ReferenceFile[] }> {
  const src = colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2]; // channel c of the input reads pixel byte src[c]
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) fail('images', `--images ${dir} is not a folder`, 'pass a folder of aligned face images');
    names = readdirSync(dir).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort();
  } catch (e) {
    if (e instanceof InputError) throw e;
    fail('images', `--images ${dir}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
  if (!names.length) fail('images', `--images ${dir} holds no .png, .jpg or .jpeg files`, 'pass a folder of aligned face images');
  const { PNG } = await import('pngjs');
  const jpeg = (await import('jpeg-js')).default;
  const plane = h * w;
  const inputs = new Float32Array(names.length * 3 * plane);
  const files: ReferenceFile[] = [];
  names.forEach((name, i) => {
    const path = join(dir, name);
    const bytes = readFileSync(path);
    files.push({ path, sha256: sha256Hex(bytes), bytes: bytes.length });
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = extname(name).toLowerCase() === '.png' ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    } catch (e) {
      fail('images', `${path} does not decode (${(e as Error).message.split('\n')[0]})`, 'the file is damaged or not an image');
    }
    if (img.width !== w || img.height !== h) fail('images', `${path} is ${img.width}x${img.height}, the model takes aligned ${w}x${h} faces`, 'align and crop the faces first (5-point similarity transform to 112x112)');
    const o = i * 3 * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) inputs[o + c * plane + p] = (img.data[p * 4 + src[c]!]! - mean[c]!) / std[c]!;
    }
  });
  return { inputs, names, files };
}

// ---------------------------------------------------------------- the loader

/** Flip embeddings by (original model file, cut, flipped inputs): see addFlipReferences. */
const FLIP_CACHE = new Map<string, Float32Array>();

function flipCacheKey(model: string, embedding: string | undefined, flipped: Float32Array, load: OriginalLoadOptions): string {
  let st: { size: number; mtimeMs: number; ino: number };
  try {
    st = statSync(model);
  } catch {
    return `${Math.random()}`; // unreadable: never a hit (opening it reports the error)
  }
  const h = createHash('sha256').update(`${model}\0${st.size}\0${st.mtimeMs}\0${st.ino}\0${embedding ?? ''}\0${load.arch ?? ''}\0${load.head ?? ''}\0`);
  h.update(new Uint8Array(flipped.buffer, flipped.byteOffset, flipped.byteLength));
  return h.digest('hex');
}

/**
 * The set with flip references: the width-flipped inputs embedded by the
 * original model (on `runner` when given, else opened from opts.originalModel
 * and closed again). Unchanged when it has them already or there is no model.
 */
export async function addFlipReferences(set: ReferenceSet, opts: Pick<ReferenceOptions, 'originalModel' | 'embedding' | 'arch' | 'head' | 'log'>, runner?: EmbeddingRunner): Promise<ReferenceSet> {
  if (set.flipEmbeddings || (!runner && !opts.originalModel)) return set;
  const log = opts.log ?? silentLogger;
  const flipSource = 'original model on onnxruntime-node cpu, graph optimizations off';
  const flipped = flipWidth(set.inputs, set.dims, set.layout);
  // The same original model on the same inputs gives the same flip embeddings: computed once per
  // process (a process exporting or checking one model several times, the main-job bench).
  const key = opts.originalModel ? flipCacheKey(opts.originalModel, opts.embedding, flipped, opts) : undefined;
  const cached = key ? FLIP_CACHE.get(key) : undefined;
  if (cached) {
    log.debug(`flip references: the ${set.dims[0]} rows already embedded by the original model (reused)`);
    return { ...set, flipEmbeddings: cached.slice(), flipSource };
  }
  const own = !runner;
  const r = runner ?? (await openOriginal(opts.originalModel!, opts.embedding, opts));
  try {
    const end = log.step(`flip references: the ${set.dims[0]} reference rows width-flipped, embedded by the original model (onnxruntime-node cpu, optimizations off)`);
    const flip = await originalEmbeddings(r, flipped, set.dims);
    end();
    checkFinite(flip, 'original model on flipped inputs');
    if (key) FLIP_CACHE.set(key, flip.slice());
    return { ...set, flipEmbeddings: flip, flipSource };
  } finally {
    if (own) await r.close();
  }
}

export async function loadReferences(opts: ReferenceOptions): Promise<ReferenceSet> {
  const log = opts.log ?? silentLogger;
  const contract = opts.contract;
  const given = [opts.reference && 'reference', opts.images && 'images'].filter(Boolean);
  if (given.length > 1) throw new UsageError('--reference and --images are exclusive', 'pass one of them');
  if (opts.inputs && !opts.reference) throw new UsageError('--inputs X.npy needs --reference Y.npy (the embeddings of X)', 'pass both, or one REF.npz');

  const withFlip = (set: Omit<ReferenceSet, 'flipEmbeddings' | 'flipSource'>, runner?: EmbeddingRunner): Promise<ReferenceSet> =>
    opts.flip === false ? Promise.resolve(set) : addFlipReferences(set, opts, runner);

  if (opts.reference && extname(opts.reference).toLowerCase() === '.npz') {
    if (opts.inputs) throw new UsageError('--inputs goes with --reference Y.npy, not a .npz', 'put the inputs in the .npz as `inputs`');
    const path = opts.reference;
    const z = readNpz(path);
    const get = (k: string) => z.get(k);
    const xi = get('inputs'), ei = get('embeddings');
    if (!xi || !ei) fail('reference', `${path} has arrays [${[...z.keys()].join(', ')}], needs inputs and embeddings`, 'np.savez(path, inputs=X, embeddings=E, pairs=P, issame=S)');
    const x = checkInputs(xi, `${path}:inputs`, contract);
    const e = checkEmbeddings(ei, `${path}:embeddings`, x.dims[0], contract, `${path}:inputs`);
    const pr = checkPairs(get('pairs'), get('issame'), path, x.dims[0]);
    const base = {
      kind: 'npz' as const,
      description: `${basename(path)}: ${x.dims[0]} inputs${pr.pairs ? `, ${pr.pairs.length / 2} pairs` : ''}`,
      inputs: x.data,
      dims: x.dims,
      ...(contract?.input.layout === 'NHWC' ? { layout: 'NHWC' as const } : {}),
      embeddings: e,
      dim: ei.shape[1]!,
      ...pr,
      files: [hashFile(path)],
      warnings: [] as string[],
    };
    const fi = get('embeddings_flip');
    if (fi) {
      const f = checkEmbeddings(fi, `${path}:embeddings_flip`, x.dims[0], contract, `${path}:inputs`);
      return { ...base, flipEmbeddings: f, flipSource: `${basename(path)}:embeddings_flip` };
    }
    return withFlip(base);
  }
  if (opts.reference) {
    if (!opts.inputs) throw new UsageError(`--reference ${opts.reference} is a .npy: pass the inputs with --inputs X.npy`, 'or give one REF.npz');
    const xi = readNpy(opts.inputs), ei = readNpy(opts.reference);
    const x = checkInputs(xi, opts.inputs, contract);
    const e = checkEmbeddings(ei, opts.reference, x.dims[0], contract, opts.inputs);
    return withFlip({
      kind: 'npy',
      description: `${basename(opts.inputs)} + ${basename(opts.reference)}: ${x.dims[0]} inputs`,
      inputs: x.data,
      dims: x.dims,
      ...(contract?.input.layout === 'NHWC' ? { layout: 'NHWC' as const } : {}),
      embeddings: e,
      dim: ei.shape[1]!,
      files: [hashFile(opts.inputs), hashFile(opts.reference)],
      warnings: [],
    });
  }

  // Computed references: images or synthetic, through the original model.
  if (!opts.originalModel) {
    throw new UsageError(`${opts.images ? '--images' : 'parity without --reference'} needs the original model to compute references`, 'pass --model ORIGINAL.onnx, or --reference REF.npz');
  }
  const [, ch, cw] = contract ? chwOf(contract.input) : [];
  const h = typeof ch === 'number' ? ch : 112, w = typeof cw === 'number' ? cw : 112;
  const nhwc = contract?.input.layout === 'NHWC';
  const runner = await openOriginal(opts.originalModel, opts.embedding, opts);
  try {
    let inputs: Float32Array, files: ReferenceFile[], description: string;
    const warnings: string[] = [];
    let kind: 'images' | 'synthetic';
    if (opts.images) {
      const im = await loadImages(opts.images, h, w, contract?.input.mean, contract?.input.std, contract?.input.colorOrder);
      inputs = im.inputs;
      files = im.files;
      kind = 'images';
      description = `${im.names.length} images from ${opts.images}, references from the original model (onnxruntime-node cpu, optimizations off)`;
    } else {
      const n = opts.syntheticCount ?? DEFAULT_SYNTHETIC_COUNT;
      const seed = opts.seed ?? DEFAULT_SEED;
      inputs = syntheticInputs(n, 3, h, w, seed);
      files = [];
      kind = 'synthetic';
      description = `${n} synthetic inputs (mulberry32 seed 0x${(seed >>> 0).toString(16)}, clamp(0.5 N(0,1), -1, 1)), references from the original model (onnxruntime-node cpu, optimizations off)`;
      warnings.push(SYNTHETIC_WARNING);
      log.warn(SYNTHETIC_WARNING);
    }
    if (isCheckpointPath(opts.originalModel)) {
      warnings.push(PTH_WARNING);
      log.warn(PTH_WARNING);
    }
    const n = inputs.length / (3 * h * w);
    // images and synthetic inputs are made NCHW; an NHWC model gets them transposed
    if (nhwc) inputs = toNhwc(inputs, [n, 3, h, w]);
    const dims = (nhwc ? [n, h, w, 3] : [n, 3, h, w]) as [number, number, number, number];
    const end = log.step(`reference embeddings of ${n} inputs (original model, onnxruntime-node cpu, optimizations off)`);
    const emb = await originalEmbeddings(runner, inputs, dims);
    end();
    checkFinite(emb, 'original model');
    const d = emb.length / n;
    if (contract && d !== contract.embeddingDim) fail('reference', `${opts.originalModel}: the original model's embedding ${runner.embedding} has D = ${d}, the bundle's has ${contract.embeddingDim}`, 'pass the model this bundle was exported from');
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += emb[r * d + k]! ** 2;
      if (s === 0) fail('reference', `the original model gives an all-zero embedding for input row ${r}`);
    }
    // await: the finally below closes the runner, which withFlip still uses.
    return await withFlip({ kind, description, inputs, dims: [...dims], ...(nhwc ? { layout: 'NHWC' as const } : {}), embeddings: emb, dim: d, files: [...files, hashFile(opts.originalModel)], warnings }, runner);
  } finally {
    await runner.close();
  }
}

function checkFinite(a: Float32Array, what: string): void {
  const k = firstNonFinite(a);
  if (k >= 0) fail('reference', `${what} gives ${a[k]} at element ${k}`, 'the model produces non-finite embeddings; check it with `sf2-export inspect`');
}
