/**
 * The export pipeline, the tool's main job:
 *
 *   load -> optimize (strip head, fold BN, clean up, shapes)
 *        -> for each target x precision: write into a temporary bundle folder
 *        -> parity of every bundle on every runtime available -> reports
 *        -> manifest.json -> rename the folder into place
 *
 * On a parity failure the bundle, its reports and its manifest are still
 * written (for inspection) and a ParityError (exit 5) is thrown afterwards.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError, ParityError, UnsupportedError, UnverifiedError, UsageError, namingFile } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { loadModel } from '../pth/load-model.js';
import { checkpointSource } from '../pth/import.js';
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import { optimize } from '../passes/index.js';
import { detailsOf, type PassReport, type StripHeadDetails } from '../passes/pass.js';
import { loadTarget } from '../targets/registry.js';
import type { BundleFile, CalibrationData, Target, TargetName, TargetOptions } from '../targets/target.js';
import { BundleDir, preflight } from '../bundle/bundle-dir.js';
import { sha256FileInBackground } from '../bundle/source-digest.js';
import { inputLayoutOf, type ModelContract } from '../analysis/contract.js';
import { DEFAULT_PREPROCESS, type Preprocess } from './preprocess.js';
import { buildManifest, MANIFEST_FILE, type Manifest, type ManifestTargetDetails, type ManifestTargetKey } from '../bundle/manifest.js';
import { sealManifest, signBundle } from '../bundle/seal.js';
import { DEFAULT_PRECISIONS, type Precision } from '../ir/precision.js';
import { readNpy, readNpz, toFloat32, toFloat64 } from '../data/npy.js';
import { addFlipReferences, loadImages, loadReferences, type ReferenceOptions, type ReferenceSet } from '../data/references.js';
import { countFlops } from '../analysis/flops.js';
import { finishParity, type ParityOptions, type ParitySummary } from './parity-step.js';
import { goldenFromReferences } from '../bundle/golden-set.js';
import { writtenSummary } from '../bundle/write-summary.js';
import type { ThresholdOverrides } from '../metrics/thresholds.js';

export interface ExportOptions extends ParityOptions {
  /** Bundle folder (default ./sf2-dist/<model name>). */
  out?: string;
  targets?: readonly TargetName[];
  precisions?: readonly Precision[];
  /** Tensor to cut at instead of the detected embedding. */
  embedding?: string;
  /** Color order and mean/std of the input (./preprocess.ts); default RGB, (x - 127.5) / 127.5. */
  preprocess?: Preprocess;
  /** Replace an existing output folder. */
  force?: boolean;
  /** Skip parity entirely (never the default; for packaging experiments). */
  skipParity?: boolean;
  targetOptions?: TargetOptions;
  /** Calibration inputs for int8: a .npy [N,3,H,W] or a folder of aligned face images (default: the reference inputs). */
  calibration?: string;
  /** PyTorch checkpoints (.pth): force the architecture (--arch) and name a separate head file (--head). */
  arch?: string;
  head?: string;
  log?: Logger;
}

export interface ExportResult {
  readonly ok: boolean;
  readonly out: string;
  readonly manifest: Manifest;
  readonly parity: ParitySummary | null;
}

export function defaultOutDir(modelPath: string): string {
  return join('sf2-dist', basename(modelPath).replace(/\.(onnx|pth|pt|ckpt|tar)$/i, ''));
}

