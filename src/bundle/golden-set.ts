/**
 * The golden set every bundle carries: a few preprocessed reference inputs, the
 * embeddings PyTorch (or the original model) gave for them, the pass threshold
 * of the bundle's precision and the sha256 of its weights, so that the bundle
 * can check itself where it runs (sf2.js `selfTest()`, sf2-tfjs.js, sf2-ort.js;
 * the shared runtime check is src/bundle/golden-runtime.js).
 *
 * Rows: the first GOLDEN_ROWS (4) rows of the parity references (the same
 * files, the same synthetic seed: what parity measures), with their indices;
 * synthetic inputs only when no reference was given, and the header says so.
 *
 * File (one per bundle and precision, little-endian):
 *   "SF2G"  u32 header length H  header (UTF-8 JSON, space-padded to 4 bytes)
 *   inputs   rows x 3 x H x W in header.inputs.encoding:
 *              'u8'  pixels p, x = (p - mean[c]) / std[c]; used only when that
 *                    reproduces every float32 input exactly (aligned face
 *                    images are such): lossless at 1 byte a value
 *              'f16' binary16; used only when measured harmless: the optimized
 *                    fp32 model is run (onnxruntime-node cpu) on the float32
 *                    and on the fp16-rounded inputs, and the smallest cosine
 *                    between the two must leave at least 90 % of the tightest
 *                    budget (1 - minCosine of the precision): 1 - cos <=
 *                    0.1 (1 - minCosine). |x| <= 1 rounds by at most 2^-12, so
 *                    this normally holds by orders of magnitude.
 *              'f32' otherwise
 *   embeddings  rows x D float32, the reference raw embeddings (not normalized)
 * header.digest is the sha256 of everything after the header (catches an edit of
 * the data that forgot the header); header.weights lists the sha256 of every
 * weight file the bundle's runtime reads, relative to the golden file's folder.
 *
 * Checks: goldenProblems() (verify: well-formed, digest, weights, made from the
 * references the parity report measured, thresholds not looser than the
 * defaults) and goldenMismatches() (parity: the stored rows are the references'
 * rows). A self-test passes when every row's output is finite and its cosine to
 * the stored embedding is at least header.thresholds.minCosine.
 */
import { filesDigest, sha256Hex } from '../data/sha256.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { InputError } from '../errors.js';
import type { Logger } from '../log.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../ir/float16.js';
import type { Model } from '../ir/model.js';
import type { ModelContract } from '../analysis/contract.js';
import type { Precision } from '../ir/precision.js';
import { stableStringify } from './stable-json.js';
import type { ReferenceSet } from '../data/references.js';
import { DEFAULT_THRESHOLDS, resolveThresholds, type ThresholdOverrides } from '../metrics/thresholds.js';
import type { BundleFile, TargetName } from './bundle-file.js';

export const GOLDEN_FORMAT = 'sf2-golden';
export const GOLDEN_VERSION = 1;
export const GOLDEN_ROWS = 4;
const MAGIC = 'SF2G';
/** Share of the precision's cosine budget (1 - minCosine) the fp16 rounding of the inputs may use. */
export const FP16_BUDGET_SHARE = 0.1;

export type InputEncoding = 'u8' | 'f16' | 'f32';

/** The rows a golden set is made from, with what it takes to write one per bundle. */
export interface GoldenSource {
  readonly kind: ReferenceSet['kind'];
  readonly description: string;
  /** As the parity report's reference.sha256 (src/parity/engine.ts summarizeReference). */
  readonly referenceSha256: string;
  /** Rows of the full reference set the golden rows are taken from. */
  readonly referenceRows: number;
  /** Indices of the golden rows in that set. */
  readonly rows: readonly number[];
  /** [rows, 3, H, W] float32 and [rows, D] float32. */
  readonly inputs: Float32Array;
  readonly dims: readonly [number, number, number, number];
  readonly embeddings: Float32Array;
  readonly dim: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly thresholds: Readonly<Record<Precision, { minCosine: number }>>;
  /** Smallest cosine between the fp32 model's outputs on the float32 and on the fp16-rounded inputs (null: not measured, u8 is lossless). */
  readonly fp16InputCosine: number | null;
  readonly pixelExact: boolean;
}

