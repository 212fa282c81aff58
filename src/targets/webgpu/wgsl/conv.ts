/**
 * Convolution as an implicit GEMM, generated for one layer's exact shapes.
 *
 *   Y[m, co] = epi( sum_k A[m, k] * B[k, co] )
 *   m  = (image, oh, ow) flattened over the batch:  M = n * OH * OW
 *   k  = (ci, kh, kw):                               K = Cin * KH * KW
 *   A[m, k] = pro(X[image, ci, oh*SH - PT + kh, ow*SW - PL + kw])  (0 outside the image)
 *   B[k, co] = W[co, ci, kh, kw]  stored as quads of 4 output channels: B[k][co/4]
 *
 * A workgroup of 64 threads computes a TM x TN tile of Y (TM = TX*RM pixels,
 * TN = 4*TY*RNQ channels); each thread owns RM pixels x RNQ quads (strided by TX and
 * TY so global reads and writes stay coalesced). Per K step the workgroup stages a
 * TK x TM slice of A and a TK x TN slice of B in workgroup memory, then every
 * thread does RM*RNQ vec4 multiply-adds per k, in f32. With f16 arithmetic the
 * products are summed in f16 over one K step (TK terms) and then added to f32
 * accumulators.
 *
 * Split-K (layers with few output tiles and long K, the 7x7 and 14x14 stages): the
 * z dimension of the grid splits K into S chunks that write f32 partial sums to a
 * scratch buffer [S][n][Cout][OH*OW]; a second kernel adds them and applies the
 * epilogue.
 *
 * Grouped convolutions (group > 1) use a direct kernel: one output per thread.
 */
import type { ConvLayer } from '../plan.js';
import { Aux, Bindings, bindEpilogue, ceilDiv, epilogue, header, weightArrayType, weightHelpers, weightQuad, type Variant } from './common.js';
import { fixed, gridKernel, perBatch, type KernelOut } from './kernel.js';

export interface Tile {
  /** 'direct': few output channels, no workgroup memory (see directConv); 'tiled': the implicit GEMM. */
  readonly kind: 'direct' | 'tiled';
  readonly tx: number;
  readonly ty: number;
  readonly rm: number;
  readonly rnq: number;
  readonly tk: number;
  readonly splitK: number;
}

/** Threads per workgroup. 64 keeps workgroup barriers cheap (SwiftShader pays per invocation) and is a good size on GPUs. */
export const WG_THREADS = 64;
/** Workgroups we aim for at batch 1 (several per compute unit of a large GPU). */
const TARGET_WORKGROUPS = 128;
/** Workgroup memory we allow ourselves (the WebGPU default limit). */
const SHARED_BYTES = 16384;
/** Layers with at most this many output quads (32 channels) use the direct kernel. */
const DIRECT_MAX_QUADS = 8;

/** Choose the tile for a layer from its shapes (the batch is unknown: plan for batch 1). */
export function chooseTile(l: ConvLayer): Tile {
  const coutQ = ceilDiv(l.cout, 4);
  const pixels = l.oh * l.ow;
  const k = l.cin * l.kh * l.kw;
  if (coutQ <= DIRECT_MAX_QUADS) {
    // One thread: RM pixels x every output channel; RM*COUTQ <= 8 vec4 accumulators.
    let rm = Math.max(1, Math.min(4, Math.floor(8 / coutQ)));
    while (rm > 1 && ceilDiv(pixels, WG_THREADS * rm) < TARGET_WORKGROUPS) rm /= 2;
    rm = Math.max(1, Math.floor(rm));
    return { kind: 'direct', tx: WG_THREADS, ty: 1, rm, rnq: coutQ, tk: 1, splitK: 1 };
  }
  let ty = 1;
  while (ty < 8 && ty < coutQ) ty *= 2;
  const tx = WG_THREADS / ty;
  let rnq = ty === 8 && coutQ >= 16 ? 2 : 1;
  let rm = 4;
  const tk = 32;
  const groups = () => ceilDiv(pixels, tx * rm) * ceilDiv(coutQ, ty * rnq);
  // f32 staging (the f16 variant needs half): A tile TK x TM scalars + B tile TK x TNQ quads.
  while (rm > 1 && (tx * rm > 128 || tk * tx * rm * 4 + tk * ty * rnq * 16 > SHARED_BYTES)) rm /= 2;
  while (groups() < TARGET_WORKGROUPS && rm > 1) rm /= 2;
  while (groups() < TARGET_WORKGROUPS && rnq > 1) rnq /= 2;
  // Split K when the output tiles alone cannot fill the GPU and each chunk keeps >= 256 terms.
  let splitK = 1;
  if (groups() < TARGET_WORKGROUPS / 2) {
    while (groups() * splitK < TARGET_WORKGROUPS && k / (splitK * 2) >= 256 && splitK < 16) splitK *= 2;
  }
  return { kind: 'tiled', tx, ty, rm, rnq, tk, splitK };
}

