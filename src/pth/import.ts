/**
 * Checkpoint -> IR model: read the .pth safely (checkpoint.ts), find the
 * backbone state_dict and the head (layouts.ts), find the architecture by
 * building each family from the keys (arch/*.ts; the one that uses every key
 * wins), and return the graph torch.onnx.export would give for the eval
 * backbone (every BN kept, as TrainingMode.PRESERVE): input `input`
 * [batch, 3, H, W] float32, output `embedding` [batch, D]. The head is never
 * part of the graph; what was left out is recorded (CheckpointInfo).
 *
 * A state_dict no family fits is exit 4, with what the closest family used,
 * what was left over (keys and shapes) and the names --arch takes.
 */
import { basename } from 'node:path';
import { UnsupportedError, UsageError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { Model } from '../ir/model.js';
import { dtypeName } from '../ir/dtype.js';
import { TOOL_VERSION } from '../version.js';
import { loadCheckpoint, type Checkpoint } from './checkpoint.js';
import { findBackbone, headFromFile, headShape, type BackboneLayout, type HeadTensors } from './layouts.js';
import { ArchMismatch, StateDictView, type BnSite } from './arch/common.js';
import type { ArchBuilder, ArchResult } from './arch/types.js';
import { iresnet, IRESNET_DEPTHS } from './arch/iresnet.js';
import { sfnet, sfnetBn, SFNET_DEPTHS } from './arch/sfnet.js';
import { sfnetDeprecated } from './arch/sfnet-deprecated.js';

export const ARCHS: readonly ArchBuilder[] = [sfnetDeprecated, iresnet, sfnetBn, sfnet];

/** Names --arch takes: a family, or a family with a depth (iresnet100, sfnet20, sfnet20bn, sfnet20_deprecated). */
export const ARCH_NAMES: readonly string[] = ARCHS.map((a) => a.family);

export interface ImportOptions {
  /** Force one family (or family+depth); default: the one whose keys fit. */
  arch?: string;
  /** A separate head file (2022 head_<iter>.pth): reported as stripped. */
  head?: string;
}

export interface CheckpointInfo {
  readonly path: string;
  readonly format: 'zip' | 'legacy';
  readonly fileBytes: number;
  readonly layout: string;
  readonly layoutDescription: string;
  readonly prefixStripped: string;
  readonly arch: { family: string; name: string; depths: readonly number[]; widths: readonly number[]; block: string; forced: boolean };
  readonly embeddingDim: number;
  readonly inputSize: readonly [number, number];
  readonly parameters: number;
  readonly parameterBytes: number;
  readonly tensors: number;
  readonly dtypes: Readonly<Record<string, number>>;
  readonly batchNorms: readonly BnSite[];
  readonly head: { source: string; keys: readonly string[]; classes: number | null; layout: string; bytes: number; shape: readonly number[] | null } | null;
  readonly ignored: readonly string[];
}

export interface ImportedCheckpoint {
  readonly model: Model;
  readonly info: CheckpointInfo;
}

const infoByModel = new WeakMap<Model, CheckpointInfo>();

/** The checkpoint a model was imported from, if it was. */
export function checkpointInfoOf(model: Model): CheckpointInfo | undefined {
  return infoByModel.get(model);
}

function parseArch(name: string): { family: string; depths?: readonly number[] } {
  const n = name.trim().toLowerCase().replace(/-/g, '_');
  const direct = ARCHS.find((a) => a.family === n);
  if (direct) return { family: direct.family };
  const ir = IRESNET_DEPTHS[n];
  if (ir) return { family: 'iresnet', depths: ir };
  const m = /^(sfnet\d+)(_deprecated|_bn|bn)?$/.exec(n);
  if (m && SFNET_DEPTHS[m[1]!]) return { family: m[2] === '_deprecated' ? 'sfnet_deprecated' : m[2] ? 'sfnet_bn' : 'sfnet', depths: SFNET_DEPTHS[m[1]!] };
  throw new UsageError(`--arch ${name} is not an architecture sf2-export builds`, `use one of ${ARCH_NAMES.join(', ')} (or with a depth: iresnet100, sfnet20, sfnet20bn, sfnet20_deprecated)`);
}

interface Attempt {
  readonly family: string;
  readonly result?: ArchResult;
  readonly builder?: GraphBuilder;
  readonly view: StateDictView;
  readonly leftover: string[];
  readonly reason?: string;
}

function attempt(a: ArchBuilder, layout: BackboneLayout, ck: Checkpoint): Attempt {
  const view = new StateDictView(layout.tensors, ck);
  const builder = new GraphBuilder();
  try {
    const result = a.build(builder, view);
    return { family: a.family, result, builder, view, leftover: view.leftover() };
  } catch (e) {
    if (e instanceof ArchMismatch) return { family: a.family, view, leftover: view.leftover(), reason: e.message };
    throw e;
  }
}

function shapeOf(layout: BackboneLayout, k: string): string {
  const t = layout.tensors.get(k);
  return t ? `${k} [${t.shape.join(', ')}]` : k;
}

export function importCheckpoint(path: string, options: ImportOptions = {}): ImportedCheckpoint {
  const forced = options.arch ? parseArch(options.arch) : undefined;
  const ck = loadCheckpoint(path);
  const layout = findBackbone(ck);
  const candidates = forced ? ARCHS.filter((a) => a.family === forced.family) : ARCHS;
  const attempts = candidates.map((a) => attempt(a, layout, ck));
  const fits = attempts.filter((t) => t.result && t.leftover.length === 0);
  if (fits.length !== 1) {
    const best = [...attempts].sort((a, b) => b.view.used.size - a.view.used.size)[0]!;
    const total = [...layout.tensors.keys()].filter((k) => !k.endsWith('num_batches_tracked')).length;
    const left = best.leftover.slice(0, 10).map((k) => shapeOf(layout, k)).join(', ');
    const what = fits.length > 1
      ? `${fits.map((f) => f.family).join(' and ')} both fit`
      : `the closest, ${best.family}, used ${best.view.used.size} of ${total} keys${best.reason ? ` and stopped at: ${best.reason}` : ''}${best.leftover.length ? `; left over ${best.leftover.length}: ${left}${best.leftover.length > 10 ? ', ...' : ''}` : ''}`;
    throw new UnsupportedError(
      'pth-arch',
      `${path} (${layout.description}): the state_dict matches no architecture sf2-export builds${forced ? ` as --arch ${options.arch}` : ''}: ${what}`,
      `--arch takes ${ARCH_NAMES.join(', ')}; other backbones need torch.onnx.export (docs/pth.md)`,
    );
  }
  const fit = fits[0]!;
  const res = fit.result!;
  if (forced?.depths && !forced.depths.every((d, i) => res.depths[i] === d)) {
    throw new UnsupportedError('pth-arch', `${path}: --arch ${options.arch} has depths [${forced.depths.join(', ')}], the checkpoint [${res.depths.join(', ')}]`, `pass --arch ${res.family} (or ${res.name})`);
  }
  const b = fit.builder!;
  b.output(res.output, 'embedding');
  const g = b.graph;
  g.name = `${res.name} (from ${basename(path)})`;
  g.toposort();
  g.verify();
  const model = new Model(g);
  model.irVersion = 7;
  model.opsetImports = [{ domain: '', version: 13 }];
  model.producerName = 'sf2-export';
  model.producerVersion = TOOL_VERSION;
  model.docString = `imported from the PyTorch checkpoint ${basename(path)} (${layout.description}; architecture ${res.name}) without Python`;
  model.path = ck.path;
  model.fileBytes = ck.fileBytes;

  let head: HeadTensors | null = layout.head;
  if (options.head) {
    const hk = loadCheckpoint(options.head);
    head = headFromFile(hk);
  }
  const hs = head ? headShape(head, res.embeddingDim) : null;
  const used = [...fit.view.used].map((k) => layout.tensors.get(k)!);
  const dtypes: Record<string, number> = {};
  for (const t of layout.tensors.values()) dtypes[dtypeName(t.dtype)] = (dtypes[dtypeName(t.dtype)] ?? 0) + 1;
  const info: CheckpointInfo = {
    path: basename(path),
    format: ck.format,
    fileBytes: ck.fileBytes,
    layout: layout.layout,
    layoutDescription: layout.description,
    prefixStripped: layout.prefixStripped,
    arch: { family: res.family, name: res.name, depths: res.depths, widths: res.widths, block: res.block, forced: !!forced },
    embeddingDim: res.embeddingDim,
    inputSize: res.inputSize,
    parameters: used.reduce((a, t) => a + t.numel, 0),
    parameterBytes: used.reduce((a, t) => a + t.byteLength, 0),
    tensors: layout.tensors.size,
    dtypes,
    batchNorms: fit.view.bns,
    head: head
      ? { source: head.source === 'checkpoint' ? 'checkpoint' : basename(head.source), keys: head.keys, classes: hs?.classes ?? null, layout: hs?.layout ?? 'unknown', bytes: head.bytes, shape: head.w ? [...head.w.shape] : null }
      : null,
    ignored: [...layout.ignored, ...layout.nonTensors],
  };
  infoByModel.set(model, info);
  return { model, info };
}

/** One block of text for `inspect model.pth`. */
export function formatCheckpointInfo(i: CheckpointInfo): string {
  const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);
  const lines = [
    `checkpoint   ${i.path} (${mb(i.fileBytes)}, torch.save ${i.format} format)`,
    `layout       ${i.layout}: ${i.layoutDescription}${i.prefixStripped ? ` (prefix ${i.prefixStripped} stripped)` : ''}`,
    `architecture ${i.arch.name} (family ${i.arch.family}${i.arch.forced ? ', forced by --arch' : ', found from the keys'}; ${i.arch.block} blocks)`,
    `depths       [${i.arch.depths.join(', ')}]   widths [${i.arch.widths.join(', ')}]`,
    `input        [N, 3, ${i.inputSize[0]}, ${i.inputSize[1]}] float32 RGB, (x - 127.5) / 127.5`,
    `embedding    ${i.embeddingDim}`,
    `parameters   ${i.parameters.toLocaleString('en-US')} (${mb(i.parameterBytes)}) in ${i.tensors} tensors (${Object.entries(i.dtypes).map(([k, v]) => `${v} ${k}`).join(', ')})`,
    i.head
      ? `head         ${i.head.classes ?? '?'} classes, w [${i.head.shape?.join(', ') ?? '?'}] (${i.head.layout}), ${mb(i.head.bytes)}, from ${i.head.source}: left out of the graph`
      : 'head         none in this file (2022 layout: pass --head head_<iter>.pth to report it)',
    `batch-norms  ${i.batchNorms.length}`,
    ...i.batchNorms.map((b) => `  ${b.module.padEnd(28)} ${String(b.channels).padStart(5)} ch  ${b.position}`),
  ];
  if (i.ignored.length) lines.push(`ignored      ${i.ignored.join(', ')}`);
  return lines.join('\n');
}

/**
 * The manifest's `source.checkpoint` for a model imported from a checkpoint
 * (nothing for an ONNX model): what was read and what was left out.
 */
export function checkpointSource(model: Model, withReference: boolean): { checkpoint?: Record<string, unknown> } {
  const i = infoByModel.get(model);
  if (!i) return {};
  return {
    checkpoint: {
      format: i.format,
      layout: i.layout,
      prefixStripped: i.prefixStripped,
      arch: { family: i.arch.family, name: i.arch.name, depths: [...i.arch.depths], widths: [...i.arch.widths], block: i.arch.block, forced: i.arch.forced },
      embeddingDim: i.embeddingDim,
      inputSize: [...i.inputSize],
      parameters: i.parameters,
      batchNorms: i.batchNorms.length,
      headStripped: i.head ? { source: i.head.source, keys: [...i.head.keys], classes: i.head.classes, layout: i.head.layout, bytes: i.head.bytes } : null,
      importer: 'sf2-export src/pth (no Python): the graph torch.onnx.export gives for the eval backbone, every BN kept',
      checkedAgainstPyTorch: withReference,
    },
  };
}
