/**
 * The tfjs and WebGPU targets' int8 decision (src/quantize/target-int8.ts), run
 * the same way for both: measured on the calibration rows with their PyTorch
 * references and pairs when given, else deterministic synthetic inputs (warned),
 * with the target's own weight round trip; the kept layers and the result logged.
 */
import type { Node } from '../ir/node.js';
import { syntheticInputs, type MeasureInputs } from '../quantize/index.js';
import { decideTargetInt8, type TargetInt8Decision } from '../quantize/target-int8.js';
import type { TargetContext } from './target.js';

export function int8MeasureInputs(ctx: TargetContext, target: string): MeasureInputs {
  const c = ctx.calibration;
  if (!c) {
    const s = syntheticInputs(ctx.model);
    ctx.log.warn(`${target} int8: no calibration data; measuring on ${s.source}`);
    return s;
  }
  const pairs = c.pairs && c.issame && c.issame.length ? { pairs: c.pairs, issame: c.issame } : undefined;
  return { data: c.data, dims: c.dims, reference: c.embeddings, pairs, source: c.source };
}

export interface TargetInt8 {
  readonly target: 'tfjs' | 'webgpu';
  /** The step's label after "<target> int8: ", e.g. 'mixed precision for its per-channel scheme'. */
  readonly step: string;
  readonly scheme: string;
  /** What the target calls a quantized weight in the log, e.g. 'layer(s)', 'kernel(s)'. */
  readonly unit: string;
  /** A node's weight as the target's int8 storage gives it back, in the ONNX layout (null: not quantized). */
  readonly weightOf: (n: Node) => Float32Array | null;
}

/** The nodes that stay float32 in this target's int8 bundle (and the measurements), logged. */
export async function decideInt8For(ctx: TargetContext, t: TargetInt8): Promise<TargetInt8Decision> {
  const end = ctx.log.step(`${t.target} int8: ${t.step}`);
  const d = await decideTargetInt8(ctx.model, int8MeasureInputs(ctx, t.target), t.weightOf, { target: t.target, scheme: t.scheme, sensitivity: ctx.options.sensitivity ?? 'auto', log: ctx.log });
  end(`min cosine ${d.details.result.minCosine.toFixed(6)}; ${d.keep.size} ${t.unit} in float32${d.keep.size ? ` (${[...d.keep].join(', ')})` : ''}`);
  if (!d.details.pass) ctx.log.warn(`${t.target} int8: ${d.details.failure ?? 'thresholds not met'} (see the manifest's target details)`);
  return d;
}