export interface GoldenHeader {
  readonly format: typeof GOLDEN_FORMAT;
  readonly version: number;
  readonly target: TargetName;
  readonly precision: Precision;
  readonly rows: number;
  /** [3, H, W] of one row, NCHW. */
  readonly inputShape: readonly number[];
  readonly dim: number;
  /** Layout the model is fed in ('NHWC' for a tfjs bundle exported with --tfjs-input nhwc; data is always stored NCHW). */
  readonly feedLayout: 'NCHW' | 'NHWC';
  readonly inputs: { readonly encoding: InputEncoding; readonly offset: number; readonly byteLength: number; readonly mean: readonly number[]; readonly std: readonly number[]; readonly why: string };
  readonly embeddings: { readonly offset: number; readonly byteLength: number; readonly meaning: string };
  readonly thresholds: { readonly minCosine: number };
  readonly weights: readonly { readonly path: string; readonly sha256: string; readonly bytes: number }[];
  readonly reference: { readonly kind: string; readonly description: string; readonly sha256: string; readonly referenceRows: number; readonly rows: readonly number[]; readonly synthetic: boolean };
  readonly digest: string;
}

export interface GoldenFile {
  readonly header: GoldenHeader;
  readonly inputs: Float32Array;
  readonly embeddings: Float32Array;
  /** sha256 of the data section as found. */
  readonly dataSha256: string;
}

const sha256 = sha256Hex;

export interface GoldenOptions {
  readonly reference?: string;
  readonly inputs?: string;
  readonly images?: string;
  readonly originalModel?: string;
  readonly embedding?: string;
  readonly contract: ModelContract;
  /** Golden rows (default GOLDEN_ROWS). */
  readonly goldenRows?: number;
  readonly thresholds?: ThresholdOverrides;
  /** The optimized fp32 model, to measure whether fp16 inputs are harmless (not needed when the inputs are pixel-exact). */
  readonly model: Model;
  readonly log: Logger;
}

/** The digest parity puts in its report for these references (filesDigest, as summarizeReference). */
export function referenceDigest(ref: ReferenceSet): string {
  const files = ref.files.map((f) => ({ name: basename(f.path), sha256: f.sha256 }));
  return filesDigest(files);
}

/** Load the references as parity will, and take the golden rows from them. */
export async function goldenSource(opts: GoldenOptions): Promise<GoldenSource> {
  // Loaded lazily: a target writer only needs the encoder below, not onnxruntime.
  const { loadReferences } = await import('../data/references.js');
  const ref = await loadReferences({ reference: opts.reference, inputs: opts.inputs, images: opts.images, originalModel: opts.originalModel, embedding: opts.embedding, contract: opts.contract, log: opts.log });
  return goldenFromReferences(ref, opts);
}

export async function goldenFromReferences(ref: ReferenceSet, opts: Pick<GoldenOptions, 'contract' | 'goldenRows' | 'thresholds' | 'model' | 'log'>): Promise<GoldenSource> {
  const [n, c, h, w] = ref.dims;
  const k = Math.min(n, Math.max(1, opts.goldenRows ?? GOLDEN_ROWS));
  const per = c * h * w, d = ref.dim;
  const inputs = ref.inputs.slice(0, k * per);
  const embeddings = ref.embeddings.slice(0, k * d);
  const mean = [...opts.contract.input.mean], std = [...opts.contract.input.std];
  const pixelExact = isPixelExact(inputs, per / c, mean, std);
  const resolved = resolveThresholds(opts.thresholds);
  const thresholds = Object.fromEntries(Object.entries(resolved).map(([p, t]) => [p, { minCosine: t.minCosine }])) as GoldenSource['thresholds'];
  let fp16InputCosine: number | null = null;
  if (!pixelExact) {
    const { runEmbeddings } = await import('../data/ort-run.js');
    const rounded = Float32Array.from(inputs, (x) => float16BitsToFloat32(float32ToFloat16Bits(x)));
    const out = opts.contract.output;
    const a = await runEmbeddings(opts.model, { data: inputs, dims: [k, c, h, w] }, out);
    const b = await runEmbeddings(opts.model, { data: rounded, dims: [k, c, h, w] }, out);
    fp16InputCosine = minCosine(a, b, k);
    opts.log.debug(`golden set: fp16 inputs change the fp32 model's embeddings by min cosine ${fp16InputCosine}`);
  }
  return {
    kind: ref.kind,
    description: ref.description,
    referenceSha256: referenceDigest(ref),
    referenceRows: n,
    rows: Array.from({ length: k }, (_, i) => i),
    inputs,
    dims: [k, c, h, w],
    embeddings,
    dim: d,
    mean,
    std,
    thresholds,
    fp16InputCosine,
    pixelExact,
  };
}

