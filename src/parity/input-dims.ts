/**
 * The [n, C, H, W] dims of a batch of n preprocessed inputs, from the
 * contract where its dims are numbers, else from the data (square H = W).
 */
import type { ModelContract } from '../analysis/contract.js';

export function inputDims(contract: ModelContract, length: number, n: number): [number, number, number, number] {
  const [, c0, h0, w0] = contract.input.shape;
  const per = length / n;
  const c = typeof c0 === 'number' ? c0 : 3;
  let h = typeof h0 === 'number' ? h0 : NaN;
  let w = typeof w0 === 'number' ? w0 : NaN;
  if (Number.isNaN(h) && !Number.isNaN(w)) h = per / c / w;
  if (Number.isNaN(w) && !Number.isNaN(h)) w = per / c / h;
  if (Number.isNaN(h) && Number.isNaN(w)) h = w = Math.sqrt(per / c);
  if (!Number.isInteger(per) || c * h * w !== per || !Number.isInteger(h) || !Number.isInteger(w)) {
    throw new Error(`${length} input values are not ${n} rows of [${c}, ${h0 ?? '?'}, ${w0 ?? '?'}]`);
  }
  return [n, c, h, w];
}
