/**
 * Cast cleanup, as rules (each applies to one Cast node; repeat until none do):
 *
 *   Cast(x, to=T), x:T                      -> x                  (no-op cast)
 *   Cast(Cast(x, to=B), to=A), x:S, S->B exact
 *                                           -> Cast(x, to=A)      (pair / chain: the
 *                                              inner widening loses nothing, so it can go;
 *                                              with A = S the pair disappears)
 *   Cast(x, to=A) twice                     -> one Cast           (duplicates)
 *
 * A narrowing inside a chain (float32 -> float16 -> float32) is NOT removed:
 * it rounds, and removing it would change the numbers (the fp16 emulation
 * relies on that).
 */
import { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';

/** S -> B conversions that are exact for every value of S. */
const EXACT_WIDENING: Readonly<Record<number, readonly number[]>> = {
  [DType.FLOAT16]: [DType.FLOAT, DType.DOUBLE],
  [DType.BFLOAT16]: [DType.FLOAT, DType.DOUBLE],
  [DType.FLOAT]: [DType.DOUBLE],
  [DType.INT8]: [DType.INT16, DType.INT32, DType.INT64, DType.FLOAT16, DType.FLOAT, DType.DOUBLE],
  [DType.UINT8]: [DType.INT16, DType.UINT16, DType.INT32, DType.UINT32, DType.INT64, DType.UINT64, DType.FLOAT16, DType.FLOAT, DType.DOUBLE],
  [DType.INT16]: [DType.INT32, DType.INT64, DType.FLOAT, DType.DOUBLE],
  [DType.INT32]: [DType.INT64, DType.DOUBLE],
};

function castTo(n: Node): number | undefined {
  return n.op === 'Cast' && (n.domain === '' || n.domain === 'ai.onnx') ? n.attrInt('to') : undefined;
}

/** Apply the rules until nothing changes; returns how many Casts went away. */
export function simplifyCasts(g: Graph): number {
  const count = () => g.nodes.filter((n) => castTo(n) !== undefined).length;
  const before = count();
  for (let changed = true; changed; ) {
    changed = false;
    const seen = new Map<string, Node>();
    for (const n of [...g.nodes]) {
      const to = castTo(n);
      const x = n.inputs[0];
      if (to === undefined || !x || !g.nodes.includes(n)) continue;
      // Chain: skip an exact inner widening.
      const inner = x.producer;
      const innerTo = inner ? castTo(inner) : undefined;
      const src = inner?.inputs[0];
      if (inner && innerTo !== undefined && src && src.dtype !== undefined && EXACT_WIDENING[src.dtype]?.includes(innerTo)) {
        n.setInput(0, src);
        changed = true;
        continue;
      }
      // No-op.
      if (x.dtype === to) {
        g.bypass(n, x);
        changed = true;
        continue;
      }
      // Duplicate.
      const key = `${x.name}\u0000${to}`;
      const first = seen.get(key);
      if (first && !n.output(0).isGraphOutput) {
        n.output(0).replaceAllUsesWith(first.output(0));
        g.removeNode(n);
        changed = true;
        continue;
      }
      seen.set(key, n);
    }
    g.cleanup();
  }
  return before - count();
}
