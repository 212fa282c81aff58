/**
 * Reused scratch buffers for streamed reads.
 *
 * On the machines this runs on, the first touch of fresh memory is what costs
 * (about 13 ms per MB on the project's VM: far more than reading the same MB
 * from the page cache), so code that walks a tensor chunk by chunk borrows one
 * of a few long-lived buffers instead of allocating one per chunk or per
 * tensor. A computed tensor reads its source while its own caller holds a
 * buffer, so buffers are kept per nesting level: `withScratch` inside
 * `withScratch` gets a different one. Not re-entrant across async boundaries
 * (nothing here awaits while holding a buffer).
 */
const pool: Uint8Array[] = [];
let depth = 0;

/** Run `fn` with a scratch buffer of exactly `bytes` bytes (contents undefined). */
export function withScratch<T>(bytes: number, fn: (buf: Uint8Array) => T): T {
  const level = depth++;
  try {
    let b = pool[level];
    if (!b || b.byteLength < bytes) b = pool[level] = new Uint8Array(Math.max(bytes, 1 << 20));
    return fn(b.subarray(0, bytes));
  } finally {
    depth--;
  }
}
