/**
 * Floating-point operations for one image (batch 1), counting a multiply-add
 * as 2 FLOPs, for the ops that dominate these networks:
 *   Conv:   2 * Cout * prod(out spatial) * (Cin / group) * prod(kernel)
 *   Gemm / MatMul: 2 * M * N * K   (M = 1 row per image when the batch is symbolic)
 * Elementwise ops, BN and pooling are ignored (under 1% for these backbones).
 * Needs shapes (run inferShapes first); ops with unknown shapes count 0.
 */
import type { Graph } from '../ir/graph.js';
import type { Dim } from '../ir/value.js';

const one = (d: Dim | undefined): number => (typeof d === 'number' ? d : 1);

export function countFlops(g: Graph): number {
  let total = 0;
  for (const n of g.nodes) {
    if (n.op === 'Conv') {
      const w = n.inputs[1]?.shape, y = n.outputs[0]?.shape;
      if (!w || !y) continue;
      const k = w.slice(2).reduce<number>((a, d) => a * one(d), 1);
      const spatial = y.slice(2).reduce<number>((a, d) => a * one(d), 1);
      total += 2 * one(y[1]) * spatial * one(w[1]) * k;
    } else if (n.op === 'Gemm' || n.op === 'MatMul') {
      const a = n.inputs[0]?.shape, y = n.outputs[0]?.shape;
      if (!a || !y || a.length < 1) continue;
      const transA = n.op === 'Gemm' && n.attrInt('transA', 0) === 1;
      const k = one(transA ? a[a.length - 2] : a[a.length - 1]);
      const outer = y.slice(1).reduce<number>((x, d) => x * one(d), 1) * (typeof y[0] === 'number' && y.length > 2 ? y[0] : 1);
      total += 2 * k * outer;
    }
  }
  return total;
}