function chunkK(l: ConvLayer, t: Tile): number {
  const k = l.cin * l.kh * l.kw;
  return ceilDiv(ceilDiv(k, t.splitK), t.tk) * t.tk;
}

/** The implicit-GEMM kernel (and, with split-K, the reduction kernel after it). */
export function convKernels(l: ConvLayer, v: Variant, aux: Aux, t: Tile, dequant: Float32Array | null): KernelOut[] {
  if (l.group !== 1) return [groupedConv(l, v, aux, dequant)];
  if (t.kind === 'direct') return [directConv(l, v, aux, t, dequant)];
  const A = v.act;
  const T = WG_THREADS;
  const { tx, ty, rm, rnq, tk, splitK } = t;
  const tm = tx * rm, tnq = ty * rnq;
  const K = l.cin * l.kh * l.kw;
  const KHW = l.kh * l.kw;
  const coutQ = ceilDiv(l.cout, 4);
  const OHW = l.oh * l.ow;
  const kChunk = chunkK(l, t);
  // f16 arithmetic: products summed in f16 over one K tile, then added to f32.
  const chunked = A === 'f16';

  // Epilogue here, or (split-K) in the reduction kernel.
  const { b, proScale, proShift, epi } = convBindings(l, v, aux, dequant, splitK > 1);

  const lines: string[] = [header(v), b.code(), weightHelpers(v)];
  lines.push(`const H = ${l.h}u; const W_ = ${l.w}u; const HW = ${l.h * l.w}u; const CIN = ${l.cin}u;
const KW = ${l.kw}u; const KHW = ${KHW}u; const SH = ${l.sh}u; const SW = ${l.sw}u; const PT = ${l.pt}; const PL = ${l.pl};
const OW = ${l.ow}u; const OHW = ${OHW}u; const COUT = ${l.cout}u; const COUTQ = ${coutQ}u; const K = ${K}u; const KCHUNK = ${kChunk}u;
const TX = ${tx}u; const TY = ${ty}u; const TM = ${tm}u; const TNQ = ${tnq}u; const TK = ${tk}u;
var<workgroup> As: array<${A}, ${tk * tm}>;
var<workgroup> Bs: array<vec4<${A}>, ${tk * tnq}>;`);
  if (epi) lines.push(epi.code);

  // A loader: thread owns tile columns (tid % AC) + T*c for c < ACOLS, rows (tid / AC) + j*AROWS.
  const ac = Math.min(tm, T);
  const acols = tm / ac;
  const arowStep = T / ac;
  const aLoads = tk / arowStep;
  const bLoads = ceilDiv(tk * tnq, T);
  // The tap of k: its decomposition (ci, kh, kw) depends on k only (shared by all columns),
  // the input row and column on the column c too.
  const tapK = KHW === 1 ? ['let ci = k;'] : ['let ci = k / KHW;', 'let r = k - ci * KHW;', 'let kh = r / KW;'];
  const tapC = (c: number) => (KHW === 1 ? [`let ih = ih0_${c};`, `let iw = iw0_${c};`] : [`let ih = ih0_${c} + i32(kh);`, `let iw = iw0_${c} + i32(r - kh * KW);`]);
  const needsBounds = !(l.pt === 0 && l.pl === 0 && (l.oh - 1) * l.sh + l.kh <= l.h && (l.ow - 1) * l.sw + l.kw <= l.w);
  let pro = 'xv';
  if (proScale >= 0 && proShift >= 0) pro = `${A}(fma(f32(xv), AUX[${proScale}u + ci], AUX[${proShift}u + ci]))`;
  else if (proScale >= 0) pro = `${A}(f32(xv) * AUX[${proScale}u + ci])`;
  else if (proShift >= 0) pro = `${A}(f32(xv) + AUX[${proShift}u + ci])`;

  const body: string[] = [];
  body.push(`@compute @workgroup_size(${T})
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let M = P.n * OHW;
  let m0 = wg.x * TM;
  let q0 = wg.y * TNQ;
  let kBegin = wg.z * KCHUNK;
  let kEnd = min(K, kBegin + KCHUNK);
  let tx = tid % TX;
  let ty = tid / TX;
  let ak = tid / ${ac}u;`);
  for (let c = 0; c < acols; c++) {
    body.push(`  let am_${c} = tid % ${ac}u + ${c * ac}u;
  let gm_${c} = m0 + am_${c};
${pixelOrigin({ m: `gm_${c}`, ok: `aok_${c}`, img: `img_${c}`, pix: `pix_${c}`, oh: `oh_${c}`, xb: `xb_${c}` }, c)}`);
  }
  for (let i = 0; i < rm; i++) for (let j = 0; j < rnq; j++) body.push(`  var acc${i}_${j} = vec4<f32>(0.0);`);
  body.push('  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + TK) {');
  for (let j = 0; j < aLoads; j++) {
    body.push('    {');
    body.push(`      let kr = ak + ${j * arowStep}u;`);
    body.push('      let k = k0 + kr;');
    body.push('      let kin = k < kEnd;');
    body.push(...tapK.map((x) => `      ${x}`));
    for (let c = 0; c < acols; c++) {
      body.push('      {');
      body.push(`        var a = ${A}(0.0);`);
      body.push(`        if (kin && aok_${c}) {`);
      body.push(...tapC(c).map((x) => `          ${x}`));
      const load = [`let xv = X[xb_${c} + ci * HW + u32(ih) * W_ + u32(iw)];`, `a = ${pro};`];
      if (needsBounds) {
        body.push('          if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W_)) {');
        body.push(...load.map((x) => `            ${x}`));
        body.push('          }');
      } else body.push(...load.map((x) => `          ${x}`));
      body.push('        }');
      body.push(`        As[kr * TM + am_${c}] = a;`);
      body.push('      }');
    }
    body.push('    }');
  }
  for (let j = 0; j < bLoads; j++) {
    const guard = (j + 1) * T > tk * tnq;
    body.push('    {');
    body.push(`      let e = tid + ${j * T}u;`);
    body.push('      let k = k0 + e / TNQ;');
    body.push('      let gq = q0 + e % TNQ;');
    body.push(`      var bq = vec4<${A}>(0.0);`);
    body.push(`      if (k < kEnd && gq < COUTQ) { bq = ${weightQuad(v, 'W', 'k * COUTQ + gq')}; }`);
    body.push(guard ? `      if (e < ${tk * tnq}u) { Bs[e] = bq; }` : '      Bs[e] = bq;');
    body.push('    }');
  }
  body.push('    workgroupBarrier();');
  const target = (i: number, j: number) => (chunked ? `c${i}_${j}` : `acc${i}_${j}`);
  if (chunked) for (let i = 0; i < rm; i++) for (let j = 0; j < rnq; j++) body.push(`    var c${i}_${j} = vec4<${A}>(0.0);`);
  body.push('    for (var kk = 0u; kk < TK; kk = kk + 1u) {');
  for (let i = 0; i < rm; i++) body.push(`      let a${i} = vec4<${A}>(As[kk * TM + tx + ${i * tx}u]);`);
  for (let j = 0; j < rnq; j++) body.push(`      let b${j} = Bs[kk * TNQ + ty + ${j * ty}u];`);
  for (let i = 0; i < rm; i++) for (let j = 0; j < rnq; j++) body.push(`      ${target(i, j)} = fma(a${i}, b${j}, ${target(i, j)});`);
  body.push('    }');
  if (chunked) for (let i = 0; i < rm; i++) for (let j = 0; j < rnq; j++) body.push(`    acc${i}_${j} = acc${i}_${j} + vec4<f32>(c${i}_${j});`);
  body.push('    workgroupBarrier();');
  body.push('  }');
  // Write-out: for a fixed channel, consecutive tx write consecutive pixels.
  for (let i = 0; i < rm; i++) {
    body.push('  {');
    body.push(`    let m = m0 + tx + ${i * tx}u;`);
    body.push('    if (m < M) {');
    body.push('      let im = m / OHW;');
    body.push('      let p = m - im * OHW;');
    for (let j = 0; j < rnq; j++) {
      body.push(`      let oq${j} = q0 + ty + ${j * ty}u;`);
      body.push(`      if (oq${j} < COUTQ) {`);
      for (let c = 0; c < 4; c++) {
        const co = `oq${j} * 4u + ${c}u`;
        const pre = l.cout % 4 !== 0 && c > 0 ? `        if (${co} < COUT) { ` : '        { ';
        if (splitK === 1) body.push(`${pre}let co = ${co}; let idx = (im * COUT + co) * OHW + p; Y[idx] = ${A}(epi(acc${i}_${j}[${c}], co, idx)); }`);
        else body.push(`${pre}let co = ${co}; S[((wg.z * P.n + im) * COUT + co) * OHW + p] = acc${i}_${j}[${c}]; }`);
      }
      body.push('      }');
    }
    body.push('    }');
    body.push('  }');
  }
  body.push('}');
  lines.push(body.join('\n'));

  const main: KernelOut = {
    code: lines.filter((x) => x !== '').join('\n'),
    bindings: b,
    dispatch: { x: perBatch(OHW, tm), y: fixed(ceilDiv(coutQ, tnq)), z: fixed(splitK) },
  };
  if (splitK === 1) return [main];
  return [main, splitReduce(l, v, aux, splitK, dequant)];
}

