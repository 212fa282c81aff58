/**
 * Dead-code elimination: keep the nodes from which a graph output can be
 * reached; drop the rest, then drop values (and initializers) nothing uses.
 * Graph outputs and graph inputs are never removed (an unused input is part of
 * the model's signature; strip-head removes a label input on purpose).
 */
import type { Graph } from './graph.js';
import { ancestors } from './traverse.js';

export interface CleanupReport {
  readonly nodesRemoved: number;
  readonly initializersRemoved: number;
  readonly initializerBytesRemoved: number;
}

export function cleanupGraph(g: Graph): CleanupReport {
  const live = ancestors(g, g.outputs);
  let nodesRemoved = 0;
  for (const n of [...g.nodes]) {
    if (!live.has(n)) {
      g.removeNode(n);
      nodesRemoved++;
    }
  }
  let initializersRemoved = 0;
  let initializerBytesRemoved = 0;
  for (const v of [...g.allValues()]) {
    if (v.uses.length || v.producer || v.isGraphInput || v.isGraphOutput) continue;
    if (v.const) {
      initializersRemoved++;
      initializerBytesRemoved += v.const.byteLength;
    }
    g.deleteValue(v);
  }
  return { nodesRemoved, initializersRemoved, initializerBytesRemoved };
}
