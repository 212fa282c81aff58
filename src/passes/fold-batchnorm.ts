/**
 * fold-batchnorm: fold every inference BatchNormalization into a neighbouring
 * linear op, exactly.
 *
 * An inference BN is a per-channel affine map on axis 1:
 *     BN(x)[c] = gamma[c] * (x[c] - mean[c]) / sqrt(var[c] + eps) + beta[c] = s[c] * x[c] + t[c]
 *     s = gamma / sqrt(var + eps),   t = beta - mean * s
 * All arithmetic below is done in float64 and rounded once to the weight's dtype.
 * Weights are never copied whole into float64: the scaled weight is a lazy tensor
 * computed range by range when written (fold-weights.ts); where a bias needs a
 * sum over the weight, one chunked pass over the source takes it.
 *
 * Before                                  After
 *  output side (conv-bn, gemm-bn): one fold, foldIntoOutput, for every op of the
 *  table OUTPUT_SIDE, which says per op which weight axis holds the output
 *  channels (the filters axis) and where the bias is found or created:
 *     x -> Op(W, b) -> BN                  x -> Op(W', b')
 *               W'[..., o, ...] = W[..., o, ...] * s[o]       (o on the filters axis)
 *               b'[o] = (b[o] - mean[o]) * s[o] + beta[o] = b[o]*s[o] + t[o]   (b = 0 if none)
 *     op       weight            filters axis         bias
 *     Conv     [O, C/g, k...]    0 (grouped, depthwise alike)   input 2, [O]
 *     Gemm     B [K, N] / [N, K] 1 (transB = 0) / 0 (transB = 1)  beta * C (input 2), written back with beta = 1
 *     MatMul   B [K, N]          1 (2-D input only)   the constant of a following Add, else a new Add
 *  bn-flatten-gemm: x[N,C,H,W] -> BN -> Flatten -> Gemm(B, C)   x -> Flatten -> Gemm(B', C')
 *               flattened column j belongs to channel c(j) = floor(j / (H*W)), so
 *               op(B)'[j, :] = op(B)[j, :] * s[c(j)]
 *               C'[n] = beta*C[n] + alpha * sum_j t[c(j)] * op(B)[j, n]      (the shift through W)
 *             (also BN1d -> Gemm directly: H*W = 1; and MatMul, whose bias goes to an Add)
 *  bn-conv:   x -> BN -> Conv(W, b), the conv pads nothing (1x1 downsample)
 *               input channel of W[o, i, ...] is ci = group(o) * (C/groups) + i,  group(o) = floor(o / (O/groups))
 *               W'[o, i, ...] = W[o, i, ...] * s[ci]
 *               b'[o] = b[o] + sum_{i,k} W[o, i, k] * t[ci]
 *             exact only without padding: zero padding is applied AFTER the BN, so with
 *             padding the border taps would read 0 in the original but t in the folded conv.
 *
 * Preconditions (classifyBn in ../analysis/batchnorm.ts, plus the checks here):
 * parameters constant, 1-D of one length C, float dtypes; inference mode; the
 * linear op's weight constant; channel counts agree; the op it folds into is
 * read only by this BN (or, bn-conv, the BN is read only by unpadded convs); var + eps > 0.
 * A BN that fails is listed in `skipped` with the reason and left unchanged.
 *
 * A BN that cannot fold exactly (before a padded conv, after a residual Add,
 * before a PRelu) is KEPT as a BatchNormalization by default. Measured on
 * onnxruntime-node 1.30 (cpu, this machine; bench/fold-batchnorm-affine.bench.mjs,
 * docs/benchmarks.md "fold-batchnorm: unfoldable BN as affine vs
 * BatchNormalization"): one BatchNormalization kernel is as fast as or faster than the
 * equivalent Mul + Add pair (two broadcast passes over the tensor), with graph
 * optimizations on and off; and it keeps the graph smaller. `bnUnfoldable:
 * 'affine'` rewrites them as x * s + t with s, t shaped [1, C, 1, 1] instead.
 */
import type { Graph } from '../ir/graph.js';
import { attr } from '../ir/attribute.js';
import { DType, dtypeName } from '../ir/dtype.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shape-infer.js';
import type { TensorData } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { bnAffine, classifyBn, constData, convPads, isTrainingBn, type BnFinding } from '../analysis/batchnorm.js';
import type { Pass, PassOptions, PassReport } from './pass.js';
import { FOLDABLE_FLOATS, fromF64, isOnnxDomain, product, readF64, ReportBuilder } from './util.js';
import { scaledWeight, visitWeight } from './fold-weights.js';