export async function exportModel(modelPath: string, options: ExportOptions = {}): Promise<ExportResult> {
  const log = options.log ?? silentLogger;
  const targets: TargetName[] = [...new Set<TargetName>(options.targets ?? ['onnx'])];
  const precisions = [...new Set(options.precisions ?? DEFAULT_PRECISIONS)];
  if (targets.length === 0) throw new UsageError('no target given', 'pass --target onnx, tfjs, webgpu or web');
  const out = options.out ?? defaultOutDir(modelPath);
  if (resolve(out) === resolve(modelPath)) throw new UsageError('--out is the input model itself', 'choose an output folder');
  // --out rules (never the cwd, the model's folder or a parent; --force only over a bundle; writable) before any work.
  preflight(out, { force: !!options.force, model: modelPath });

  // Everything that can be refused is refused before anything is written.
  const loaded = loadTarget; // lazy targets
  const targetImpls: Target[] = [];
  for (const t of targets) targetImpls.push(await loaded(t));

  let end = log.step(`loading ${modelPath}`);
  const sourceDigest = sha256FileInBackground(modelPath); // on another thread, while this one works
  const model = loadModel(modelPath, { onWarning: (w) => log.warn(w), arch: options.arch, head: options.head });
  const source = { path: basename(modelPath), sha256: '', bytes: statSync(modelPath).size, ...checkpointSource(model, !!options.reference) };
  end(`${model.graph.nodes.length} nodes, opset ${model.opset('') ?? '?'}`);

  end = log.step('optimizing');
  const optimized = cloneModel(model);
  const passes = namingFile(modelPath, () => optimize(optimized, { embedding: options.embedding }, { log }));
  end(summarizePasses(passes));
  const contract = namingFile(modelPath, () => contractOf(optimized, options.preprocess));
  const head: Partial<StripHeadDetails> = detailsOf(passes, 'strip-head') ?? {};
  if (typeof head.classifierWarning === 'string') log.warn(head.classifierWarning);
  // Reference files are validated once, here, before anything reads them (fp16/int8
  // calibration below, then parity): a bad one (NHWC inputs, wrong D, NaN) is exit 3 with its hint.
  const validated = options.reference ? await loadReferences({ reference: options.reference, inputs: options.inputs, contract, flip: false }) : undefined;

  const problems: string[] = [];
  for (const t of targetImpls) {
    for (const p of precisions) {
      try {
        t.check(optimized, p);
      } catch (e) {
        if (e instanceof UnsupportedError || e instanceof UsageError) problems.push(`${t.name}/${p}: ${e.message}`);
        else throw e;
      }
    }
  }
  if (problems.length) {
    throw new UnsupportedError('target', `${modelPath}: cannot write ${problems.length === 1 ? 'this bundle' : 'these bundles'}: ${problems.join('; ')}`, 'see docs/targets.md for what each target supports');
  }

  const dir = BundleDir.open(out, { force: !!options.force, model: modelPath });
  try {
    const calibration: CalibrationData | undefined = options.calibrationData ?? (await calibrationFromFlag(options, contract)) ?? calibrationFromReferences(options, log);
    // The golden set each bundle carries for its on-device self-test: rows of the parity references (src/bundle/golden-set.ts).
    // The references are loaded (or computed from the original model) once, here, and handed to both.
    const references = await exportReferences(options, validated, { originalModel: resolve(modelPath), embedding: head.embeddingTensor, arch: options.arch, head: options.head, contract, log });
    const golden = await goldenFromReferences(references, { contract, thresholds: options.thresholds as ThresholdOverrides | undefined, model: optimized, log });
    const files: BundleFile[] = [];
    const targetDetails: Partial<Record<ManifestTargetKey, ManifestTargetDetails>> = {};
    for (const t of targetImpls) {
      for (const precision of precisions) {
        const endT = log.step(`writing ${t.name} ${precision}`);
        const res = await namingFile(modelPath, () => t.write({ model: optimized, contract, precision, outDir: dir.tmp, log, options: options.targetOptions ?? {}, calibration, golden }));
        files.push(...res.files);
        if (res.details) targetDetails[`${t.name}/${precision}`] = res.details;
        endT(writtenSummary(res.files)); // the model file(s) named, the golden set and helpers counted (../bundle/write-summary.ts)
      }
    }

    const parity = options.skipParity
      ? null
      : await finishParity({ bundleDir: dir.tmp, files, contract, originalModelPath: resolve(modelPath), embedding: head.embeddingTensor, arch: options.arch, head: options.head, references, options, log, precisions, targets, flopsPerImage: countFlops(optimized.graph) });

    source.sha256 = await sourceDigest;
    const manifest = await buildManifest(dir.tmp, {
      source,
      contract,
      head,
      passes,
      targets: targetDetails,
      bundleFiles: files,
      parity: parity ? { pass: parity.pass, report: parity.reportPath, failures: parity.failures, skipped: parity.skipped, ...(parity.unverifiedFiles.length ? { unverified: parity.unverifiedFiles } : {}) } : null,
    });
    // Sealed: an integrity digest over the canonical manifest, checked by verify.
    writeFileSync(join(dir.tmp, MANIFEST_FILE), sealManifest(manifest));
    if (options.signKey) {
      await signBundle(dir.tmp, options.signKey);
    }
    dir.commit();
    const result: ExportResult = { ok: parity ? parity.pass : true, out: dir.final, manifest, parity };
    if (parity) throwUnlessPassed(parity, out, log, result);
    return result;
  } catch (e) {
    dir.abort();
    throw e;
  }
}