/** Every value is float32((p - mean[c]) / std[c]) for an integer pixel p in [0, 255]. */
function isPixelExact(x: Float32Array, plane: number, mean: readonly number[], std: readonly number[]): boolean {
  const f = new Float32Array(1);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % 3;
    const p = Math.round(x[i]! * std[ch]! + mean[ch]!);
    if (p < 0 || p > 255) return false;
    f[0] = (p - mean[ch]!) / std[ch]!;
    if (f[0] !== x[i]) return false;
  }
  return true;
}

export function minCosine(a: Float32Array, b: Float32Array, rows: number): number {
  const d = a.length / rows;
  let min = 1;
  for (let r = 0; r < rows; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = r * d; j < (r + 1) * d; j++) {
      ab += a[j]! * b[j]!;
      aa += a[j]! * a[j]!;
      bb += b[j]! * b[j]!;
    }
    const cos = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : Number.NaN;
    if (!(cos >= min)) min = cos;
  }
  return min;
}

/** How the inputs are stored for this precision, and why. */
export function chooseEncoding(src: GoldenSource, precision: Precision): { encoding: InputEncoding; why: string } {
  if (src.pixelExact) return { encoding: 'u8', why: 'every input is (pixel - mean) / std of an integer pixel: stored as pixels, lossless' };
  const budget = 1 - src.thresholds[precision].minCosine;
  const used = src.fp16InputCosine === null ? Number.POSITIVE_INFINITY : 1 - src.fp16InputCosine;
  if (used <= FP16_BUDGET_SHARE * budget) {
    return { encoding: 'f16', why: `fp16 inputs measured: min cosine ${src.fp16InputCosine} between the fp32 model's outputs on float32 and fp16 inputs, 1 - cos = ${used.toExponential(2)} <= ${FP16_BUDGET_SHARE} x (1 - ${src.thresholds[precision].minCosine})` };
  }
  return { encoding: 'f32', why: `fp16 inputs would use ${used.toExponential(2)} of the cosine budget ${budget.toExponential(2)} (more than ${FP16_BUDGET_SHARE * 100} %): stored as float32` };
}

function encodeInputs(x: Float32Array, enc: InputEncoding, plane: number, mean: readonly number[], std: readonly number[]): Uint8Array {
  if (enc === 'f32') return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  if (enc === 'f16') {
    const h = new Uint16Array(x.length);
    for (let i = 0; i < x.length; i++) h[i] = float32ToFloat16Bits(x[i]!);
    return new Uint8Array(h.buffer);
  }
  const u = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % 3;
    u[i] = Math.round(x[i]! * std[ch]! + mean[ch]!);
  }
  return u;
}

export interface WriteGoldenInput {
  readonly source: GoldenSource;
  readonly target: TargetName;
  readonly precision: Precision;
  /** Bundle root. */
  readonly outDir: string;
  /** Bundle-relative path of the golden file. */
  readonly path: string;
  /** Bundle-relative paths of the weight files the runtime reads (hashed now: write them first). */
  readonly weights: readonly string[];
  readonly feedLayout?: 'NCHW' | 'NHWC';
}

