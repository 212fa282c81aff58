/**
 * Elementwise layers (what could not fuse into a convolution or fc), pooling and
 * global average pooling. One output element per thread; the grid is
 * (ceil(per-image elements / 256), n): y picks the image.
 *   eltwise:  y[i] = epi(x[i], channel(i)),  channel(i) = (i / inner) % channels
 *   maxpool:  y = max over the window's in-bounds taps
 *   avgpool:  y = sum / (taps in bounds, or the whole window with count_include_pad)
 *   gap:      y[c] = sum_{p < HW} x[c, p] / HW
 */
import type { EltwiseLayer, GapLayer, PoolLayer } from '../plan.js';
import { Aux, Bindings, bindEpilogue, epilogue, type Variant } from './common.js';
import { gridKernel, inOut, type KernelOut } from './kernel.js';

export function eltwiseKernel(l: EltwiseLayer, v: Variant, aux: Aux): KernelOut {
  const A = v.act;
  const b = new Bindings().add('X', `array<${A}>`, 'read', { kind: 'act', act: l.x.root.id });
  const epi = epilogue({ dequant: null, bias: null, ops: l.epi }, aux, A);
  bindEpilogue(b, epi, l.epi, A);
  b.add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: l.out.id });
  const per = l.x.elements;
  return gridKernel({
    v,
    bindings: b,
    decls: [`const PER = ${per}u; const INNER = ${l.inner}u; const C = ${l.channels}u;`, epi.code],
    count: per,
    limit: 'PER',
    body: `  let idx = img * PER + i;
  Y[idx] = ${A}(epi(f32(X[idx]), (i / INNER) % C, idx));`,
  });
}

export function poolKernel(l: PoolLayer, v: Variant): KernelOut {
  const A = v.act;
  const per = l.c * l.oh * l.ow;
  const max = l.kind === 'maxpool';
  const body = `  let c = i / (OH * OW);
  let p = i - c * OH * OW;
  let oh = i32(p / OW);
  let ow = i32(p % OW);
  let xb = (img * ${l.c}u + c) * u32(H * W_);
  let h0 = oh * SH - PT;
  let w0 = ow * SW - PL;
  var acc = ${max ? '-3.4028234663852886e38' : '0.0'};
  var taps = 0.0;
  for (var kh = 0; kh < KH; kh = kh + 1) {
    for (var kw = 0; kw < KW; kw = kw + 1) {
      let ih = h0 + kh;
      let iw = w0 + kw;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W_) {
        let x = f32(X[xb + u32(ih * W_ + iw)]);
        ${max ? 'acc = max(acc, x);' : 'acc = acc + x;'}
        taps = taps + 1.0;
      }
    }
  }
  ${
    max
      ? ''
      : l.countIncludePad
        ? 'let hs = min(h0 + KH, H + PB) - h0; let ws = min(w0 + KW, W_ + PR) - w0; acc = acc / f32(hs * ws);'
        : 'acc = acc / max(taps, 1.0);'
  }
  Y[img * PER + i] = ${A}(acc);`;
  return gridKernel({
    v,
    bindings: inOut(l.x, l.out, A),
    decls: [
      `const H = ${l.h}; const W_ = ${l.w}; const OH = ${l.oh}u; const OW = ${l.ow}u; const PER = ${per}u;
const KH = ${l.kh}; const KW = ${l.kw}; const SH = ${l.sh}; const SW = ${l.sw}; const PT = ${l.pt}; const PL = ${l.pl}; const PB = ${l.pb}; const PR = ${l.pr};`,
    ],
    count: per,
    limit: 'PER',
    body,
  });
}

export function gapKernel(l: GapLayer, v: Variant): KernelOut {
  const A = v.act;
  return gridKernel({
    v,
    bindings: inOut(l.x, l.out, A),
    decls: [`const C = ${l.c}u; const HW = ${l.hw}u;`],
    count: l.c,
    limit: 'C',
    wg: 64,
    thread: 'c',
    body: `  let base = (img * C + c) * HW;
  var s = 0.0;
  for (var p = 0u; p < HW; p = p + 1u) { s = s + f32(X[base + p]); }
  Y[img * C + c] = ${A}(s / f32(HW));`,
  });
}
