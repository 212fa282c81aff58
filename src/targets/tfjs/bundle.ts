/**
 * A tfjs graph-model bundle for one precision: model.json + weight shards.
 *
 *   tfjs/<precision>/model.json            format "graph-model", signature,
 *                                          modelTopology (GraphDef, NHWC),
 *                                          weightsManifest, userDefinedMetadata
 *   tfjs/<precision>/group1-shardKofN.bin  weights, <= 4 MiB each
 *
 * model.json is written with sorted keys (stableStringify), nodes and weights
 * in emission order: the same model and options give byte-identical files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloneModel } from '../../ir/clone.js';
import type { Model } from '../../ir/model.js';
import { inferShapes } from '../../ir/shape-infer.js';
import type { ModelContract } from '../../analysis/contract.js';
import type { Precision } from '../../ir/precision.js';
import { stableStringify } from '../../bundle/stable-json.js';
import { TOOL_NAME, TOOL_VERSION } from '../../version.js';
import { assertConvertible, convertGraph, type ConvertResult, type SignatureEntry } from './convert.js';
import { tfShape } from './graphdef.js';
import { encodeWeights, shardWeights, type EncodeOptions, type KernelReport } from './weights.js';

export interface TfjsBundleOptions extends EncodeOptions {
  /** 'nchw' (default): the ONNX contract; 'nhwc': pixels-first input. */
  readonly inputLayout?: 'nchw' | 'nhwc';
}

export interface TfjsBundle {
  /** model.json text. */
  readonly modelJson: string;
  readonly shards: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  readonly details: TfjsDetails;
}

export interface TfjsDetails {
  readonly inputLayout: 'NCHW' | 'NHWC';
  readonly nodes: number;
  readonly tfOps: Readonly<Record<string, number>>;
  readonly layoutTransposes: number;
  readonly weightBytes: number;
  readonly shards: number;
  /** Kernels by how they are stored (float32 / float16 / per-tensor / per-channel). */
  readonly kernelsStored: Readonly<Record<string, number>>;
  readonly kernels?: readonly KernelReport[];
}

/** A private copy with shapes inferred and nodes in topological order. */
export function prepareForTfjs(model: Model): Model {
  const m = cloneModel(model);
  inferShapes(m.graph);
  return m;
}

/** Throw the UnsupportedError listing every problem, before anything is written. */
export function checkTfjs(model: Model): void {
  assertConvertible(prepareForTfjs(model).graph);
}

function signatureEntry(e: SignatureEntry): Record<string, unknown> {
  return { name: e.tensor, dtype: 'DT_FLOAT', tensorShape: tfShape(e.dims) };
}

export function buildTfjsBundle(model: Model, contract: ModelContract, precision: Precision, opts: TfjsBundleOptions = {}): TfjsBundle {
  const m = prepareForTfjs(model);
  const inputLayout = opts.inputLayout ?? 'nchw';
  const conv: ConvertResult = convertGraph(m.graph, { inputLayout });
  const w = encodeWeights(conv.nodes, conv.consts, precision, opts);
  const shards = shardWeights(w.data);
  const kernelsStored: Record<string, number> = {};
  for (const k of w.kernels) kernelsStored[k.stored] = (kernelsStored[k.stored] ?? 0) + 1;
  const tool = `${TOOL_NAME} ${TOOL_VERSION}`;
  const json = {
    format: 'graph-model',
    generatedBy: tool,
    convertedBy: tool,
    signature: {
      inputs: { [conv.input.key]: signatureEntry(conv.input) },
      outputs: { [conv.output.key]: signatureEntry(conv.output) },
    },
    modelTopology: { node: w.nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: w.entries }],
    userDefinedMetadata: {
      sf2Export: {
        tool,
        precision,
        embeddingDim: contract.embeddingDim,
        input: {
          name: contract.input.name,
          layout: inputLayout === 'nhwc' || contract.input.layout === 'NHWC' ? 'NHWC' : 'NCHW',
          // the ONNX model's own input layout: NHWC models are fed NHWC data as they are
          sourceLayout: contract.input.layout,
          shape: conv.input.dims,
          colorOrder: contract.input.colorOrder,
          mean: contract.input.mean,
          std: contract.input.std,
          normalize: 'x = (pixel - mean) / std, pixel in [0, 255]',
        },
        output: { name: contract.output, shape: conv.output.dims, meaning: 'raw embedding (not L2-normalized)' },
        flipTTA: contract.flipTTA,
        weights: { kernelsStored },
      },
    },
  };
  return {
    modelJson: stableStringify(json),
    shards,
    details: {
      inputLayout: inputLayout === 'nhwc' ? 'NHWC' : 'NCHW',
      nodes: w.nodes.length,
      tfOps: conv.tfOps,
      layoutTransposes: conv.layoutTransposes,
      weightBytes: w.data.byteLength,
      shards: shards.length,
      kernelsStored,
      ...(precision === 'int8' ? { kernels: w.kernels } : {}),
    },
  };
}

/** Write DIR/tfjs/<precision>/...; returns the paths relative to `outDir`. */
export function writeTfjsBundle(outDir: string, bundle: TfjsBundle, precision: Precision): { model: string; shards: string[] } {
  const rel = `tfjs/${precision}`;
  const dir = join(outDir, rel);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), bundle.modelJson);
  for (const s of bundle.shards) writeFileSync(join(dir, s.name), s.bytes);
  return { model: `${rel}/model.json`, shards: bundle.shards.map((s) => `${rel}/${s.name}`) };
}