/** Encode the golden file's bytes (deterministic). */
export function encodeGolden(input: WriteGoldenInput): Uint8Array {
  const s = input.source;
  const [k, c, h, w] = s.dims;
  const { encoding, why } = chooseEncoding(s, input.precision);
  const inBytes = encodeInputs(s.inputs, encoding, h * w, s.mean, s.std);
  const pad4 = (n: number) => (4 - (n % 4)) % 4;
  const inPad = pad4(inBytes.byteLength);
  const embBytes = new Uint8Array(s.embeddings.buffer.slice(s.embeddings.byteOffset, s.embeddings.byteOffset + s.embeddings.byteLength));
  const data = new Uint8Array(inBytes.byteLength + inPad + embBytes.byteLength);
  data.set(inBytes, 0);
  data.set(embBytes, inBytes.byteLength + inPad);
  const folder = posix.dirname(input.path);
  const header: GoldenHeader = {
    format: GOLDEN_FORMAT,
    version: GOLDEN_VERSION,
    target: input.target,
    precision: input.precision,
    rows: k,
    inputShape: [c, h, w],
    dim: s.dim,
    feedLayout: input.feedLayout ?? 'NCHW',
    inputs: { encoding, offset: 0, byteLength: inBytes.byteLength, mean: s.mean, std: s.std, why },
    embeddings: { offset: inBytes.byteLength + inPad, byteLength: embBytes.byteLength, meaning: 'reference raw embeddings (not L2-normalized), float32' },
    thresholds: { minCosine: s.thresholds[input.precision].minCosine },
    weights: input.weights.map((p) => {
      const b = readFileSync(join(input.outDir, p));
      return { path: posix.relative(folder, p), sha256: sha256(b), bytes: b.byteLength };
    }),
    reference: { kind: s.kind, description: s.description, sha256: s.referenceSha256, referenceRows: s.referenceRows, rows: [...s.rows], synthetic: s.kind === 'synthetic' },
    digest: sha256(data),
  };
  let json = stableStringify(header);
  json += ' '.repeat(pad4(8 + Buffer.byteLength(json)));
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.byteLength + data.byteLength);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(4, hb.byteLength, true);
  out.set(hb, 8);
  out.set(data, 8 + hb.byteLength);
  return out;
}

/** A golden set's facts in the manifest: targets["<target>/<precision>"].goldenSet (docs/manifest.md). */
export interface GoldenSetDetails {
  /** Bundle-relative path of the golden file. */
  readonly path: string;
  readonly bytes: number;
  readonly rows: number;
  readonly inputEncoding: InputEncoding;
  readonly minCosine: number;
  /** The references' description ("synthetic (...)" when no reference was given). */
  readonly reference: string;
}

/** Write the golden file; returns its manifest entry and the facts for the manifest's target details. */
export function writeGoldenSet(input: WriteGoldenInput): { file: BundleFile; details: GoldenSetDetails } {
  const bytes = encodeGolden(input);
  writeFileSync(join(input.outDir, input.path), bytes);
  const g = decodeGolden(bytes, input.path);
  return {
    file: { path: input.path, target: input.target, precision: input.precision, role: 'golden' },
    details: {
      path: input.path,
      bytes: bytes.byteLength,
      rows: g.header.rows,
      inputEncoding: g.header.inputs.encoding,
      minCosine: g.header.thresholds.minCosine,
      reference: g.header.reference.synthetic ? `synthetic (${g.header.reference.description})` : g.header.reference.description,
    },
  };
}

