/**
 * Mul, Add, Sub, Div of two activations with numpy broadcasting inside one image
 * (the squeeze-excite gate x[c, h, w] * s[c, 1, 1], HardSwish written as
 * x * HardSigmoid(x), ...). Both operands have the batch first and the same rank;
 * per axis their sizes are equal or one of them is 1. With out the output's
 * coordinates and st_a, st_b each operand's strides (0 on a broadcast axis):
 *   Y[o] = f(A[sum o_k st_a[k]], B[sum o_k st_b[k]]),  f = *, +, -, /  in f32.
 * The same-shape Add stays a residual add that fuses into a convolution
 * (plan.ts); this kernel is for the rest.
 */
import type { Node } from '../../../ir/node.js';
import type { Act, Layer, OpLayer } from '../plan.js';
import { dataInputs } from '../plan.js';
import type { LowerContext } from '../op-table.js';
import { Bindings, type Variant } from '../wgsl/common.js';
import { gridKernel, type KernelOut } from '../wgsl/kernel.js';
import { strides, unflatten } from './shape.js';

const OPS: Readonly<Record<string, string>> = { Mul: '*', Add: '+', Sub: '-', Div: '/' };

/** Both inputs are activations. */
export function isBinary(n: Node): boolean {
  return dataInputs(n).length === 2;
}

export function check(n: Node): string | undefined {
  const [a, b] = n.inputs;
  const ra = a?.shape?.length, rb = b?.shape?.length;
  if (ra !== undefined && rb !== undefined && ra !== rb) return `operands of rank ${ra} and ${rb}: two activations need the same rank (the batch first)`;
  return undefined;
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const a = c.acts.get(n.inputs[0]!), b = c.acts.get(n.inputs[1]!);
  if (!a || !b) return c.fail('an operand is not computed from the model input');
  const os = c.out.shape;
  if (a.shape.length !== os.length || b.shape.length !== os.length) return c.fail(`operands [${a.shape.join(',')}] and [${b.shape.join(',')}] per image: the same rank is needed`);
  for (let k = 0; k < os.length; k++) {
    for (const x of [a, b]) if (x.shape[k] !== os[k] && x.shape[k] !== 1) return c.fail(`[${a.shape.join(',')}] and [${b.shape.join(',')}] do not broadcast on axis ${k + 1}`);
  }
  const layer: OpLayer = {
    kind: 'op',
    op: 'binary',
    x: a,
    inputs: [a, b],
    out: c.out,
    nodes: [n.name],
    fused: [n.op.toLowerCase()],
    kernels: (v) => [binaryKernel(OPS[n.op]!, a, b, c.out, v)],
  };
  return layer;
}

/** WGSL index expression of an operand of shape s broadcast to the output shape os. */
function indexOf(s: readonly number[], os: readonly number[]): string {
  if (s.join(',') === os.join(',')) return 'i';
  const st = strides(s);
  const terms = s.map((d, k) => (d === 1 ? '' : `o${k} * ${st[k]}u`)).filter(Boolean);
  return terms.length ? terms.join(' + ') : '0u';
}

function binaryKernel(op: string, a: Act, b: Act, out: Act, v: Variant): KernelOut {
  const A = v.act;
  const bind = new Bindings()
    .add('XA', `array<${A}>`, 'read', { kind: 'act', act: a.root.id })
    .add('XB', `array<${A}>`, 'read', { kind: 'act', act: b.root.id })
    .add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: out.id });
  const per = out.elements;
  return gridKernel({
    v,
    bindings: bind,
    decls: [`const PER = ${per}u; const PA = ${a.elements}u; const PB = ${b.elements}u;`],
    count: per,
    limit: 'PER',
    body: `${unflatten(out.shape, 'i')}
  let va = f32(XA[img * PA + ${indexOf(a.shape, out.shape)}]);
  let vb = f32(XB[img * PB + ${indexOf(b.shape, out.shape)}]);
  Y[img * PER + i] = ${A}(va ${op} vb);`,
  });
}