export interface BnParams {
  readonly channels: number;
  readonly s: Float64Array;
  readonly t: Float64Array;
}

/** s = gamma / sqrt(var + eps), t = beta - mean * s, in float64; or why not. */
export function bnParams(bn: Node): BnParams | string {
  const [, gamma, beta, mean, variance] = bn.inputs;
  const ps = [gamma, beta, mean, variance];
  const ts = ps.map((p) => constData(p));
  if (!ts.every((t): t is TensorData => t !== undefined)) return 'scale, bias, mean or variance is not a constant';
  const c = ts[0]!.size;
  if (!ts.every((t) => t.dims.length === 1 && t.dims[0] === c)) {
    return `parameters are not 1-D of one length (${ts.map((t) => `[${t.dims.join(',')}]`).join(' ')})${bn.attrInt('spatial', 1) === 0 ? ', spatial=0' : ''}`;
  }
  const bad = ts.find((t) => !FOLDABLE_FLOATS.has(t.dtype));
  if (bad) return `parameters are ${dtypeName(bad.dtype)}`;
  const eps = bn.attrFloat('epsilon', 1e-5);
  const [g, b, m, v] = ts.map(readF64) as [Float64Array, Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < c; i++) {
    const d = v[i]! + eps;
    if (!(d > 0)) return `variance + epsilon of channel ${i} is ${d}, not positive`;
  }
  return { channels: c, ...bnAffine(g, b, m, v, eps) };
}

type FoldResult = { ok: true } | { ok: false; reason: string };
const fail = (reason: string): FoldResult => ({ ok: false, reason });
const OK: FoldResult = { ok: true };

function weightOf(v: Value | null | undefined, what: string): TensorData | string {
  const t = constData(v);
  if (!t) return `${what} is not a constant`;
  if (!FOLDABLE_FLOATS.has(t.dtype)) return `${what} is ${dtypeName(t.dtype)}`;
  return t;
}

function newConst(g: Graph, base: Value | null | undefined, fallback: string, dtype: number, dims: readonly number[], values: Float64Array): Value {
  return newWeight(g, base, fallback, fromF64(dtype, dims, values));
}

function newWeight(g: Graph, base: Value | null | undefined, fallback: string, data: TensorData): Value {
  return g.addConstant(g.uniqueName(`${base?.name ?? fallback}_bnfold`), data);
}

/** Per-output-feature bias of a Gemm's C operand (times beta), or why it has none. */
function gemmBias(gemm: Node, nOut: number): Float64Array | string {
  const c = gemm.inputs[2];
  const out = new Float64Array(nOut);
  if (!c) return out;
  const cd = constData(c);
  if (!cd) return 'its bias is not a constant';
  const dims = cd.dims;
  const vals = readF64(cd);
  const beta = gemm.attrFloat('beta', 1);
  if (vals.length === 1) out.fill(vals[0]! * beta);
  else if (vals.length === nOut && (dims.length === 1 || (dims.length === 2 && dims[0] === 1))) for (let j = 0; j < nOut; j++) out[j] = vals[j]! * beta;
  else return `its bias has shape [${dims.join(',')}], not per output feature`;
  return out;
}

/** Make `bias` the Gemm's C, taken as it is (beta = 1). */
function setGemmBias(gemm: Node, bias: Value, opset: number): void {
  gemm.setInput(2, bias);
  gemm.setAttr('beta', attr.float(1));
  if (opset < 7) gemm.setAttr('broadcast', attr.int(1));
}

/** The constant operand of an Add that adds a bias to `x`, if it is one. */
function biasAddOf(x: Value): { add: Node; index: number } | undefined {
  const add = x.onlyConsumer;
  if (!add || add.op !== 'Add' || !isOnnxDomain(add)) return undefined;
  const index = add.inputs[0] === x ? 1 : add.inputs[1] === x ? 0 : -1;
  if (index < 0 || !constData(add.inputs[index])) return undefined;
  return { add, index };
}

// ---- output side: Conv | Gemm | MatMul -> BN, one fold -------------------------------------

/**
 * An existing bias of the op (its per-output values; zeros when it has none) and
 * how the folded one is written back: `write` puts the new constant in place and
 * returns the value the BN's readers move to.
 */