/** Parse a golden file; InputError (exit 3) naming `where` when it is not one. */
export function decodeGolden(bytes: Uint8Array, where: string): GoldenFile {
  const bad = (why: string): never => {
    throw new InputError('golden', `${where}: not an sf2-export golden set (${why})`, 're-export the bundle');
  };
  if (bytes.byteLength < 8 || Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== MAGIC) bad('no SF2G magic');
  const hl = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + hl > bytes.byteLength) bad('header runs past the end');
  let header: GoldenHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + hl)).toString('utf8')) as GoldenHeader;
  } catch (e) {
    return bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (header.format !== GOLDEN_FORMAT || header.version !== GOLDEN_VERSION) bad(`format ${header.format} version ${header.version}`);
  const data = bytes.subarray(8 + hl);
  const [c, h, w] = header.inputShape;
  const n = header.rows * c! * h! * w!;
  const enc = header.inputs.encoding;
  const size = enc === 'u8' ? 1 : enc === 'f16' ? 2 : 4;
  if (header.inputs.byteLength !== n * size || header.inputs.offset + header.inputs.byteLength > data.byteLength) bad('inputs do not fit');
  if (header.embeddings.byteLength !== header.rows * header.dim * 4 || header.embeddings.offset + header.embeddings.byteLength > data.byteLength) bad('embeddings do not fit');
  // Copies (a Buffer's slice() is a view into a shared pool): typed arrays over them start at 0.
  const copy = (from: number, to: number) => new Uint8Array(data.subarray(from, to));
  const raw = copy(header.inputs.offset, header.inputs.offset + header.inputs.byteLength);
  const inputs = new Float32Array(n);
  if (enc === 'f32') inputs.set(new Float32Array(raw.buffer));
  else if (enc === 'f16') {
    const u = new Uint16Array(raw.buffer);
    for (let i = 0; i < n; i++) inputs[i] = float16BitsToFloat32(u[i]!);
  } else {
    const plane = h! * w!;
    for (let i = 0; i < n; i++) {
      const ch = Math.floor(i / plane) % 3;
      inputs[i] = (raw[i]! - header.inputs.mean[ch]!) / header.inputs.std[ch]!;
    }
  }
  const embeddings = new Float32Array(copy(header.embeddings.offset, header.embeddings.offset + header.embeddings.byteLength).buffer);
  return { header, inputs, embeddings, dataSha256: sha256(data) };
}

interface ReportLike {
  reference?: { sha256?: string };
  results?: ReadonlyArray<{ file?: string; target?: string; precision?: string; thresholds?: { minCosine?: number } }>;
}

/**
 * verify's golden-set check for one golden file of the bundle at `dir`: well-formed,
 * digest, weights' sha256 against the files, made from the references the parity
 * report measured, a threshold no looser than the default (and than the report's).
 */
export function goldenProblems(dir: string, path: string, report: ReportLike | undefined, allowLoose = false): string[] {
  const out: string[] = [];
  let g: GoldenFile;
  try {
    g = decodeGolden(readFileSync(join(dir, path)), path);
  } catch (e) {
    return [(e as Error).message];
  }
  const h = g.header;
  if (g.dataSha256 !== h.digest) out.push(`${path}: the golden rows were edited (sha256 of the data ${g.dataSha256.slice(0, 16)}... is not the header's ${h.digest.slice(0, 16)}...)`);
  if (!g.embeddings.every(Number.isFinite) || !g.inputs.every(Number.isFinite)) out.push(`${path}: non-finite golden values`);
  const folder = posix.dirname(path);
  for (const w of h.weights) {
    const p = posix.join(folder, w.path);
    let b: Buffer | undefined;
    try {
      b = readFileSync(join(dir, p));
    } catch {
      out.push(`${path}: lists weights ${p}, which is missing`);
    }
    if (b && sha256(b) !== w.sha256) out.push(`${path}: weights ${p} do not have the sha256 the golden set was made for`);
  }
  const d = DEFAULT_THRESHOLDS[h.precision];
  if (d && h.thresholds.minCosine < d.minCosine && !allowLoose) out.push(`${path}: threshold min cosine ${h.thresholds.minCosine} is looser than the default ${d.minCosine}; pass --allow-loose-thresholds to accept`);
  if (report?.reference) {
    if (report.reference.sha256 !== h.reference.sha256) out.push(`${path}: made from references ${h.reference.sha256.slice(0, 16)}..., the parity report measured ${String(report.reference.sha256).slice(0, 16)}... (re-export, or re-run parity with the same references)`);
    // (--rows measures a subset: the report's row count may be smaller than the references'.)
    else if (h.reference.rows.length !== h.rows || h.reference.rows.some((r) => !(Number.isInteger(r) && r >= 0 && r < h.reference.referenceRows))) out.push(`${path}: reference row indices out of range`);
    const mine = (report.results ?? []).filter((r) => r.target === h.target && r.precision === h.precision);
    const strictest = Math.max(...mine.map((r) => r.thresholds?.minCosine ?? -1));
    if (mine.length && h.thresholds.minCosine < strictest) out.push(`${path}: threshold min cosine ${h.thresholds.minCosine} is looser than parity's ${strictest} for ${h.target} ${h.precision}`);
  }
  return out;
}