/**
 * Direct convolution for layers with few output channels (<= 32): a thread owns RM
 * pixels (strided by 64 for coalescing) and all output quads; it walks
 * (ci, kh, kw) in nested loops (no index division), reads its input taps straight
 * from memory and the weight quads that every thread of the workgroup reads alike.
 * No workgroup memory, no barriers: with so few channels a staged tile would be
 * mostly padding.
 */
function directConv(l: ConvLayer, v: Variant, aux: Aux, t: Tile, dequant: Float32Array | null): KernelOut {
  const A = v.act;
  const T = WG_THREADS;
  const rm = t.rm;
  const coutQ = ceilDiv(l.cout, 4);
  const OHW = l.oh * l.ow;
  const { b, proScale, proShift, epi } = convBindings(l, v, aux, dequant, false);
  const needsBounds = !(l.pt === 0 && l.pl === 0 && (l.oh - 1) * l.sh + l.kh <= l.h && (l.ow - 1) * l.sw + l.kw <= l.w);
  const pro = (xv: string) => {
    if (proScale >= 0 && proShift >= 0) return `fma(f32(${xv}), AUX[${proScale}u + ci], AUX[${proShift}u + ci])`;
    if (proScale >= 0) return `(f32(${xv}) * AUX[${proScale}u + ci])`;
    if (proShift >= 0) return `(f32(${xv}) + AUX[${proShift}u + ci])`;
    return `f32(${xv})`;
  };
  const body: string[] = [];
  for (let i = 0; i < rm; i++) {
    body.push(`  let m${i} = mbase + tid + ${i * T}u;
${pixelOrigin({ m: `m${i}`, ok: `ok${i}`, img: `im${i}`, pix: `p${i}`, oh: `oh${i}`, xb: `xb${i}` }, i)}`);
    for (let j = 0; j < coutQ; j++) body.push(`  var acc${i}_${j} = vec4<f32>(0.0);`);
  }
  body.push('  for (var ci = 0u; ci < CIN; ci = ci + 1u) {');
  body.push('    for (var kh = 0u; kh < KH; kh = kh + 1u) {');
  body.push('      for (var kw = 0u; kw < KW; kw = kw + 1u) {');
  body.push('        let k = (ci * KH + kh) * KW + kw;');
  for (let j = 0; j < coutQ; j++) body.push(`        let w${j} = vec4<f32>(${weightQuad(v, 'W', `k * COUTQ + ${j}u`)});`);
  for (let i = 0; i < rm; i++) {
    body.push(`        {
          let ih = ih0_${i} + i32(kh);
          let iw = iw0_${i} + i32(kw);
          var a = 0.0;
          if (ok${i}${needsBounds ? ' && ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W_)' : ''}) { a = ${pro(`X[xb${i} + ci * HW + u32(ih) * W_ + u32(iw)]`)}; }`);
    for (let j = 0; j < coutQ; j++) body.push(`          acc${i}_${j} = fma(vec4<f32>(a), w${j}, acc${i}_${j});`);
    body.push('        }');
  }
  body.push('      }', '    }', '  }');
  for (let i = 0; i < rm; i++) {
    body.push(`  if (ok${i}) {`);
    for (let j = 0; j < coutQ; j++) {
      for (let c = 0; c < 4; c++) {
        if (j * 4 + c >= l.cout) continue;
        body.push(`    { let co = ${j * 4 + c}u; let idx = (im${i} * COUT + co) * OHW + p${i}; Y[idx] = ${A}(epi(acc${i}_${j}[${c}], co, idx)); }`);
      }
    }
    body.push('  }');
  }
  const code = `${header(v)}
${b.code()}
${weightHelpers(v)}
const H = ${l.h}u; const W_ = ${l.w}u; const HW = ${l.h * l.w}u; const CIN = ${l.cin}u; const KH = ${l.kh}u; const KW = ${l.kw}u;
const SH = ${l.sh}u; const SW = ${l.sw}u; const PT = ${l.pt}; const PL = ${l.pl};
const OW = ${l.ow}u; const OHW = ${OHW}u; const COUT = ${l.cout}u; const COUTQ = ${coutQ}u;
${epi.code}
@compute @workgroup_size(${T})
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let M = P.n * OHW;
  let mbase = wg.x * ${T * rm}u;
${body.join('\n')}
}`;
  return { code: code.split('\n').filter((x) => x !== '').join('\n'), bindings: b, dispatch: { x: perBatch(OHW, T * rm), y: fixed(1), z: fixed(1) } };
}