interface OutputBias {
  readonly values: Float64Array;
  /** The constant it replaces (names the new one; null: none). */
  readonly base: Value | null | undefined;
  readonly dtype: number | undefined;
  write(g: Graph, bias: Value): Value;
}

/**
 * Per op: which weight axis holds the output channels (onnxscript's
 * get_filters_axis) and where the bias is (found, or created). The weight is
 * input 1 and the scale runs along that axis: W'[..., o, ...] = W[..., o, ...] * s[o],
 * i.e. element e scales by s[floor(e / inner) % period] with period = dims[axis],
 * inner = product(dims[axis+1:]).
 */
interface OutputSideOp {
  /** How messages name the op and its channels. */
  readonly what: string;
  readonly units: string;
  /** A 2-D weight only (Gemm, MatMul). */
  readonly matrix: boolean;
  filtersAxis(op: Node): number;
  /** A reason the fold does not apply, checked before the channel count. */
  check?(op: Node): string | undefined;
  bias(g: Graph, op: Node, bn: Node, nOut: number, opset: number): OutputBias | string;
}

const OUTPUT_SIDE: Readonly<Record<'Conv' | 'Gemm' | 'MatMul', OutputSideOp>> = {
  // Conv W [O, C/group, k...]: O on axis 0 (grouped and depthwise alike); bias input 2, [O].
  Conv: {
    what: 'the conv',
    units: 'output channels',
    matrix: false,
    filtersAxis: () => 0,
    bias(_g, conv, _bn, o) {
      const bias = conv.inputs[2];
      const bd = constData(bias);
      if (bias && !bd) return 'the conv bias is not a constant';
      const values = bd ? readF64(bd) : new Float64Array(o);
      if (values.length !== o) return `the conv bias has ${values.length} values for ${o} channels`;
      return { values, base: bias, dtype: bd?.dtype, write: (_, b) => (conv.setInput(2, b), conv.outputs[0]!) };
    },
  },
  // Gemm B [K, N] (transB = 0: axis 1) or [N, K] (transB = 1: axis 0); bias beta*C, input 2, written with beta = 1.
  Gemm: {
    what: 'the Gemm',
    units: 'output features',
    matrix: true,
    filtersAxis: (gemm) => (gemm.attrInt('transB', 0) === 1 ? 0 : 1),
    bias(_g, gemm, _bn, nOut, opset) {
      const values = gemmBias(gemm, nOut);
      if (typeof values === 'string') return values;
      return { values, base: gemm.inputs[2], dtype: constData(gemm.inputs[2])?.dtype, write: (_, b) => (setGemmBias(gemm, b, opset), gemm.outputs[0]!) };
    },
  },
  // MatMul B [K, N]: axis 1; bias the constant of a following Add, else a new Add after the MatMul.
  MatMul: {
    what: 'the MatMul',
    units: 'output features',
    matrix: true,
    filtersAxis: () => 1,
    check(mm) {
      const rank = mm.inputs[0]?.shape?.length;
      return rank === 2 ? undefined : `the MatMul input has rank ${rank ?? 'unknown'}; the BN's channel axis is the MatMul's feature axis only for 2-D inputs`;
    },
    bias(_g, mm, bn, nOut) {
      const y = mm.outputs[0]!;
      const found = bn.inputs[0] === y ? undefined : biasAddOf(y);
      if (!found) {
        const write = (g: Graph, b: Value): Value => {
          const add = g.addNode({ op: 'Add', name: `${bn.name}_bias`, inputs: [y, b], outputs: [`${y.name}_bnfold`], before: bn });
          add.outputs[0]!.dtype = y.dtype;
          add.outputs[0]!.shape = y.shape ? [...y.shape] : undefined;
          return add.outputs[0]!;
        };
        return { values: new Float64Array(nOut), base: null, dtype: undefined, write };
      }
      const old = found.add.inputs[found.index]!;
      const cv = constData(old)!;
      const vals = readF64(cv);
      if (!(vals.length === 1 || (vals.length === nOut && cv.dims[cv.dims.length - 1] === nOut && product(cv.dims) === nOut))) {
        return `the bias of ${found.add.name} has shape [${cv.dims.join(',')}], not per output feature`;
      }
      const values = new Float64Array(nOut);
      for (let j = 0; j < nOut; j++) values[j] = vals.length === 1 ? vals[0]! : vals[j]!;
      return { values, base: old, dtype: cv.dtype, write: (_, b) => (found.add.setInput(found.index, b), found.add.outputs[0]!) };
    },
  },
};