/**
 * parity's golden-set check: the golden rows are rows of these references
 * (inputs within the storage's rounding, embeddings bit for bit). References
 * other than those the golden set was made from give a note, not a mismatch.
 */
export function goldenMismatches(dir: string, path: string, ref: ReferenceSet): { problems: string[]; notes: string[] } {
  const g = decodeGolden(readFileSync(join(dir, path)), path);
  const h = g.header;
  if (h.reference.sha256 !== referenceDigest(ref) || h.reference.referenceRows !== ref.dims[0]) {
    return { problems: [], notes: [`${path}: made from other references (${h.reference.description}); not compared`] };
  }
  const problems: string[] = [];
  const per = h.inputShape.reduce((a, b) => a * b, 1);
  // f16 storage rounds |x| <= 2 by at most 2^-11 relative (half an ulp); u8 and f32 are exact.
  const tol = h.inputs.encoding === 'f16' ? 2 ** -11 : 0;
  h.reference.rows.forEach((r, i) => {
    for (let j = 0; j < per; j++) {
      const a = g.inputs[i * per + j]!, b = ref.inputs[r * per + j]!;
      if (Math.abs(a - b) > tol * Math.max(1, Math.abs(b))) {
        problems.push(`${path}: golden row ${i} input differs from reference row ${r} at ${j} (${a} vs ${b})`);
        return;
      }
    }
    for (let j = 0; j < h.dim; j++) {
      if (g.embeddings[i * h.dim + j] !== ref.embeddings[r * ref.dim + j]) {
        problems.push(`${path}: golden row ${i} embedding differs from reference row ${r} at ${j}`);
        return;
      }
    }
  });
  return { problems, notes: [] };
}

/** Bundle-relative path of a golden file: beside the model it checks. */
export function goldenPath(target: TargetName, precision: Precision): string {
  return target === 'onnx' ? `onnx/model.${precision}.golden.bin` : `${target}/${precision}/golden.bin`;
}

export function goldenDir(path: string): string {
  return dirname(path);
}

/**
 * A runtime file as shipped in a bundle: its source with the shared self-test
 * code (src/bundle/golden-runtime.js) appended, one ES module with no imports.
 * Found from src/ and from dist/ alike (two levels up is the package root).
 */
export function withGoldenRuntime(file: URL): Buffer {
  return Buffer.concat([readFileSync(file), readFileSync(new URL('../../src/bundle/golden-runtime.js', import.meta.url))]);
}

/** package.json written beside the helpers: their .js files are ES modules for Node whatever the app's own package.json says. */
export const MODULE_PACKAGE_JSON = '{ "type": "module" }\n';

/**
 * `sf2-export parity DIR`'s golden-set check: every golden file listed among
 * `files` against the references parity loaded (before any --rows subset).
 */
export function goldenReferenceCheck(dir: string, files: readonly BundleFile[], ref: ReferenceSet): { problems: string[]; notes: string[] } {
  const problems: string[] = [], notes: string[] = [];
  for (const f of files) {
    if (f.role !== 'golden') continue;
    try {
      const r = goldenMismatches(dir, f.path, ref);
      problems.push(...r.problems);
      notes.push(...r.notes);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { problems, notes };
}
