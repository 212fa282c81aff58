/**
 * The gather kernel behind Slice, Pad and Resize (nearest): every output
 * coordinate maps to one input coordinate per axis, through a per-axis table
 * computed at export time from the op's attributes:
 *   Y[o] = X[T_0[o_0], ..., T_{r-1}[o_{r-1}]]   if every T_a[o_a] >= 0
 *        = value                                 otherwise (constant padding)
 * An axis whose table is the identity reads o_a directly; the others are stored
 * as f32 in the layer's aux tensor (exact: indices < 2^24). One output element
 * per thread; the grid is (ceil(per-image elements / 256), n).
 */
import type { Act, OpLayer } from '../plan.js';
import { Bindings, f32Literal, type Aux, type Variant } from '../wgsl/common.js';
import { gridKernel, type KernelOut } from '../wgsl/kernel.js';
import { elementsOf, strides, unflatten } from './shape.js';

/** Per axis: the input index of every output index (-1: padding), or null for the identity. */
export type AxisTable = Int32Array | null;

export function isIdentity(t: Int32Array, inDim: number): boolean {
  if (t.length !== inDim) return false;
  for (let i = 0; i < t.length; i++) if (t[i] !== i) return false;
  return true;
}

export function gatherLayer(op: string, node: string, x: Act, out: Act, tables: readonly AxisTable[], value: number): OpLayer {
  return {
    kind: 'op',
    op,
    x,
    inputs: [x],
    out,
    nodes: [node],
    fused: [],
    kernels: (v, aux) => [gatherKernel(x, out, tables, value, v, aux)],
  };
}

function gatherKernel(x: Act, out: Act, tables: readonly AxisTable[], value: number, v: Variant, aux: Aux): KernelOut {
  const A = v.act;
  const os = out.shape, xs = strides(x.shape);
  const per = elementsOf(os);
  const offsets = tables.map((t) => (t ? aux.add(Float32Array.from(t)) : -1));
  const b = new Bindings().add('X', `array<${A}>`, 'read', { kind: 'act', act: x.root.id });
  // The aux binding exists exactly when some axis has a table.
  if (offsets.some((o) => o >= 0)) b.add('AUX', 'array<f32>', 'read', { kind: 'weight', which: 'aux' });
  b.add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: out.id });
  const lines: string[] = [];
  const padded = tables.some((t) => t?.some((i) => i < 0));
  tables.forEach((t, a) => {
    lines.push(offsets[a]! >= 0 ? `  let t${a} = i32(AUX[${offsets[a]}u + o${a}]);` : `  let t${a} = i32(o${a});`);
  });
  const src = tables.map((_, a) => `u32(t${a}) * ${xs[a]}u`).join(' + ') || '0u';
  const ok = tables.map((t, a) => (t?.some((i) => i < 0) ? `t${a} >= 0` : '')).filter(Boolean).join(' && ');
  return gridKernel({
    v,
    bindings: b,
    decls: [`const PER = ${per}u; const IN_PER = ${x.elements}u;`],
    count: per,
    limit: 'PER',
    body: `${unflatten(os, 'i')}
${lines.join('\n')}
${padded ? `  if (!(${ok})) { Y[img * PER + i] = ${A}(${f32Literal(value)}); return; }\n` : ''}  Y[img * PER + i] = X[img * IN_PER + ${src}];`,
  });
}