/**
 * conv-bn and gemm-bn, one fold for every op of OUTPUT_SIDE:
 *   W'[..., o, ...] = W[..., o, ...] * s[o]  (o on the op's filters axis),   b'[o] = b[o] * s[o] + t[o]
 * (b: the op's bias, 0 where it has none).
 */
function foldIntoOutput(g: Graph, bn: Node, op: Node, kind: OutputSideOp, p: BnParams, opset: number): FoldResult {
  const w = weightOf(op.inputs[1], `${kind.what} weight`);
  if (typeof w === 'string') return fail(w);
  if (kind.matrix && w.dims.length !== 2) return fail(`${kind.what} weight is not 2-D`);
  const why = kind.check?.(op);
  if (why) return fail(why);
  const axis = kind.filtersAxis(op);
  const nOut = w.dims[axis]!;
  if (nOut !== p.channels) return fail(`${kind.what} has ${nOut} ${kind.units}, the BN ${p.channels}`);
  const bias = kind.bias(g, op, bn, nOut, opset);
  if (typeof bias === 'string') return fail(bias);
  const b = bias.values;
  for (let o = 0; o < nOut; o++) b[o] = b[o]! * p.s[o]! + p.t[o]!;
  op.setInput(1, newWeight(g, op.inputs[1], `${op.name}.weight`, scaledWeight(w, { s: p.s, inner: product(w.dims.slice(axis + 1)), period: nOut })));
  const out = bias.write(g, newConst(g, bias.base, `${op.name}.bias`, bias.dtype ?? w.dtype, [nOut], b));
  g.bypass(bn, out);
  return OK;
}

// ---- input side: BN -> Flatten -> Gemm | MatMul, BN -> unpadded Conv -----------------------

/**
 * bn-flatten-gemm: x -> BN -> Flatten -> Gemm|MatMul (or BN1d -> Gemm|MatMul):
 * op(B)[j, :] *= s[c(j)], bias += alpha * t[c(.)] @ op(B)
 */
