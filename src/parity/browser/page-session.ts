/**
 * A parity session on a Chromium page, the one shape of the page runners
 * (onnxruntime-web, tfjs in Chromium): load the model on the page (the page is
 * closed when that fails), run rows through it, release the model then close
 * the page (closed even when the release fails).
 *
 * The callbacks hold the `h.evaluate(...)` calls: what runs in the page stays
 * a literal function at each runner.
 */
import type { ModelContract } from '../../analysis/contract.js';
import { inputDims } from '../input-dims.js';
import type { RuntimeSession } from '../runtime.js';
import type { BrowserHarness } from './harness.js';

export interface PageModel {
  load(h: BrowserHarness): Promise<unknown>;
  /** [n, ...] rows in the contract's input dims -> [n, D]. */
  run(h: BrowserHarness, x: Float32Array, dims: [number, number, number, number], n: number): Promise<Float32Array>;
  release(h: BrowserHarness): Promise<unknown>;
}

export async function pageSession(h: BrowserHarness, contract: ModelContract, model: PageModel): Promise<RuntimeSession> {
  try {
    await model.load(h);
  } catch (e) {
    await h.close();
    throw e;
  }
  return {
    run: (input, n) => model.run(h, input, inputDims(contract, input.length, n), n),
    async close() {
      try {
        await model.release(h);
      } finally {
        await h.close();
      }
    },
  };
}