/**
 * WGSL lines for output pixel m = (img, oh, ow) of the batch (M = n * OHW pixels):
 * whether it exists (ok), its image and pixel, the input tap of its window's top-left
 * corner (ih0_<s>, iw0_<s>, before padding is checked) and its image's offset in X.
 */
function pixelOrigin(n: { m: string; ok: string; img: string; pix: string; oh: string; xb: string }, s: number): string {
  return `  let ${n.ok} = ${n.m} < M;
  let ${n.img} = ${n.m} / OHW;
  let ${n.pix} = ${n.m} - ${n.img} * OHW;
  let ${n.oh} = ${n.pix} / OW;
  let ih0_${s} = i32(${n.oh} * SH) - PT;
  let iw0_${s} = i32((${n.pix} - ${n.oh} * OW) * SW) - PL;
  let ${n.xb} = ${n.img} * (CIN * HW);`;
}

/**
 * A convolution kernel's bindings, in order: X, W, AUX (when the prologue or the
 * epilogue reads parameters), R (a residual), then Y, or with `split` (split-K
 * partial sums, epilogue left to the reduction) the f32 scratch S. The prologue's
 * scale and shift go into aux first (offsets proScale, proShift; -1: none).
 */
interface ConvBindings<E> { readonly b: Bindings; readonly proScale: number; readonly proShift: number; readonly epi: E }
type Epilogue = ReturnType<typeof epilogue>;
function convBindings(l: ConvLayer, v: Variant, aux: Aux, dequant: Float32Array | null, split: false): ConvBindings<Epilogue>;
function convBindings(l: ConvLayer, v: Variant, aux: Aux, dequant: Float32Array | null, split: boolean): ConvBindings<Epilogue | null>;
function convBindings(l: ConvLayer, v: Variant, aux: Aux, dequant: Float32Array | null, split: boolean): ConvBindings<Epilogue | null> {
  const A = v.act;
  const b = new Bindings()
    .add('X', `array<${A}>`, 'read', { kind: 'act', act: l.x.id })
    .add('W', weightArrayType(v), 'read', { kind: 'weight', which: 'w' });
  const proScale = l.prologue?.scale ? aux.add(l.prologue.scale) : -1;
  const proShift = l.prologue?.shift ? aux.add(l.prologue.shift) : -1;
  const epi = split ? null : epilogueFor(l, v, aux, dequant);
  bindEpilogue(b, epi ?? { aux: false, residual: false }, l.epi, A, proScale >= 0 || proShift >= 0);
  if (split) b.add('S', 'array<f32>', 'read_write', { kind: 'scratch' });
  else b.add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: l.out.id });
  return { b, proScale, proShift, epi };
}

