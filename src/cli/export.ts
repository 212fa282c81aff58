/** The default command: `sf2-export <model.onnx> [--target LIST] [--out DIR] ...` */
import { parsePreprocess } from '../pipeline/preprocess.js';
import { UsageError } from '../errors.js';
import { exportModel, type ExportOptions, type ExportResult } from '../pipeline/export.js';
import { PRECISIONS, type Precision } from '../ir/precision.js';
import { TARGET_NAMES, type TargetName } from '../targets/target.js';
import type { Logger } from '../log.js';
import { suggest } from './suggest.js';
import type { ThresholdOverrides } from '../metrics/thresholds.js';
import { positiveInt, thresholdsOf } from './flag-values.js';
import type { OptionsOf } from './flags.js';
import { selectRuntimes } from './parity.js';
import { emitJson, withJson } from './json-out.js';

/** The export's flags (the flag table, flags.ts); --color-order, --mean, --std, --preprocess: src/pipeline/preprocess.ts. */
export type ExportCommandOptions = OptionsOf<'export'>;

export function parseTargets(s: string | undefined): TargetName[] {
  const items = (s ?? 'onnx').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const out: TargetName[] = [];
  for (const it of items) {
    if (it === 'web' || it === 'all') out.push(...TARGET_NAMES);
    else if ((TARGET_NAMES as readonly string[]).includes(it)) out.push(it as TargetName);
    else throw new UsageError(`unknown target "${it}"${suggest(it, [...TARGET_NAMES, 'web'])}`, `--target takes a comma list of ${TARGET_NAMES.join(', ')}, or web for all three`);
  }
  return [...new Set(out)];
}

export function parsePrecisions(s: string | undefined): Precision[] | undefined {
  if (s === undefined) return undefined;
  const items = s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  for (const it of items) {
    if (!(PRECISIONS as readonly string[]).includes(it)) {
      throw new UsageError(`unknown precision "${it}"${suggest(it, [...PRECISIONS])}`, `--precision takes a comma list of ${PRECISIONS.join(', ')}`);
    }
  }
  return [...new Set(items)] as Precision[];
}

export async function exportCommand(model: string, opts: ExportCommandOptions, log: Logger): Promise<number> {
  const device = opts.device ?? 'all';
  if (!['cpu', 'gpu', 'all'].includes(device)) throw new UsageError(`--device ${device}: expected cpu, gpu or all`);
  if (opts.calibrationMethod && !['minmax', 'percentile', 'entropy'].includes(opts.calibrationMethod)) {
    throw new UsageError(`--calibration-method ${opts.calibrationMethod}: expected minmax, percentile or entropy`);
  }
  if (opts.int8Scheme && !['weight-only', 'qdq'].includes(opts.int8Scheme)) throw new UsageError(`--int8-scheme ${opts.int8Scheme}: expected weight-only or qdq`);
  if (opts.sensitivity && !['auto', 'always', 'off'].includes(opts.sensitivity)) throw new UsageError(`--sensitivity ${opts.sensitivity}: expected auto, always or off`);
  if (opts.tfjsInput && !['nchw', 'nhwc'].includes(opts.tfjsInput)) throw new UsageError(`--tfjs-input ${opts.tfjsInput}: expected nchw or nhwc`);
  const options: ExportOptions = {
    out: opts.out,
    targets: parseTargets(opts.target),
    precisions: parsePrecisions(opts.precision),
    reference: opts.reference,
    inputs: opts.inputs,
    images: opts.images,
    embedding: opts.embedding,
    preprocess: parsePreprocess(opts),
    device: device as 'cpu' | 'gpu' | 'all',
    force: opts.force,
    signKey: opts.signKey,
    skipParity: opts.parity === false,
    thresholds: parityThresholds(opts),
    runtimes: selectRuntimes(opts.runtime),
    rows: positiveInt('--rows', opts.rows),
    allowUnverified: !!opts.allowUnverified,
    calibration: opts.calibration,
    arch: opts.arch,
    head: opts.head,
    targetOptions: {
      tfjsInput: opts.tfjsInput as 'nchw' | 'nhwc' | undefined,
      calibrationMethod: opts.calibrationMethod as 'minmax' | 'percentile' | 'entropy' | undefined,
      int8Scheme: opts.int8Scheme as 'qdq' | 'weight-only' | undefined,
      sensitivity: opts.sensitivity as 'auto' | 'always' | 'off' | undefined,
    },
    log,
  };
  let result: ExportResult;
  try {
    result = await exportModel(model, options);
  } catch (e) {
    const partial = (e as { result?: ExportResult }).result;
    // --json: main.ts prints this merged with ok: false, the exit code and the error.
    if (partial && opts.json && e instanceof Error) withJson(e, jsonOf(partial));
    throw e;
  }
  if (opts.json) printJson(result);
  else log.info(`wrote ${result.out} (${result.manifest.files.length} files)${result.parity ? `; parity ${result.parity.pass ? 'passed' : 'FAILED'}` : ''}`);
  return 0;
}

/** Thresholds from the config file (an object) or --thresholds FILE, then --min-cosine / --max-flips on top. */
function parityThresholds(opts: ExportCommandOptions): ThresholdOverrides | undefined {
  const t = thresholdsOf(opts);
  return Object.keys(t).length ? t : undefined;
}

function jsonOf(r: ExportResult): Record<string, unknown> {
  return {
    ok: r.ok,
    out: r.out,
    files: r.manifest.files,
    parity: r.parity ? { pass: r.parity.pass, results: r.parity.results, skipped: r.parity.skippedRuntimes } : null,
  };
}

function printJson(r: ExportResult): void {
  emitJson(jsonOf(r));
}
