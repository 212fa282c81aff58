/**
 * Concat along a per-image axis a (ONNX axis a + 1; the batch axis cannot be
 * joined). With outer = prod(shape[:a]), inner = prod(shape[a+1:]), S the output
 * size on a, and input j of size s_j starting at offset off_j:
 *   Y[img, q, off_j + t, r] = X_j[img, q, t, r]
 * One kernel per input (so there is no limit on the number of inputs from the
 * device's storage-buffer bindings), each thread copying one element.
 */
import type { Node } from '../../../ir/node.js';
import type { Act, Layer, OpLayer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import type { Variant } from '../wgsl/common.js';
import { gridKernel, inOut, type KernelOut } from '../wgsl/kernel.js';
import { elementsOf } from './shape.js';

export function check(n: Node): string | undefined {
  if (n.inputs.some((v) => !v)) return 'a missing input';
  return undefined;
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const ins = n.inputs.map((v) => c.acts.get(v!));
  if (ins.some((a) => !a)) return c.fail('a constant input (only activations are joined)');
  const acts = ins as Act[];
  const rank = c.out.shape.length + 1;
  const axis = n.attrInt('axis', 0) < 0 ? n.attrInt('axis', 0) + rank : n.attrInt('axis', 0);
  if (axis === 0) return c.fail('joins along the batch axis');
  const a = axis - 1;
  for (const x of acts) {
    if (x.shape.length !== c.out.shape.length || x.shape.some((d, i) => i !== a && d !== c.out.shape[i])) return c.fail(`input [${x.shape.join(',')}] does not fit the output [${c.out.shape.join(',')}] on axis ${axis}`);
  }
  const total = acts.reduce((s, x) => s + x.shape[a]!, 0);
  if (total !== c.out.shape[a]) return c.fail(`inputs add up to ${total} on axis ${axis}, the output has ${c.out.shape[a]}`);
  const layer: OpLayer = {
    kind: 'op',
    op: 'concat',
    x: acts[0]!,
    inputs: acts,
    out: c.out,
    nodes: [n.name],
    fused: [],
    kernels: (v) => {
      let off = 0;
      return acts.map((x) => {
        const k = copyKernel(x, c.out, a, off, v);
        off += x.shape[a]!;
        return k;
      });
    },
  };
  return layer;
}

function copyKernel(x: Act, out: Act, a: number, off: number, v: Variant): KernelOut {
  const A = v.act;
  const inner = elementsOf(x.shape.slice(a + 1));
  const s = x.shape[a]!, S = out.shape[a]!;
  const per = x.elements;
  return gridKernel({
    v,
    bindings: inOut(x, out, A),
    decls: [`const PER = ${per}u; const OUT_PER = ${out.elements}u; const INNER = ${inner}u; const S_IN = ${s}u; const S_OUT = ${S}u; const OFF = ${off}u;`],
    count: per,
    limit: 'PER',
    body: `  let q = i / (S_IN * INNER);
  let rest = i - q * S_IN * INNER;
  Y[img * OUT_PER + q * S_OUT * INNER + OFF * INNER + rest] = X[img * PER + i];`,
  });
}

export const rule: WebGpuOpRule = {
  constraints: ['activations joined along a per-image axis (not the batch)', 'one copy kernel per input'],
  check,
  lower,
};