function epilogueFor(l: ConvLayer, v: Variant, aux: Aux, dequant: Float32Array | null) {
  return epilogue({ dequant, bias: l.bias, ops: l.epi }, aux, v.act);
}

/** Sum the split-K partials and apply the epilogue: one output element per thread. */
function splitReduce(l: ConvLayer, v: Variant, aux: Aux, splitK: number, dequant: Float32Array | null): KernelOut {
  const A = v.act;
  const OHW = l.oh * l.ow;
  const per = l.cout * OHW;
  const b = new Bindings().add('S', 'array<f32>', 'read', { kind: 'scratch' });
  const epi = epilogueFor(l, v, aux, dequant);
  bindEpilogue(b, epi, l.epi, A);
  b.add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: l.out.id });
  const sums = Array.from({ length: splitK }, (_, s) => `S[${s}u * total + idx]`).join(' + ');
  return gridKernel({
    v,
    bindings: b,
    decls: [`const PER = ${per}u; const OHW = ${OHW}u; const COUT = ${l.cout}u;`, epi.code],
    count: per,
    limit: 'PER',
    body: `  let total = P.n * PER;
  let idx = img * PER + i;
  Y[idx] = ${A}(epi(${sums}, (i / OHW) % COUT, idx));`,
  });
}

/** Direct grouped convolution: one output element per thread (weights as plain f32/f16 scalars via quads of k). */
function groupedConv(l: ConvLayer, v: Variant, aux: Aux, dequant: Float32Array | null): KernelOut {
  const A = v.act;
  const cinG = l.cin / l.group, coutG = l.cout / l.group;
  const OHW = l.oh * l.ow;
  const per = l.cout * OHW;
  const KG = cinG * l.kh * l.kw;
  const KGQ = ceilDiv(KG, 4);
  const { b, proScale, proShift, epi } = convBindings(l, v, aux, dequant, false);
  let pro = 'f32(X[xb + ci * HW + u32(ih) * W_ + u32(iw)])';
  if (proScale >= 0) pro = `(${pro} * AUX[${proScale}u + ci])`;
  if (proShift >= 0) pro = `(${pro} + AUX[${proShift}u + ci])`;
  const consts = `const H = ${l.h}u; const W_ = ${l.w}u; const HW = ${l.h * l.w}u; const CIN = ${l.cin}u; const CING = ${cinG}u; const COUTG = ${coutG}u;
const KH = ${l.kh}u; const KW = ${l.kw}u; const SH = ${l.sh}u; const SW = ${l.sw}u; const PT = ${l.pt}; const PL = ${l.pl};
const OW = ${l.ow}u; const OHW = ${OHW}u; const COUT = ${l.cout}u; const PER = ${per}u; const KG = ${KG}u; const KGQ = ${KGQ}u;`;
  const body = `  let co = i / OHW;
  let p = i - co * OHW;
  let oh = p / OW;
  let ow = p - oh * OW;
  let g = co / COUTG;
  let xb = img * CIN * HW;
  var s = 0.0;
  for (var kq = 0u; kq < KGQ; kq = kq + 1u) {
    let wq = vec4<f32>(${weightQuad({ ...v, act: 'f32' }, 'W', 'co * KGQ + kq')});
    for (var e = 0u; e < 4u; e = e + 1u) {
      let k = kq * 4u + e;
      if (k >= KG) { break; }
      let ci = g * CING + k / (KH * KW);
      let r = k % (KH * KW);
      let ih = i32(oh * SH + r / KW) - PT;
      let iw = i32(ow * SW + r % KW) - PL;
      if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W_)) { s = s + ${pro} * wq[e]; }
    }
  }
  let idx = img * PER + i;
  Y[idx] = ${A}(epi(s, co, idx));`;
  return gridKernel({ v, bindings: b, decls: [weightHelpers(v), consts, epi.code], count: per, limit: 'PER', body });
}
