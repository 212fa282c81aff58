/**
 * Gemm and MatMul: Y = alpha * A' B' + beta * C (Gemm), Y = A B (MatMul).
 * A constant B becomes a [K, N] kernel (denseKernel); when A is the flatten of
 * an NHWC map its rows are permuted to the NHWC feature order (layout-math.ts),
 * so no transpose runs. A bias that broadcasts as a length-N vector (Gemm's C,
 * or the constant of an Add after a MatMul) and a following activation
 * (fused.ts) go into one _FusedMatMul.
 */
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { Converter } from '../convert.js';
import { PLAIN } from '../layout.js';
import { tfAttr, type TfAttr } from '../graphdef.js';
import { denseKernel, flatPermutation, permuteRows } from '../layout-math.js';
import { fusedArgs, takeActivation } from './fused.js';
import { T_FLOAT, needConst, type Check, type Lower } from './rule.js';

export const checkGemm: Check = (n) => {
  const r = [...needConst(n, 2, 'bias C')];
  const a = n.inputs[0], b = n.inputs[1];
  if (a?.shape && a.shape.length !== 2) r.push(`input A has rank ${a.shape.length}, Gemm needs 2`);
  if (b?.const && b.const.dims.length !== 2) r.push(`input B has rank ${b.const.dims.length}, Gemm needs 2`);
  return r;
};

/** A bias for a [M, N] output as a length-N vector, if the constant broadcasts that way. */
function biasVector(v: Value | null, nOut: number, scale = 1): Float32Array | undefined {
  if (!v?.const || v.const.dims.length > 2) return undefined;
  const d = [...Array(2 - v.const.dims.length).fill(1), ...v.const.dims] as [number, number];
  if (d[0] !== 1 || (d[1] !== 1 && d[1] !== nOut)) return undefined;
  const data = v.const.float32();
  const out = new Float32Array(nOut);
  for (let i = 0; i < nOut; i++) out[i] = data[data.length === 1 ? 0 : i]! * scale;
  return out;
}

/** Emit a dense layer with a constant [K, N] kernel, absorbing bias and activation where possible. */
function lowerDense(cx: Converter, n: Node, a: Value, kernel: { k: number; n: number; data: Float32Array }, transA: boolean, bias: Float32Array | undefined, out: Value): void {
  const t = cx.tensor(a);
  let aRef: string;
  let data = kernel.data;
  if (t.layout.kind === 'flat' && !transA) {
    aRef = t.ref;
    data = permuteRows(kernel.data, kernel.n, flatPermutation(t.layout.c, t.layout.h, t.layout.w));
  } else aRef = cx.plain(a);
  const kRef = cx.b.constF32(`${n.name}/kernel`, [kernel.k, kernel.n], data, 'kernel', 1);
  const act = takeActivation(out, kernel.n, 2);
  const final = act ? act.out : out;
  const attrs = { ...T_FLOAT, transpose_a: tfAttr.bool(transA), transpose_b: tfAttr.bool(false) };
  let ref: string;
  if (bias || act) {
    const f = fusedArgs(cx, n.name, bias ?? new Float32Array(kernel.n), act);
    ref = cx.b.op(n.name, '_FusedMatMul', [aRef, kRef, ...f.args], { ...attrs, ...f.attrs });
  } else ref = cx.b.op(n.name, 'MatMul', [aRef, kRef], attrs);
  if (act) cx.fused.add(act.node);
  cx.set(final, ref, PLAIN);
}

export const lowerGemm: Lower = (n, cx) => {
  const [a, b, c] = [n.inputs[0]!, n.inputs[1]!, n.inputs[2] ?? null];
  const alpha = n.attrFloat('alpha', 1), beta = n.attrFloat('beta', 1);
  const transA = n.attrInt('transA', 0) === 1, transB = n.attrInt('transB', 0) === 1;
  if (b.const) {
    const kernel = denseKernel(b.const.float32(), b.const.dims, transB, alpha);
    const bias = c ? biasVector(c, kernel.n, beta) : undefined;
    if (!c || bias) return lowerDense(cx, n, a, kernel, transA, bias, n.output(0));
    // A full [M, N] C: dense without bias, then AddV2.
    const tmp = `${n.name}/matmul`;
    const mm = cx.b.op(tmp, 'MatMul', [cx.plain(a), cx.b.constF32(`${n.name}/kernel`, [kernel.k, kernel.n], kernel.data, 'kernel', 1)], { ...T_FLOAT, transpose_a: tfAttr.bool(transA), transpose_b: tfAttr.bool(false) });
    const cData = c.const!.float32().map((x) => x * beta);
    cx.set(n.output(0), cx.b.op(n.name, 'AddV2', [mm, cx.b.constF32(`${n.name}/c`, c.const!.dims, cData, 'param')], T_FLOAT), PLAIN);
    return;
  }
  let ref = cx.b.op(`${n.name}/matmul`, 'MatMul', [cx.plain(a), cx.plain(b)], { ...T_FLOAT, transpose_a: tfAttr.bool(transA), transpose_b: tfAttr.bool(transB) });
  if (alpha !== 1) ref = cx.b.op(`${n.name}/alpha`, 'Mul', [ref, cx.b.constF32(`${n.name}/alpha`, [], Float32Array.of(alpha), 'param')], T_FLOAT);
  if (c) ref = cx.b.op(n.name, 'AddV2', [ref, cx.b.constF32(`${n.name}/c`, c.const!.dims, c.const!.float32().map((x) => x * beta), 'param')], T_FLOAT);
  cx.set(n.output(0), ref, PLAIN);
};

export const checkMatMul: Check = (n) => {
  const a = n.inputs[0], b = n.inputs[1];
  if (!a?.shape || !b?.shape) return ['input shapes must be known'];
  if (a.shape.length < 2 || b.shape.length < 2) return ['1-D MatMul operands are not supported'];
  return [];
};

export const lowerMatMul: Lower = (n, cx) => {
  const a = n.inputs[0]!, b = n.inputs[1]!;
  if (b.const && b.const.dims.length === 2 && a.shape!.length === 2) {
    const kernel = denseKernel(b.const.float32(), b.const.dims, false, 1);
    // MatMul -> Add(constant bias) is a Linear layer: absorb the Add.
    const add = n.output(0).onlyConsumer;
    if (add?.op === 'Add') {
      const other = add.inputs[0] === n.output(0) ? add.inputs[1] : add.inputs[0];
      const bias = other ? biasVector(other, kernel.n) : undefined;
      if (bias && other !== n.output(0)) {
        cx.fused.add(add);
        return lowerDense(cx, n, a, kernel, false, bias, add.output(0));
      }
    }
    return lowerDense(cx, n, a, kernel, false, undefined, n.output(0));
  }
  const op = a.shape!.length === 2 && b.shape!.length === 2 ? 'MatMul' : 'BatchMatMulV2';
  const attrs: Record<string, TfAttr> = op === 'MatMul' ? { transpose_a: tfAttr.bool(false), transpose_b: tfAttr.bool(false) } : { adj_x: tfAttr.bool(false), adj_y: tfAttr.bool(false) };
  cx.set(n.output(0), cx.b.op(n.name, op, [cx.plain(a), cx.plain(b)], { ...T_FLOAT, ...attrs }), PLAIN);
};
