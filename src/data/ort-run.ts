/**
 * Running a model on onnxruntime-node (cpu) for calibration and sensitivity:
 * the quantizer measures, it does not guess. onnxruntime is loaded lazily so
 * the rest of the library does not need it.
 *
 * Graph optimizations are left at onnxruntime's default ('all'): the numbers
 * measured are those a user of the bundle gets (QDQ groups fused into QLinear
 * kernels, float16 islands inserted by onnxruntime itself).
 *
 * A Model is handed to onnxruntime as a file: saveOnnx streams it (lazy weights
 * computed chunk by chunk) into a temporary folder, onnxruntime loads it from
 * there, and the folder is removed. Encoding it into one buffer instead would
 * hold every weight twice more in this process (the materialized tensors and
 * the encoded protobuf) on top of onnxruntime's own copy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveOnnx } from '../onnx/export.js';
import type { Model } from '../ir/model.js';
import { InputError } from '../errors.js';
import { paddedBatches, realRows, runPaddedBatches } from './padded-batches.js';

export { loadOrt } from './ort.js';
import { loadOrt, type Ort } from './ort.js';

export interface Batches {
  /** [N, ...] float32, row-major. */
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface RunOptions {
  /** Rows per run (default 16; a model with a fixed batch dimension always runs that many, the last run zero-padded). */
  readonly batch?: number;
  readonly executionProvider?: 'cpu' | 'webgpu';
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * Run `model` (or its encoded bytes) over all rows of `input`, batch by batch,
 * calling `each` with the named outputs of every batch (float32 only).
 */
export async function forEachBatch(
  model: Model | Uint8Array,
  input: Batches,
  outputs: readonly string[],
  each: (rows: number, values: ReadonlyMap<string, Float32Array>) => void,
  opts: RunOptions = {},
): Promise<void> {
  const ort = await loadOrt();
  const session = await openSession(ort, model, opts);
  try {
    const inputName = session.inputNames[0]!;
    const n = input.dims[0]!;
    // A model with a fixed batch dimension (an export without dynamic axes) runs exactly that
    // many rows at a time, the last run zero-padded (src/data/padded-batches.ts).
    const { batch, fixed } = batching(model instanceof Uint8Array ? undefined : model, opts);
    for (const b of paddedBatches(input.data, n, batch, fixed)) {
      const x = new ort.Tensor('float32', b.data, [b.size, ...input.dims.slice(1)]);
      const res = await session.run({ [inputName]: x }, [...outputs]);
      const m = new Map<string, Float32Array>();
      for (const o of outputs) {
        const t = res[o];
        if (!t || t.type !== 'float32') throw new InputError('onnxruntime', `output ${o} is ${t ? t.type : 'missing'}, expected float32`);
        m.set(o, realRows(t.data as Float32Array, b.rows, b.size));
      }
      each(b.rows, m);
    }
  } finally {
    await session.release();
  }
}

/** All rows of one output, concatenated. */
export async function runEmbeddings(model: Model | Uint8Array, input: Batches, output: string, opts: RunOptions = {}): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  await forEachBatch(model, input, [output], (_rows, v) => parts.push(v.get(output)!.slice()), opts);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Rows per run: a fixed batch dimension of the model's input, else `opts.batch` (default 16). */
function batching(model: Model | undefined, opts: RunOptions): { batch: number; fixed: boolean } {
  const dim = model?.graph.realInputs()[0]?.shape?.[0];
  return typeof dim === 'number' && dim > 0 ? { batch: dim, fixed: true } : { batch: Math.max(1, opts.batch ?? 16), fixed: false };
}

/** A session of `model` (encoded bytes as they are; a Model through a temporary file, see the header). */
async function createSession(ort: Ort, model: Model | Uint8Array, options: import('onnxruntime-node').InferenceSession.SessionOptions): Promise<import('onnxruntime-node').InferenceSession> {
  if (model instanceof Uint8Array) return ort.InferenceSession.create(model, options);
  const dir = mkdtempSync(join(tmpdir(), 'sf2-ort-'));
  try {
    const file = join(dir, 'model.onnx');
    saveOnnx(model, file, { externalData: 'auto' });
    return await ort.InferenceSession.create(file, options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A session for the quantizer's runs (`opts`: provider, optimization level); a refusal is one InputError line. */
async function openSession(ort: Ort, model: Model | Uint8Array, opts: RunOptions): Promise<import('onnxruntime-node').InferenceSession> {
  try {
    return await createSession(ort, model, {
      executionProviders: [opts.executionProvider ?? 'cpu'],
      graphOptimizationLevel: opts.optimization ?? 'all',
      logSeverityLevel: 4, // fatal only: refusals come back as one clean InputError line, not native log lines
    });
  } catch (e) {
    throw new InputError('onnxruntime', `onnxruntime cannot load the model: ${firstLine(e)}`, 'run `sf2-export inspect` on the model; report the bug if it is an exported bundle');
  }
}

function firstLine(e: unknown): string {
  // eslint-disable-next-line no-control-regex
  const m = (e instanceof Error ? e.message : String(e)).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  return m.split('\n')[0]!.slice(0, 300);
}

/** One session for many runs (the sensitivity scan), with extra boolean scalar inputs per run. */
export interface Runner {
  run(input: Batches, output: string, switches?: Readonly<Record<string, boolean>>): Promise<Float32Array>;
  close(): Promise<void>;
}

export async function openRunner(model: Model, opts: RunOptions = {}): Promise<Runner> {
  const ort = await loadOrt();
  const { batch, fixed } = batching(model, opts);
  const inputName = model.graph.realInputs()[0]!.name;
  const session = await openSession(ort, model, opts);
  return {
    async run(input, output, switches = {}) {
      const flags: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const [k, v] of Object.entries(switches)) flags[k] = new ort.Tensor('bool', Uint8Array.of(v ? 1 : 0), []);
      return runPaddedBatches(input.data, input.dims[0]!, batch, fixed, async (data, size) => {
        const x = new ort.Tensor('float32', data, [size, ...input.dims.slice(1)]);
        const res = await session.run({ [inputName]: x, ...flags }, [output]);
        return res[output]!.data as Float32Array;
      });
    },
    async close() {
      await session.release();
    },
  };
}
