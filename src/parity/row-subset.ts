/**
 * Reference row subsets, for runs that cannot afford every row.
 *
 *   --rows N            every runtime runs the same N rows (limitReferences).
 *   a software adapter  (SwiftShader, lavapipe: isFallbackAdapter) runs
 *                       budgetRows rows on its GPU runtimes unless --rows is
 *                       given; CPU runtimes and real adapters run every row.
 *
 * The budget on a software adapter, by the model's cost (FLOPs per image, f,
 * from src/analysis/flops.ts; each row runs once, or twice with its flip):
 *
 *   rows = clamp(floor(SOFTWARE_FLOP_BUDGET / (f * runsPerRow)), 1, FALLBACK_ROWS)
 *
 * Measured on SwiftShader (2-core VM, docs/benchmarks.md): sf2.js runs about
 * 0.5 GFLOP/s, so iresnet-100 (24.2 GFLOPs an image) costs ~45 s an image and
 * gets 1 row and its flip (~1.5 min a file); models up to ~6 GFLOPs an image
 * (iresnet-18 at full width, the fixtures) keep the 4 rows with a pair of each kind.
 *
 * The subset keeps pair metrics possible: rows are taken pair by pair,
 * alternating same-identity and different-identity pairs, so a subset of 4
 * rows with pairs holds one pair of each kind. The flips of kept rows stay.
 */
import type { ReferenceSet } from '../data/references.js';

/** Rows a GPU runtime on a software (fallback) adapter runs by default: 4 faces, their flips, a pair of each kind. */
export const FALLBACK_ROWS = 4;

/** FLOPs one GPU runtime on a software adapter spends on one bundle file by default: ~100 s of SwiftShader here. */
export const SOFTWARE_FLOP_BUDGET = 50e9;

/** Rows for a software adapter (see the module comment); FALLBACK_ROWS when the model's cost is not known. */
export function budgetRows(flopsPerImage: number | undefined, runsPerRow: number, fallbackRows = FALLBACK_ROWS): number {
  if (!(flopsPerImage && flopsPerImage > 0)) return fallbackRows;
  return Math.max(1, Math.min(fallbackRows, Math.floor(SOFTWARE_FLOP_BUDGET / (flopsPerImage * runsPerRow))));
}

/**
 * A subset of `rows` reference rows that keeps pair metrics possible: rows are
 * taken pair by pair, alternating same-identity and different-identity pairs,
 * while they fit; then the lowest unused rows fill the rest. The kept rows stay
 * in their original order; the pairs among them are kept and re-indexed.
 */
export function limitReferences(ref: ReferenceSet, rows: number): ReferenceSet {
  return subsetReferences(ref, rows, `${Math.min(rows, ref.dims[0])} of ${ref.dims[0]} rows used (--rows)`).ref;
}

export interface ReferenceSubset {
  readonly ref: ReferenceSet;
  /** The kept rows' indices in the full set, ascending. */
  readonly rows: readonly number[];
  /** The kept pairs' indices in the full set's pair list, ascending. */
  readonly pairs: readonly number[];
}

/** The subset itself, with the indices of the rows and pairs kept (see limitReferences). */
export function subsetReferences(ref: ReferenceSet, rows: number, note: string): ReferenceSubset {
  const [n, c, h, w] = ref.dims;
  if (!(rows > 0) || rows >= n) return { ref, rows: Array.from({ length: n }, (_, i) => i), pairs: Array.from({ length: ref.issame?.length ?? 0 }, (_, i) => i) };
  const d = ref.dim, per = c * h * w;
  const keep = new Set<number>();
  if (ref.pairs && ref.issame) {
    const pos: number[] = [], neg: number[] = [];
    ref.issame.forEach((s, k) => (s ? pos : neg).push(k));
    const order: number[] = [];
    for (let k = 0; k < Math.max(pos.length, neg.length); k++) {
      if (k < pos.length) order.push(pos[k]!);
      if (k < neg.length) order.push(neg[k]!);
    }
    for (const k of order) {
      const a = ref.pairs[2 * k]!, b = ref.pairs[2 * k + 1]!;
      const need = (keep.has(a) ? 0 : 1) + (keep.has(b) || a === b ? 0 : 1);
      if (keep.size + need <= rows) { keep.add(a); keep.add(b); }
      if (keep.size >= rows) break;
    }
  }
  for (let r = 0; r < n && keep.size < rows; r++) keep.add(r);
  const kept = [...keep].sort((x, y) => x - y);
  const index = new Map(kept.map((r, i) => [r, i]));
  const inputs = new Float32Array(kept.length * per);
  const embeddings = new Float32Array(kept.length * d);
  const flip = ref.flipEmbeddings ? new Float32Array(kept.length * d) : undefined;
  kept.forEach((r, i) => {
    inputs.set(ref.inputs.subarray(r * per, (r + 1) * per), i * per);
    embeddings.set(ref.embeddings.subarray(r * d, (r + 1) * d), i * d);
    flip?.set(ref.flipEmbeddings!.subarray(r * d, (r + 1) * d), i * d);
  });
  let pairs: Int32Array | undefined, issame: Uint8Array | undefined;
  const keptPairs: number[] = [];
  if (ref.pairs && ref.issame) {
    const p: number[] = [], s: number[] = [];
    for (let k = 0; k < ref.issame.length; k++) {
      const a = index.get(ref.pairs[2 * k]!), b = index.get(ref.pairs[2 * k + 1]!);
      if (a !== undefined && b !== undefined) { p.push(a, b); s.push(ref.issame[k]!); keptPairs.push(k); }
    }
    if (s.length) { pairs = Int32Array.from(p); issame = Uint8Array.from(s); }
  }
  const sub: ReferenceSet = {
    ...ref,
    description: `${ref.description}; ${note}`,
    inputs,
    dims: [kept.length, c, h, w],
    embeddings,
    ...(flip ? { flipEmbeddings: flip } : {}),
    pairs,
    issame,
  };
  return { ref: sub, rows: kept, pairs: keptPairs };
}
