/**
 * Fully connected layer (Gemm / MatMul with a constant weight):
 *   Y[n, d] = epi( sum_k X[n, k] * W[d, k] )
 * W is stored row-major [Dpad][Kpad] as quads of 4 consecutive k (Dpad, Kpad: multiples
 * of 4, zero-filled). Face embeddings are computed for a handful of images, so this
 * is a matrix-vector product bound by reading W: a workgroup of 64 threads owns 4
 * outputs x 4 images; its threads stride over K (consecutive threads read
 * consecutive quads: coalesced), and a tree reduction in workgroup memory sums their
 * partial dot products. W is read once per 4 images.
 */
import type { FcLayer } from '../plan.js';
import { Aux, Bindings, bindEpilogue, ceilDiv, epilogue, header, weightArrayType, weightHelpers, weightQuad, type Variant } from './common.js';
import { fixed, perBatch, type KernelOut } from './kernel.js';

const WG = 64;
const OD = 4;
const NB = 4;

export function fcKernel(l: FcLayer, v: Variant, aux: Aux, dequant: Float32Array | null): KernelOut {
  const A = v.act;
  const kq = ceilDiv(l.k, 4);
  const vecX = l.k % 4 === 0;
  const b = new Bindings()
    .add('X', vecX ? `array<vec4<${A}>>` : `array<${A}>`, 'read', { kind: 'act', act: l.x.id })
    .add('W', weightArrayType(v), 'read', { kind: 'weight', which: 'w' });
  const epi = epilogue({ dequant, bias: l.bias, ops: l.epi }, aux, A);
  bindEpilogue(b, epi, l.epi, A);
  b.add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: l.out.id });

  const loadX = (r: number) =>
    vecX
      ? `X[(n0 + ${r}u) * KQ + q]`
      : `vec4<${A}>(${[0, 1, 2, 3].map((c) => `select(${A}(0.0), X[(n0 + ${r}u) * K + q * 4u + ${c}u], q * 4u + ${c}u < K)`).join(', ')})`;
  const acc: string[] = [];
  for (let r = 0; r < NB; r++) acc.push(`  var a${r} = vec4<f32>(0.0);`);
  const loop: string[] = [];
  for (let j = 0; j < OD; j++) loop.push(`    let w${j} = ${weightQuad(v, 'W', `(d0 + ${j}u) * KQ + q`)};`);
  for (let r = 0; r < NB; r++) {
    loop.push(`    if (n0 + ${r}u < P.n) {`);
    loop.push(`      let x = ${loadX(r)};`);
    loop.push(`      a${r} = a${r} + vec4<f32>(f32(dot(x, w0)), f32(dot(x, w1)), f32(dot(x, w2)), f32(dot(x, w3)));`);
    loop.push('    }');
  }
  const code = `${header(v)}
${b.code()}
${weightHelpers(v)}
const K = ${l.k}u; const KQ = ${kq}u; const D = ${l.d}u; const WG = ${WG}u;
var<workgroup> red: array<vec4<f32>, ${NB * WG}>;
${epi.code}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let d0 = wg.x * ${OD}u;
  let n0 = wg.y * ${NB}u;
${acc.join('\n')}
  for (var q = tid; q < KQ; q = q + WG) {
${loop.join('\n')}
  }
${Array.from({ length: NB }, (_, r) => `  red[${r}u * WG + tid] = a${r};`).join('\n')}
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (tid < s) {
${Array.from({ length: NB }, (_, r) => `      red[${r}u * WG + tid] = red[${r}u * WG + tid] + red[${r}u * WG + tid + s];`).join('\n')}
    }
    workgroupBarrier();
  }
  if (tid < ${NB * OD}u) {
    let r = tid / ${OD}u;
    let j = tid % ${OD}u;
    let n = n0 + r;
    let d = d0 + j;
    if (n < P.n && d < D) {
      let idx = n * D + d;
      Y[idx] = ${A}(epi(red[r * WG][j], d, idx));
    }
  }
}`;
  return { code, bindings: b, dispatch: { x: fixed(ceilDiv(l.d, OD)), y: perBatch(1, NB), z: fixed(1) } };
}