function foldBnIntoGemmInput(g: Graph, bn: Node, gemm: Node, p: BnParams, opset: number): FoldResult {
  const x = bn.inputs[0]!;
  const y = bn.outputs[0]!;
  const flat = gemm.inputs[0] === y ? undefined : y.onlyConsumer;
  if (flat && !(flat.op === 'Flatten' || flat.op === 'Reshape')) return fail(`${flat.op} between the BN and ${gemm.name}`);
  const w = weightOf(gemm.inputs[1], `the ${gemm.op} weight`);
  if (typeof w === 'string') return fail(w);
  if (w.dims.length !== 2) return fail(`the ${gemm.op} weight is not 2-D`);
  const isGemm = gemm.op === 'Gemm';
  const transB = isGemm && gemm.attrInt('transB', 0) === 1;
  if (isGemm && gemm.attrInt('transA', 0) === 1) return fail('the Gemm has transA = 1');
  const [r, c] = w.dims as [number, number];
  const k = transB ? c : r;
  const nOut = transB ? r : c;
  if (k % p.channels !== 0) return fail(`${gemm.op} input width ${k} is not a multiple of the BN's ${p.channels} channels`);
  const hw = k / p.channels;
  const xs = x.shape;
  if (!flat && xs && xs.length !== 2) return fail(`the BN input has rank ${xs.length}; without a Flatten it must be 2-D`);
  if (flat && xs) {
    const spatial = xs.slice(2);
    if (spatial.every((d) => typeof d === 'number') && product(spatial as number[]) !== hw) return fail(`the BN input's spatial size ${product(spatial as number[])} does not match ${gemm.op} width ${k} / ${p.channels} channels`);
    if (xs[1] !== undefined && typeof xs[1] === 'number' && xs[1] !== p.channels) return fail(`the BN input has ${xs[1]} channels, the BN ${p.channels}`);
  }
  if (flat?.op === 'Flatten' && flat.attrInt('axis', 1) !== 1) return fail('the Flatten does not flatten from axis 1');
  if (flat?.op === 'Reshape') {
    const tgt = constData(flat.inputs[1])?.numbers();
    const batchLike = (d: number) => d === 0 || d === -1 || (typeof xs?.[0] === 'number' && d === xs[0]);
    if (!tgt || tgt.length !== 2 || !((tgt[1] === -1 && batchLike(tgt[0]!) && tgt[0] !== -1) || (tgt[1] === k && batchLike(tgt[0]!)))) {
      return fail(`the Reshape between the BN and ${gemm.op} is not a flatten to [N, ${k}]`);
    }
  }
  let alpha = 1;
  let bias: Float64Array | string;
  let mmBias: { add: Node; index: number } | undefined;
  if (isGemm) {
    alpha = gemm.attrFloat('alpha', 1);
    bias = gemmBias(gemm, nOut);
  } else {
    mmBias = biasAddOf(gemm.outputs[0]!);
    bias = new Float64Array(nOut);
    if (mmBias) {
      const cv = constData(mmBias.add.inputs[mmBias.index])!;
      const vals = readF64(cv);
      if (!(vals.length === 1 || (vals.length === nOut && product(cv.dims) === nOut))) mmBias = undefined;
      else for (let j = 0; j < nOut; j++) bias[j] = vals.length === 1 ? vals[0]! : vals[j]!;
    }
  }
  if (typeof bias === 'string') return fail(bias);
  // op(B)[j, n] lives at B[j*nOut + n] (transB = 0) or B[n*k + j] (transB = 1); one
  // chunked pass walks B in memory order for the shift; the scaled B stays lazy.
  const sj = new Float64Array(k), tj = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    sj[j] = p.s[Math.floor(j / hw)]!;
    tj[j] = p.t[Math.floor(j / hw)]!;
  }
  const b = bias;
  let scaled: TensorData;
  if (transB) {
    // bias[n] += alpha * sum_j t[j] * B[n, j], the sum over a row first (as a row loop would)
    let acc = 0, j = 0, n = 0;
    scaled = scaledWeight(w, { s: sj, inner: 1, period: k });
    visitWeight(w, (_first, vals) => {
      let a = acc, jj = j, nn = n; // locals in the hot loop, state carried across chunks
      for (let i = 0; i < vals.length; i++) {
        a += tj[jj]! * vals[i]!;
        if (++jj === k) {
          b[nn]! += alpha * a;
          a = 0;
          jj = 0;
          nn++;
        }
      }
      acc = a;
      j = jj;
      n = nn;
    });
  } else {
    let j = 0, n = 0;
    scaled = scaledWeight(w, { s: sj, inner: nOut, period: k });
    visitWeight(w, (_first, vals) => {
      let jj = j, nn = n;
      for (let i = 0; i < vals.length; i++) {
        b[nn]! += alpha * tj[jj]! * vals[i]!;
        if (++nn === nOut) {
          nn = 0;
          jj++;
        }
      }
      j = jj;
      n = nn;
    });
  }
  gemm.setInput(1, newWeight(g, gemm.inputs[1], `${gemm.name}.weight`, scaled));
  if (isGemm) setGemmBias(gemm, newConst(g, gemm.inputs[2], `${gemm.name}.bias`, constData(gemm.inputs[2])?.dtype ?? w.dtype, [nOut], bias), opset);
  else if (mmBias) {
    const old = mmBias.add.inputs[mmBias.index]!;
    mmBias.add.setInput(mmBias.index, newConst(g, old, `${gemm.name}.bias`, constData(old)!.dtype, [nOut], bias));
  } else {
    const out = gemm.outputs[0]!;
    // MatMul -> Add(shift): readers of the MatMul move to the Add first, then the Add
    // reads the MatMul (wiring it before would make the Add read itself).
    const add = g.addNode({ op: 'Add', name: `${bn.name}_shift`, inputs: [], outputs: [`${out.name}_bnfold`] });
    const keepName = out.isGraphOutput;
    out.replaceAllUsesWith(add.outputs[0]!);
    add.setInputs([out, newConst(g, null, `${gemm.name}.bias`, w.dtype, [nOut], bias)]);
    add.outputs[0]!.dtype = out.dtype;
    add.outputs[0]!.shape = out.shape ? [...out.shape] : undefined;
    if (keepName) {
      const name = out.name;
      g.rename(out, g.uniqueName(`${name}_matmul`));
      g.rename(add.outputs[0]!, name);
    }
  }
  if (flat) flat.setInput(0, x);
  else gemm.setInput(0, x);
  g.removeNode(bn);
  return OK;
}

