/**
 * Rows [n, ...] cut into runs of `batch` rows, the one batching rule of every
 * model run (parity sessions, the PyTorch-side references, the quantizer's
 * calibration and sensitivity runs):
 *
 *   run j covers rows [j b, min((j + 1) b, n)), k_j rows of it;
 *   a model whose batch dimension is a number (an export without dynamic
 *   axes) gets exactly b rows every run: the last run is padded with zero
 *   rows up to b, and the outputs of the padded rows are dropped
 *   (y[0 : k_j * |y| / b], outputs leading with the batch dimension).
 *
 * Each run's input is a fresh copy, so no runtime ever sees, or keeps, a
 * view into the caller's rows.
 */

export interface PaddedBatch {
  /** First row of the run in the caller's rows. */
  readonly start: number;
  /** Real rows in the run. */
  readonly rows: number;
  /** Rows the run is given (`rows`, or the fixed batch size with zero rows after them). */
  readonly size: number;
  /** [size, ...] float32: the real rows, then zeros. */
  readonly data: Float32Array;
}

/** The runs over `x` ([n, ...] row-major); `fixed`: every run gets exactly `batch` rows. */
export function* paddedBatches(x: Float32Array, n: number, batch: number, fixed: boolean): Generator<PaddedBatch> {
  if (!(batch >= 1)) throw new RangeError(`batch ${batch}: at least 1 row per run`);
  const per = n ? x.length / n : 0;
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const size = fixed ? batch : rows;
    const data = new Float32Array(size * per);
    data.set(x.subarray(start * per, (start + rows) * per));
    yield { start, rows, size, data };
  }
}

/** The outputs of a run's real rows: the first `rows` of `size` rows of `y` (batch dimension first). */
export function realRows(y: Float32Array, rows: number, size: number): Float32Array {
  if (rows === size) return y;
  if (y.length % size) throw new RangeError(`an output of ${y.length} values does not lead with the batch of ${size} rows`);
  return y.subarray(0, (y.length / size) * rows);
}

/**
 * Run `run` over all rows in padded batches and concatenate the real rows'
 * outputs ([n, D]; D from the first run when not given, then checked on
 * every run).
 */
export async function runPaddedBatches(
  x: Float32Array,
  n: number,
  batch: number,
  fixed: boolean,
  run: (data: Float32Array, size: number) => Promise<Float32Array>,
  opts: { readonly dim?: number; readonly onBatch?: (rows: number) => void } = {},
): Promise<Float32Array> {
  let d = opts.dim;
  let out: Float32Array | undefined = d === undefined ? undefined : new Float32Array(n * d);
  for (const b of paddedBatches(x, n, batch, fixed)) {
    const y = await run(b.data, b.size);
    d ??= Math.floor(y.length / b.size);
    if (y.length !== b.size * d) throw new Error(`returned ${y.length} values for ${b.size} rows, expected ${b.size * d}`);
    out ??= new Float32Array(n * d);
    out.set(y.subarray(0, b.rows * d), b.start * d);
    opts.onBatch?.(b.rows);
  }
  return out ?? new Float32Array(0);
}
