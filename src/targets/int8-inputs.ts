/**
 * What the tfjs and WebGPU targets measure their int8 decisions on
 * (src/quantize/target-int8.ts): the calibration rows with their PyTorch
 * references and pairs when given, else deterministic synthetic inputs (warned).
 */
import { syntheticInputs, type MeasureInputs } from '../quantize/index.js';
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