/** bn-conv (unpadded): W'[o, i] = W[o, i] * s[ci], b'[o] = b[o] + sum W[o, i, k] * t[ci] */
function foldBnIntoConvInput(g: Graph, bn: Node, convs: readonly Node[], p: BnParams): FoldResult {
  const x = bn.inputs[0]!;
  const checked: { conv: Node; w: TensorData; bd: TensorData | undefined; o: number; cg: number; og: number; taps: number }[] = [];
  for (const conv of convs) {
    if (convPads(conv)) return fail(`${conv.name} pads its input`);
    const w = weightOf(conv.inputs[1], `the weight of ${conv.name}`);
    if (typeof w === 'string') return fail(w);
    const bias = conv.inputs[2];
    const bd = constData(bias);
    if (bias && !bd) return fail(`the bias of ${conv.name} is not a constant`);
    const group = conv.attrInt('group', 1);
    const [o, cg] = w.dims as [number, number];
    if (cg * group !== p.channels) return fail(`${conv.name} reads ${cg * group} channels, the BN has ${p.channels}`);
    if (o % group !== 0) return fail(`${conv.name}: ${o} output channels do not split into ${group} groups`);
    checked.push({ conv, w, bd, o, cg, og: o / group, taps: product(w.dims.slice(2)) });
  }
  // Every conv can fold: now read each weight once, in memory order (oc, i, q).
  const plans: { conv: Node; w: TensorData; bv: Float64Array }[] = [];
  for (const { conv, w, bd, o, cg, og, taps } of checked) {
    // element (oc, i, q) reads input channel ci = floor(oc / og) * cg + i
    const sc = new Float64Array(o * cg), tc = new Float64Array(o * cg);
    for (let oc = 0; oc < o; oc++) {
      const base = Math.floor(oc / og) * cg;
      for (let i = 0; i < cg; i++) {
        sc[oc * cg + i] = p.s[base + i]!;
        tc[oc * cg + i] = p.t[base + i]!;
      }
    }
    const bv = bd ? readF64(bd) : new Float64Array(o);
    let q = 0, oi = 0, oc = 0;
    const wv = scaledWeight(w, { s: sc, inner: taps, period: o * cg });
    visitWeight(w, (_first, vals) => {
      let qq = q, ii = oi, cc = oc;
      for (let e = 0; e < vals.length; e++) {
        bv[cc]! += vals[e]! * tc[ii]!;
        if (++qq === taps) {
          qq = 0;
          if (++ii % cg === 0) cc++;
        }
      }
      q = qq;
      oi = ii;
      oc = cc;
    });
    plans.push({ conv, w: wv, bv });
  }
  for (const { conv, w, bv } of plans) {
    const bias = conv.inputs[2];
    conv.setInput(1, newWeight(g, conv.inputs[1], `${conv.name}.weight`, w));
    conv.setInput(2, newConst(g, bias, `${conv.name}.bias`, constData(bias)?.dtype ?? w.dtype, [bv.length], bv));
    conv.setInput(0, x);
  }
  g.removeNode(bn);
  return OK;
}

/** An unfoldable BN as x * s + t with s, t shaped [1, C, 1, ...] (bnUnfoldable: 'affine'). */
function toAffine(g: Graph, bn: Node, p: BnParams): FoldResult {
  const x = bn.inputs[0]!;
  const rank = x.shape?.length;
  if (rank === undefined || rank < 2) return fail('its input rank is unknown');
  const dtype = constData(bn.inputs[1])!.dtype === DType.DOUBLE ? DType.DOUBLE : x.dtype ?? DType.FLOAT;
  const dims = [1, p.channels, ...Array<number>(rank - 2).fill(1)];
  const s = newConst(g, bn.inputs[1], `${bn.name}.scale`, dtype, dims, p.s);
  const t = newConst(g, bn.inputs[2], `${bn.name}.shift`, dtype, dims, p.t);
  const mul = g.addNode({ op: 'Mul', name: `${bn.name}_scale`, inputs: [x, s], outputs: [`${bn.outputs[0]!.name}_scaled`], before: bn });
  const add = g.addNode({ op: 'Add', name: `${bn.name}_shift`, inputs: [mul.outputs[0]!, t], outputs: [`${bn.outputs[0]!.name}_affine`], before: bn });
  for (const v of [mul.outputs[0]!, add.outputs[0]!]) {
    v.dtype = x.dtype;
    v.shape = x.shape ? [...x.shape] : undefined;
  }
  g.bypass(bn, add.outputs[0]!);
  return OK;
}

