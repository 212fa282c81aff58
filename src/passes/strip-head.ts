/**
 * strip-head: cut the graph at the embedding and drop the SphereFace2 head.
 *
 * Before                                         After
 *   input -> backbone -> E ----------> [embedding?]   input -> backbone -> E = "embedding" [N, D]
 *                        E -> L2norm -> MatMul(W: D x C) -> r*g(cos)+b -> logits
 *   label -> OneHot/Scatter -> ... (training export)
 *
 * The head is everything not needed to compute E (../analysis/head.ts finds E as
 * the tensor whose L2 normalization feeds the biggest constant-weight MatMul or
 * Gemm, going back through a one-feature fusion, or the input of a plain linear
 * classifier at the end; or takes it from options.embedding). details.kind and
 * details.description name what was removed (SphereFace2 / cosine / linear). The cut:
 *   graph outputs := [E];  E renamed "embedding";  graph inputs only the head reads
 *   (a label) removed;  graph.cleanup() removes the head's nodes and initializers
 *   (the class weight: C x D floats, the bulk of the file for large C).
 * Nothing is computed, so nothing numeric changes: E's values are bit-identical.
 *
 * Cases:
 *  - outputs logits only, or [embedding, logits]: cut as above;
 *  - already head-free (no head found, one float [N, D] output): the output is
 *    kept and renamed "embedding" if needed; report "no head";
 *  - no head, but the output looks like a classifier's (small D, a Softmax/Sigmoid at
 *    the end): kept, with a warning (details.classifierWarning) that says how to check;
 *  - options.embedding NAME: cut there; refused when NAME does not exist or is
 *    computed from the detected class weight (then it is not head-free).
 * Refusals (UnsupportedError, exit 4 / InputError, exit 3) list the candidate
 * embedding tensors (2-D [N, D] outputs of Gemm/MatMul/BN/Add/Flatten) and
 * suggest --embedding NAME.
 *
 * N stays whatever the input's batch dim is; the shapes pass makes a fixed batch
 * symbolic.
 */
import { InputError, UnsupportedError } from '../errors.js';
import { DType, dtypeName } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import { inferShapes } from '../ir/shape-infer.js';
import { ancestors } from '../ir/traverse.js';
import { extractSubgraph } from '../ir/extract.js';
import type { Value } from '../ir/value.js';
import { embeddingCandidates, findHead, type HeadInfo } from '../analysis/head.js';
import type { Pass, PassOptions, PassReport } from './pass.js';
import { ReportBuilder } from './util.js';

export const EMBEDDING_OUTPUT = 'embedding';

function candidatesHint(g: Graph): string {
  const c = embeddingCandidates(g);
  return c.length
    ? `pass --embedding NAME with one of: ${c.slice(0, 8).join('; ')}${c.length > 8 ? `; ... (${c.length - 8} more)` : ''}`
    : 'pass --embedding NAME with the tensor that holds the raw [N, D] embedding (see `sf2-export inspect`)';
}

function shapeText(v: Value): string {
  return v.shape ? `[${v.shape.map((d) => d ?? '?').join(', ')}]` : 'of unknown shape';
}

/** Make `e` the single output named "embedding"; true if anything changed. */
function setEmbeddingOutput(g: Graph, e: Value): boolean {
  let changed = false;
  if (g.outputs.length !== 1 || g.outputs[0] !== e) {
    g.outputs = [e];
    changed = true;
  }
  if (e.name !== EMBEDDING_OUTPUT) {
    const other = g.value(EMBEDDING_OUTPUT);
    if (other && other !== e) {
      if (other.isGraphInput) throw new UnsupportedError('embedding-name', `the graph input is called "${EMBEDDING_OUTPUT}", the name the output must take`, 'rename the input in the model');
      g.rename(other, g.uniqueName(`${EMBEDDING_OUTPUT}_inner`));
    }
    if (e.uses.some((u) => u.index < 0)) throw new UnsupportedError('embedding-name', `cannot rename ${e.name}: a subgraph refers to it by name`);
    g.rename(e, EMBEDDING_OUTPUT);
    changed = true;
  }
  return changed;
}

function checkEmbedding(g: Graph, e: Value, where: string): void {
  if (e.dtype !== undefined && e.dtype !== DType.FLOAT) {
    throw new UnsupportedError('embedding-dtype', `${where} ${e.name} is ${dtypeName(e.dtype)}, not float32`, candidatesHint(g));
  }
  if (e.shape && e.shape.length !== 2) {
    throw new UnsupportedError('embedding-shape', `${where} ${e.name} is ${shapeText(e)}, not a 2-D [N, D] embedding`, candidatesHint(g));
  }
  if (e.isConst || e.isGraphInput) throw new UnsupportedError('embedding-source', `${where} ${e.name} is a graph input or an initializer`, candidatesHint(g));
}

/** Largest output width that is suspicious by itself (an embedding has 64..2048 dims). */
export const SMALL_EMBEDDING_DIM = 32;
const CLASSIFIER_ENDS = new Set(['Softmax', 'LogSoftmax', 'Sigmoid']);

/**
 * Why the [N, D] output `e` looks like a classifier's, or undefined: a small D
 * (< SMALL_EMBEDDING_DIM), or a Softmax/LogSoftmax/Sigmoid computing it (possibly
 * through a Reshape/Flatten/Identity).
 */