/**
 * Exit 5 when a result failed (numbers outside the thresholds, or a run that
 * errored); else exit 7 when some model file was run by no runtime and
 * --allow-unverified was not given. The unverified lines (one short line per
 * file: why, and the fix) go to the log either way.
 */
function throwUnlessPassed(parity: ParitySummary, out: string, log: Logger, result: ExportResult): void {
  for (const line of parity.unverified) log.warn(`unverified: ${line}`);
  if (parity.failures.length) {
    const also = parity.unverified.length ? `; ${parity.unverified.length} file(s) unverified` : '';
    throw Object.assign(new ParityError(`parity failed for ${parity.failures.join('; ')}${also}; the bundle and its reports are in ${out}`, 'see parity-report.md in the bundle'), { result });
  }
  if (parity.unverified.length && !parity.allowUnverified) {
    const n = parity.unverified.length;
    throw Object.assign(
      new UnverifiedError(`${n} bundle file${n === 1 ? ' was' : 's were'} run by no runtime (unverified, not a parity failure; the lines above say why and the fix); the bundle is in ${out}`, 'fix the runtimes, or pass --allow-unverified to accept'),
      { result },
    );
  }
}

/**
 * The export's one reference set, shared by the golden sets (their first rows)
 * and parity: the --reference files validated above, or images / synthetic
 * inputs embedded by the original (unoptimized) model, whose onnxruntime
 * session is released before this returns (before any bundle writer runs).
 * Flip references (the original model on width-flipped inputs) are only
 * computed when parity will run: the golden sets do not use them.
 */
async function exportReferences(options: ExportOptions, validated: ReferenceSet | undefined, load: Pick<ReferenceOptions, 'originalModel' | 'embedding' | 'arch' | 'head' | 'contract' | 'log'>): Promise<ReferenceSet> {
  if (validated) return options.skipParity ? validated : addFlipReferences(validated, load);
  return loadReferences({ ...load, images: options.images, flip: !options.skipParity });
}

function summarizePasses(reports: readonly PassReport[]): string {
  return reports
    .filter((r) => r.changed)
    .map((r) => `${r.pass} (${Object.entries(r.counts).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ')})`)
    .join('; ') || 'nothing to change';
}

/** The preprocessing contract of an optimized (head-stripped, shaped) model. */
export function contractOf(m: Model, pre: Preprocess = DEFAULT_PREPROCESS): ModelContract {
  const g = m.graph;
  const inputs = g.realInputs();
  if (inputs.length !== 1) throw new UnsupportedError('model-inputs', `the optimized model has ${inputs.length} inputs; a face embedding model has one image input`);
  const input = inputs[0]!;
  const empty = (input.shape ?? []).slice(1).some((d) => typeof d === 'number' && d <= 0);
  if (empty) throw new UnsupportedError('model-inputs', `input ${input.name} has shape [${(input.shape ?? []).join(', ')}]: an image of zero size`, 'export the model with a [N, 3, H, W] image input');
  // Bounds on what an image model's input can plausibly be (parity allocates batches of it).
  const per = (input.shape ?? []).slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
  const batch = input.shape?.[0];
  if (per > 2 ** 26 || (typeof batch === 'number' && batch > 65536)) throw new UnsupportedError('model-inputs', `input ${input.name} has shape [${(input.shape ?? []).join(', ')}]: larger than any face image batch (over 2^26 values per image or a fixed batch over 65536)`, 'export the model with a [N, 3, 112, 112] input and a dynamic batch');
  const out = g.outputs[0]!;
  const d = out.shape?.[1];
  if (g.outputs.length !== 1 || typeof d !== 'number') throw new UnsupportedError('model-outputs', 'the optimized model does not have one [N, D] embedding output');
  return {
    embeddingDim: d,
    output: out.name,
    input: { name: input.name, shape: input.shape ?? ['N', 3, 112, 112], layout: inputLayoutOf(input.shape), colorOrder: pre.colorOrder, mean: [...pre.mean], std: [...pre.std] },
    flipTTA: 'sum',
  };
}

