/**
 * Input and output kernels, run on the GPU around the network:
 *   input-f32:     x (NCHW, already preprocessed) -> network input; with flipTTA also
 *                  writes the mirror image (w -> W-1-w) as image k + i. A model with an
 *                  NHWC input takes x as [k][H][W][3] and this kernel writes it NCHW
 *                  (the model's own first Transpose): x[h, w, c] -> y[c, h, w].
 *   input-rgba:    packed RGBA8 pixels [k][H][W] -> x[c] = (byte[c] - mean[c]) / std[c]
 *                  in RGB order, plus the mirror with flipTTA.
 *   input-texture: the same from an rgba8unorm texture array (ImageBitmap, canvas,
 *                  video frames): byte = round(texel * 255).
 *   finish:        e[i] = y[i] (+ y[k + i] with flipTTA), then e / max(|e|, 1e-12)
 *                  when normalizing; written as f32 for reading back.
 */
import { Bindings, f32Literal, header, type Variant } from './common.js';
import { fixed, gridKernel, perK, type KernelOut } from './kernel.js';

export interface IoSpec {
  readonly inputAct: number;
  readonly outputAct: number;
  readonly h: number;
  readonly w: number;
  /** Layout of the caller's float input (the model's); the network input is always NCHW. */
  readonly layout: 'NCHW' | 'NHWC';
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** BGR: network channel c reads pixel byte 2 - c (RGBA input); default RGB. */
  readonly colorOrder?: 'RGB' | 'BGR';
  readonly dim: number;
}

export function inputF32Kernel(s: IoSpec, v: Variant): KernelOut {
  const A = v.act;
  const b = new Bindings()
    .add('SRC', 'array<f32>', 'read', { kind: 'io', buffer: 'input' })
    .add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: s.inputAct });
  const chw = 3 * s.h * s.w;
  const body = `  let x = ${A}(SRC[img * CHW + i]);
${
    s.layout === 'NHWC'
      ? `  // i indexes [H][W][3]; o: the element's NCHW index in the image, w its column.
  let ch = i % 3u; let p = i / 3u; let w = p % W_; let o = ch * ${s.h * s.w}u + p;
  Y[img * CHW + o] = x;
  if (P.flip != 0u) {
    Y[(P.k + img) * CHW + o - w + (W_ - 1u - w)] = x;
  }`
      : `  Y[img * CHW + i] = x;
  if (P.flip != 0u) {
    let w = i % W_;
    Y[(P.k + img) * CHW + i - w + (W_ - 1u - w)] = x;
  }`
  }`;
  return gridKernel({ v, bindings: b, decls: [`const CHW = ${chw}u; const W_ = ${s.w}u;`], count: chw, limit: 'CHW', images: 'k', body });
}

/**
 * One pixel per thread: `read` (WGSL) sets px, the pixel's bytes as vec3<f32> in
 * memory order; the kernel normalizes them per channel, in f32 as a JS reference
 * would: x[c] = (px[c, or 2 - c for BGR] - mean[c]) / std[c], and stores the three
 * channels NCHW (and the mirror image with flipTTA).
 */
function pixelKernel(s: IoSpec, v: Variant, src: Bindings, read: string): KernelOut {
  const A = v.act;
  const b = src.add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: s.inputAct });
  const hw = s.h * s.w;
  const normalize = [0, 1, 2]
    .map((c) => `  let x${c} = ${A}((px[${s.colorOrder === 'BGR' ? 2 - c : c}] - ${f32Literal(s.mean[c]!)}) / ${f32Literal(s.std[c]!)});`)
    .join('\n');
  const body = `${read}
${normalize}
  let o = img * CHW + p;
  Y[o] = x0; Y[o + HW] = x1; Y[o + 2u * HW] = x2;
  if (P.flip != 0u) {
    let w = p % W_;
    let f = (P.k + img) * CHW + p - w + (W_ - 1u - w);
    Y[f] = x0; Y[f + HW] = x1; Y[f + 2u * HW] = x2;
  }`;
  return gridKernel({ v, bindings: b, decls: [`const HW = ${hw}u; const CHW = ${3 * hw}u; const W_ = ${s.w}u;`], count: hw, limit: 'HW', thread: 'p', images: 'k', body });
}

export function inputRgbaKernel(s: IoSpec, v: Variant): KernelOut {
  return pixelKernel(
    s,
    v,
    new Bindings().add('SRC', 'array<u32>', 'read', { kind: 'io', buffer: 'input' }),
    `  let u = SRC[img * HW + p];
  let px = vec3<f32>(f32(u & 255u), f32((u >> 8u) & 255u), f32((u >> 16u) & 255u));`,
  );
}

export function inputTextureKernel(s: IoSpec, v: Variant): KernelOut {
  return pixelKernel(
    s,
    v,
    new Bindings().add('TEX', 'texture_2d_array<f32>', 'texture', { kind: 'io', buffer: 'texture' }),
    `  let t = textureLoad(TEX, vec2<u32>(p % W_, p / W_), img, 0);
  let px = round(t.rgb * 255.0);`,
  );
}

export function finishKernel(s: IoSpec, v: Variant): KernelOut {
  const A = v.act;
  const b = new Bindings()
    .add('Y', `array<${A}>`, 'read', { kind: 'act', act: s.outputAct })
    .add('OUT', 'array<f32>', 'read_write', { kind: 'io', buffer: 'output' });
  const code = `${header(v)}
${b.code()}
const D = ${s.dim}u;
var<workgroup> red: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let img = wg.x;
  var ss = 0.0;
  for (var d = tid; d < D; d = d + 64u) {
    var e = f32(Y[img * D + d]);
    if (P.flip != 0u) { e = e + f32(Y[(P.k + img) * D + d]); }
    OUT[img * D + d] = e;
    ss = ss + e * e;
  }
  red[tid] = ss;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
    workgroupBarrier();
  }
  if (P.norm != 0u) {
    let inv = 1.0 / max(sqrt(red[0]), 1e-12);
    for (var d = tid; d < D; d = d + 64u) { OUT[img * D + d] = OUT[img * D + d] * inv; }
  }
}`;
  return { code, bindings: b, dispatch: { x: perK(1), y: fixed(1), z: fixed(1) } };
}