export function looksLikeClassifier(g: Graph, e: Value): string | undefined {
  const why: string[] = [];
  const d = e.shape?.[1];
  if (typeof d === 'number' && d < SMALL_EMBEDDING_DIM) why.push(`only ${d} values per row`);
  let p = e.producer;
  while (p && (p.op === 'Reshape' || p.op === 'Flatten' || p.op === 'Identity')) p = p.inputs[0]?.producer ?? null;
  if (p && CLASSIFIER_ENDS.has(p.op)) why.push(`it is computed by ${p.op}`);
  if (!why.length) return undefined;
  const cands = embeddingCandidates(g).filter((c) => !c.startsWith(`${e.name} `));
  return `the output ${e.name} ${shapeText(e)} looks like a classifier's, not an embedding (${why.join(', ')}): ` +
    `if it is the embedding, ignore this; otherwise export the feature with --embedding NAME${cands.length ? ` (candidates: ${cands.slice(0, 4).join('; ')})` : ''} and confirm with \`sf2-export inspect\``;
}

export const stripHead: Pass<'strip-head'> = {
  name: 'strip-head',
  description: 'cut the graph at the embedding: one float32 [N, D] output named "embedding"; head nodes, label input and class weights removed',
  run(model, options: PassOptions): PassReport<'strip-head'> {
    const g = model.graph;
    const rb = new ReportBuilder('strip-head', ['nodesRemoved', 'initializersRemoved', 'bytesRemoved', 'inputsRemoved', 'outputsRemoved']);
    inferShapes(g);
    const auto = findHead(g);
    let head: HeadInfo;
    if (options.embedding) {
      const e = g.value(options.embedding);
      if (!e) throw new InputError('embedding-missing', `--embedding ${options.embedding}: the model has no tensor of that name`, candidatesHint(g));
      head = findHead(g, options.embedding);
      if (auto.found && auto.classifier && auto.embedding !== options.embedding) {
        const kept = ancestors(g, [e]);
        if ([...kept].some((n) => n.name === auto.classifier)) {
          throw new UnsupportedError('embedding-in-head', `--embedding ${options.embedding} is computed by the class-weight op ${auto.classifier}, so it is not head-free`, `the detected embedding is ${auto.embedding}; ${candidatesHint(g)}`);
        }
      }
    } else head = auto;

    // ---- no head: keep a single [N, D] output as the embedding ----------------------
    if (!options.embedding && !head.found) {
      const outs = g.outputs;
      const only = outs.length === 1 ? outs[0]! : undefined;
      const d = only?.shape?.[1];
      const ok = only && only.dtype === DType.FLOAT && only.shape?.length === 2 && typeof d === 'number' && d > 1 && !only.isGraphInput;
      if (!ok) {
        throw new UnsupportedError(
          'no-embedding',
          `no SphereFace2 head found (${head.reason ?? 'no classifier'}) and the model's output${outs.length === 1 ? '' : 's'} ${outs.map((v) => `${v.name} ${shapeText(v)}`).join(', ')} ${outs.length === 1 ? 'is' : 'are'} not one float32 [N, D] embedding`,
          candidatesHint(g),
        );
      }
      const from = only.name;
      const warning = looksLikeClassifier(g, only);
      const changed = setEmbeddingOutput(g, only);
      rb.skip(from, 'no head: the model already outputs one [N, D] embedding');
      if (warning) rb.skip(from, warning);
      return rb.build(changed, { reason: 'no head', kind: null, description: 'no head', embeddingTensor: from, featureDim: d, classes: null, bytesRemoved: 0, nodesRemoved: 0, ...(warning ? { classifierWarning: warning } : {}) });
    }

    // ---- cut at E ---------------------------------------------------------------------
    const e = g.requireValue(head.embedding!);
    checkEmbedding(g, e, options.embedding ? '--embedding' : 'the embedding');
    const embeddingTensor = e.name;
    const outputsChanged = g.outputs.length !== 1 || g.outputs[0] !== e;
    const c = extractSubgraph(g, [e]);
    const { bytesRemoved, inputsRemoved, outputsRemoved } = c;
    let changed = setEmbeddingOutput(g, e) || outputsChanged;
    rb.add('nodesRemoved', c.nodesRemoved);
    rb.add('initializersRemoved', c.initializersRemoved);
    rb.add('bytesRemoved', bytesRemoved);
    rb.add('inputsRemoved', inputsRemoved.length);
    rb.add('outputsRemoved', outputsRemoved.length);
    if (c.nodesRemoved || c.initializersRemoved || inputsRemoved.length) changed = true;
    if (!e.shape) rb.skip(e.name, 'the embedding shape is unknown here; the shapes pass annotates it');
    if (!changed) rb.skip(e.name, 'no head: nothing downstream of the embedding');
    g.toposort();
    return rb.build(changed, {
      reason: changed ? 'head removed' : 'no head',
      kind: head.kind ?? null,
      description: head.description ?? (changed ? `the nodes after --embedding ${embeddingTensor}` : 'no head'),
      classes: head.classes ?? null,
      featureDim: typeof e.shape?.[1] === 'number' ? e.shape[1] : head.featureDim ?? null,
      weight: head.weight ?? null,
      weightLayout: head.weightLayout ?? null,
      bytesRemoved,
      embeddingTensor,
      normalization: head.normalization ?? null,
      nodesRemoved: c.nodesRemoved,
      inputsRemoved,
      outputsRemoved,
    });
  },
};