async function calibrationFromFlag(options: ExportOptions, contract: ModelContract): Promise<CalibrationData | undefined> {
  if (!options.calibration) return undefined;
  if (existsSync(options.calibration) && statSync(options.calibration).isDirectory()) {
    const [, , h, w] = contract.input.shape;
    const imgs = await loadImages(options.calibration, typeof h === 'number' ? h : 112, typeof w === 'number' ? w : 112, contract.input.mean, contract.input.std, contract.input.colorOrder);
    const n = imgs.names.length;
    return { data: imgs.inputs, dims: [n, 3, typeof h === 'number' ? h : 112, typeof w === 'number' ? w : 112] };
  }
  const arr = readNpy(options.calibration);
  if (arr.shape.length !== 4 || arr.shape[1] !== 3) {
    throw new InputError('calibration', `--calibration ${options.calibration}: shape [${arr.shape.join(', ')}], expected [N, 3, H, W]`, 'pass preprocessed inputs as float32 NCHW');
  }
  return { data: toFloat32(arr), dims: arr.shape };
}

/**
 * Quantization calibrates on the reference inputs when there are any (real
 * aligned faces beat synthetic noise); otherwise the quantizer falls back to
 * synthetic inputs and says so.
 */
function calibrationFromReferences(options: ExportOptions, log: Logger): CalibrationData | undefined {
  if (options.inputs) {
    const arr = readNpy(options.inputs);
    if (arr.shape.length !== 4) return undefined; // the parity step reports the bad shape
    return { data: toFloat32(arr), dims: arr.shape, source: `${basename(options.inputs)} inputs` };
  }
  if (!options.reference || !/\.npz$/i.test(options.reference)) return undefined;
  const npz = readNpz(options.reference);
  const x = npz.get('inputs');
  if (!x || x.shape.length !== 4) return undefined;
  const e = npz.get('embeddings');
  const n = x.shape[0]!;
  const pairs = npz.get('pairs');
  const issame = npz.get('issame');
  log.debug(`calibration: ${n} reference inputs`);
  // With the PyTorch embeddings and pairs, the quantizer's sensitivity pass
  // measures against PyTorch and checks decision flips, as parity will.
  const emb = e && e.shape.length === 2 && e.shape[0] === n ? toFloat32(e) : undefined;
  const pairsOk = pairs && issame && pairs.shape.length === 2 && pairs.shape[1] === 2 && issame.shape[0] === pairs.shape[0];
  if (pairsOk) {
    // Refused here, before quantizing, as the parity step would refuse it after.
    const bad = toFloat64(issame!).findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) throw new InputError('reference', `${options.reference}:issame[${bad}] is ${toFloat64(issame!)[bad]}, not 0 or 1`, 'issame holds 1 for same-identity pairs and 0 for others');
    const idx = toFloat64(pairs!).findIndex((v) => !Number.isInteger(v) || v < 0 || v >= n);
    if (idx >= 0) throw new InputError('reference', `${options.reference}:pairs row ${Math.floor(idx / 2)} has index ${toFloat64(pairs!)[idx]}, outside [0, ${n})`);
  }
  return {
    data: toFloat32(x),
    dims: x.shape,
    source: `${basename(options.reference)} inputs`,
    ...(emb ? { embeddings: emb } : {}),
    ...(pairsOk ? { pairs: Int32Array.from(toFloat64(pairs!), (v) => Math.trunc(v)), issame: Uint8Array.from(toFloat64(issame!), (v) => (v ? 1 : 0)) } : {}),
  };
}