const COUNTS = ['folded', 'convBn', 'gemmBn', 'bnFlattenGemm', 'bnConv', 'affine'] as const;
const PATTERN_COUNT: Record<string, (typeof COUNTS)[number]> = { 'conv-bn': 'convBn', 'gemm-bn': 'gemmBn', 'bn-flatten-gemm': 'bnFlattenGemm', 'bn-conv': 'bnConv' };

function foldOne(g: Graph, bn: Node, f: BnFinding, p: BnParams, opset: number): FoldResult {
  const x = bn.inputs[0]!;
  const y = bn.outputs[0]!;
  switch (f.pattern) {
    case 'conv-bn':
      return foldIntoOutput(g, bn, x.producer!, OUTPUT_SIDE.Conv, p, opset);
    case 'gemm-bn': {
      const prod = x.producer!;
      if (prod.op === 'Gemm' || prod.op === 'MatMul') return foldIntoOutput(g, bn, prod, OUTPUT_SIDE[prod.op], p, opset);
      // MatMul -> Add(bias) -> BN
      const mm = [prod.inputs[0], prod.inputs[1]].map((v) => v?.producer).find((n) => n?.op === 'MatMul');
      return mm ? foldIntoOutput(g, bn, mm, OUTPUT_SIDE.MatMul, p, opset) : fail(`no MatMul before ${prod.name}`);
    }
    case 'bn-flatten-gemm': {
      const c = y.onlyConsumer;
      const gemm = c && (c.op === 'Gemm' || c.op === 'MatMul') ? c : c?.outputs[0]?.onlyConsumer;
      return gemm ? foldBnIntoGemmInput(g, bn, gemm, p, opset) : fail('no Gemm or MatMul after the flatten');
    }
    case 'bn-conv':
      return foldBnIntoConvInput(g, bn, y.consumers, p);
    case 'standalone':
      return fail(f.reason);
  }
}

export const foldBatchNorm: Pass<'fold-batchnorm'> = {
  name: 'fold-batchnorm',
  description: 'fold BatchNormalization into the neighbouring Conv / Gemm / MatMul (float64 arithmetic), keep or rewrite the ones that cannot fold exactly',
  run(model, options: PassOptions): PassReport<'fold-batchnorm'> {
    const g = model.graph;
    const opset = model.opset('') ?? 17;
    const mode = options.bnUnfoldable ?? 'keep';
    const rb = new ReportBuilder('fold-batchnorm', COUNTS);
    const folded: { node: string; pattern: string; into: string }[] = [];
    inferShapes(g); // ranks and channel counts for the checks below
    const bns = g.nodes.filter((n) => n.op === 'BatchNormalization' && isOnnxDomain(n));
    for (const bn of bns) {
      const f = classifyBn(bn);
      const p = bnParams(bn);
      if (typeof p === 'string') {
        rb.skip(bn.name, p);
        continue;
      }
      if (isTrainingBn(bn)) {
        rb.skip(bn.name, f.reason);
        continue;
      }
      if (f.foldable) {
        const r = foldOne(g, bn, f, p, opset);
        if (r.ok) {
          rb.add('folded');
          rb.add(PATTERN_COUNT[f.pattern]!);
          folded.push({ node: bn.name, pattern: f.pattern, into: f.into ?? '' });
          continue;
        }
        rb.skip(bn.name, `${f.pattern}: ${r.reason}`);
        continue;
      }
      if (mode === 'affine') {
        const r = toAffine(g, bn, p);
        if (r.ok) {
          rb.add('affine');
          folded.push({ node: bn.name, pattern: 'affine', into: `${bn.name}_scale,${bn.name}_shift` });
          continue;
        }
        rb.skip(bn.name, `${f.reason}; not rewritten as Mul + Add: ${r.reason}`);
        continue;
      }
      rb.skip(bn.name, `${f.reason}; kept as BatchNormalization (as fast as or faster than Mul + Add on onnxruntime, docs/benchmarks.md)`);
    }
    const changed = folded.length > 0;
    if (changed) {
      g.cleanup();
      g.toposort();
    }
    return rb.build(changed, { folded });
  },
};
