/**
 * Pure array math for moving ONNX tensors into the TF graph's layout.
 *
 *   OIHW -> HWIO:      K[y, x, i, o]    = W[o, i, y, x]
 *   depthwise:          K[y, x, c, m]    = W[c*M + m, 0, y, x]   (ONNX group = C, O = C*M;
 *                       TF output channel c*M + m is ONNX output channel c*M + m)
 *   dense (Gemm):       K[k, n] = alpha * (transB ? B[n, k] : B[k, n])
 *   flat rows:          K'[j, n] = K[i, n] with j = (h*W + w)*C + c, i = (c*H + h)*W + w
 *   broadcast constant: pad its ONNX shape with leading 1s to the activation's rank,
 *                       then transpose it like the activation (NCHW -> NHWC).
 */
import type { Layout } from './layout.js';

export function oihwToHwio(w: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + ii) * o + oo] = w[((oo * i + ii) * kh + y) * kw + x]!;
  return out;
}

/** ONNX depthwise weight [C*M, 1, kh, kw] -> TF [kh, kw, C, M]. */
export function depthwiseToHwcm(w: Float32Array, c: number, m: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let cc = 0; cc < c; cc++)
    for (let mm = 0; mm < m; mm++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * c + cc) * m + mm] = w[(cc * m + mm) * kh * kw + y * kw + x]!;
  return out;
}

/** Gemm's B as a [K, N] matrix scaled by alpha. */
export function denseKernel(b: Float32Array, dims: readonly number[], transB: boolean, alpha: number): { k: number; n: number; data: Float32Array } {
  const [r, c] = dims as [number, number];
  const k = transB ? c : r, n = transB ? r : c;
  const out = new Float32Array(k * n);
  for (let kk = 0; kk < k; kk++)
    for (let nn = 0; nn < n; nn++) out[kk * n + nn] = (transB ? b[nn * c + kk]! : b[kk * c + nn]!) * alpha;
  return { k, n, data: out };
}

/** Map from HWC-flat index j to CHW-flat index i. */
export function flatPermutation(c: number, h: number, w: number): Int32Array {
  const p = new Int32Array(c * h * w);
  for (let hh = 0; hh < h; hh++) for (let ww = 0; ww < w; ww++) for (let cc = 0; cc < c; cc++) p[(hh * w + ww) * c + cc] = (cc * h + hh) * w + ww;
  return p;
}

/** Rows of a [K, N] matrix reordered: out row j = in row perm[j]. */
export function permuteRows(m: Float32Array, n: number, perm: Int32Array): Float32Array {
  const out = new Float32Array(m.length);
  for (let j = 0; j < perm.length; j++) out.set(m.subarray(perm[j]! * n, perm[j]! * n + n), j * n);
  return out;
}

/**
 * A constant broadcast against an activation held in `layout`: its TF shape and
 * data, or undefined when it cannot follow that layout (the caller then uses
 * the plain layout).
 */
export function constForLayout(shape: readonly number[], data: Float32Array, layout: Layout): { shape: number[]; data: Float32Array } | undefined {
  if (layout.kind === 'plain' || data.length === 1) return { shape: [...shape], data };
  if (layout.kind === 'nhwc') {
    if (shape.length > 4) return undefined;
    const s = [...Array(4 - shape.length).fill(1), ...shape] as [number, number, number, number];
    const [n, c, h, w] = s;
    const out = new Float32Array(data.length);
    for (let a = 0; a < n; a++)
      for (let cc = 0; cc < c; cc++)
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((a * h + y) * w + x) * c + cc] = data[((a * c + cc) * h + y) * w + x]!;
    const t = [n, h, w, c];
    while (t.length > 1 && t[0] === 1) t.shift();
    return { shape: t, data: out };
  }
  if (shape.length > 2) return undefined;
  const s = [...Array(2 - shape.length).fill(1), ...shape] as [number, number];
  const f = layout.c * layout.h * layout.w;
  if (s[1] === 1) return { shape: [...shape], data };
  if (s[1] !== f) return undefined;
  const perm = flatPermutation(layout.c, layout.h, layout.w);
  const out = new Float32Array(data.length);
  for (let r = 0; r < s[0]; r++) for (let j = 0; j < f; j++) out[r * f + j] = data[r * f + perm[j]!]!;
  return { shape: [...shape], data: out };
}

/** Where ONNX axis `a` of an NCHW tensor sits in NHWC. */
export const NCHW_TO_NHWC_AXIS: readonly number[] = [0, 3, 1, 2];
