/**
 * Small models built with the IR for the WebGPU target's tests, with seeded
 * parameters. `zoo` strings together every kernel path the generator has:
 *   conv 3x3 s1 p1 + bias, unfolded BN (-> epilogue affine), PRelu
 *   MaxPool 3x3 s2 p1
 *   BN -> conv 3x3 p1 (the BN becomes the conv's prologue: exact at the zero padding)
 *   conv 3x3 s2 (asymmetric output), conv 1x1 s2 downsample, residual Add, Relu
 *   grouped conv (group 4), AveragePool 2x2, per-channel Mul / Add / Sub / Div (eltwise)
 *   a 64->64 3x3 conv on a 4x4 map (split-K), Clip, LeakyRelu
 *   GlobalAveragePool, Flatten, Gemm (transB) + bias, BN1d, MatMul + Add
 */
import { attr } from '../../../src/ir/attribute.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import type { Model } from '../../../src/ir/model.js';
import type { Value } from '../../../src/ir/value.js';
import { inferShapes } from '../../../src/ir/shape-infer.js';
import { rng } from '../../helpers/ort.js';

type Rand = () => number;

const uni = (r: Rand, n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());

export class Builder {
  readonly b = new GraphBuilder();
  readonly g = this.b.graph;
  readonly m = this.b.model(13);
  private k = 0;
  constructor(readonly r: Rand = rng(7)) {}
  input(h: number, w: number): Value {
    return this.b.input('input', ['N', 3, h, w]);
  }
  const(dims: number[], values: Float32Array): Value {
    return this.b.floats(`c${this.k++}`, dims, values);
  }
  node(op: string, inputs: (Value | null)[], attrs: Record<string, ReturnType<typeof attr.int>> = {}): Value {
    return this.b.node(op, inputs, attrs, { name: `${op}_${this.k++}` });
  }
  conv(x: Value, cin: number, cout: number, k: number, o: { stride?: number; pad?: number; group?: number; bias?: boolean } = {}): Value {
    const group = o.group ?? 1;
    const fan = (cin / group) * k * k;
    const w = this.const([cout, cin / group, k, k], uni(this.r, (cout * cin * k * k) / group, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)).map((v) => v * 1.7));
    const b = o.bias === false ? null : this.const([cout], uni(this.r, cout, -0.2, 0.2));
    const pad = o.pad ?? 0;
    return this.node('Conv', b ? [x, w, b] : [x, w], {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([o.stride ?? 1, o.stride ?? 1]),
      pads: attr.ints([pad, pad, pad, pad]),
      group: attr.int(group),
    });
  }
  bn(x: Value, c: number): Value {
    const r = this.r;
    const n = this.g.addNode({
      op: 'BatchNormalization',
      name: `bn_${this.k++}`,
      inputs: [x, this.const([c], uni(r, c, 0.5, 1.5)), this.const([c], uni(r, c, -0.5, 0.5)), this.const([c], uni(r, c, -0.5, 0.5)), this.const([c], uni(r, c, 0.5, 2))],
      attrs: { epsilon: attr.float(1e-5) },
    });
    return n.outputs[0]!;
  }
  prelu(x: Value, c: number): Value {
    return this.node('PRelu', [x, this.const([c, 1, 1], uni(this.r, c, 0.05, 0.4))]);
  }
  finish(out: Value): Model {
    this.g.outputs.push(out);
    inferShapes(this.g);
    this.g.verify();
    return this.m;
  }
}

/** The op zoo: input [N, 3, 32, 32] -> [N, 20]. */
export function zoo(): Model {
  const b = new Builder();
  const x = b.input(32, 32);
  let y = b.prelu(b.bn(b.conv(x, 3, 16, 3, { pad: 1 }), 16), 16);
  y = b.node('MaxPool', [y], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }); // 16x16
  // Pre-activation block: BN -> conv (prologue), conv s2; downsample 1x1 s2; add; relu.
  const pre = b.bn(y, 16);
  let r = b.prelu(b.conv(pre, 16, 24, 3, { pad: 1 }), 24);
  r = b.conv(r, 24, 24, 3, { stride: 2, pad: 1, bias: false }); // 8x8
  const down = b.conv(y, 16, 24, 1, { stride: 2 });
  y = b.node('Relu', [b.node('Add', [r, down])]);
  y = b.conv(y, 24, 24, 3, { pad: 1, group: 4 });
  y = b.node('AveragePool', [y], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }); // 4x4
  y = b.node('Mul', [y, b.const([24, 1, 1], uni(b.r, 24, 0.5, 1.5))]);
  y = b.node('Add', [b.const([1, 24, 1, 1], uni(b.r, 24, -0.3, 0.3)), y]);
  y = b.node('Sub', [y, b.const([], Float32Array.of(0.1))]);
  y = b.node('Div', [y, b.const([24, 1, 1], uni(b.r, 24, 0.8, 1.2))]);
  y = b.conv(y, 24, 64, 1);
  y = b.conv(y, 64, 64, 3, { pad: 1 }); // K = 576 on 4x4: split-K
  y = b.node('Clip', [y, b.const([], Float32Array.of(-0.5)), b.const([], Float32Array.of(2))]);
  y = b.g.addNode({ op: 'LeakyRelu', name: 'leaky', inputs: [y], attrs: { alpha: attr.float(0.2) } }).outputs[0]!;
  const gap = b.node('GlobalAveragePool', [y]);
  const flat = b.node('Flatten', [gap], { axis: attr.int(1) });
  let e = b.node('Gemm', [flat, b.const([32, 64], uni(b.r, 32 * 64, -0.2, 0.2)), b.const([32], uni(b.r, 32, -0.1, 0.1))], { transB: attr.int(1) });
  e = b.bn(e, 32);
  e = b.node('MatMul', [e, b.const([32, 20], uni(b.r, 32 * 20, -0.3, 0.3))]);
  e = b.node('Add', [e, b.const([20], uni(b.r, 20, -0.1, 0.1))]);
  return b.finish(e);
}

/** A model with ops the WebGPU target does not have: [N,3,8,8] -> Erf, Softmax, Transpose. */
export function unsupported(): Model {
  const b = new Builder();
  const x = b.input(8, 8);
  let y = b.conv(x, 3, 4, 3, { pad: 1 });
  y = b.node('Erf', [y]);
  y = b.node('Softmax', [y], { axis: attr.int(1) });
  y = b.node('Transpose', [y], { perm: attr.ints([0, 1, 3, 2]) });
  y = b.node('Flatten', [y], { axis: attr.int(1) });
  return b.finish(y);
}

/** A tiny embedding net at the real input size (112x112 -> D=16), for end-to-end API tests. */
export function tinyFace(): Model {
  const b = new Builder(rng(11));
  const x = b.input(112, 112);
  let y = b.node('Relu', [b.conv(x, 3, 8, 3, { stride: 2, pad: 1 })]); // 56
  y = b.node('Relu', [b.conv(y, 8, 16, 3, { stride: 2, pad: 1 })]); // 28
  y = b.node('MaxPool', [y], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([4, 4]) }); // 7
  const flat = b.node('Flatten', [y], { axis: attr.int(1) });
  const e = b.node('Gemm', [flat, b.const([16, 16 * 49], uni(b.r, 16 * 16 * 49, -0.05, 0.05)), b.const([16], uni(b.r, 16, -0.1, 0.1))], { transB: attr.int(1) });
  return b.finish(e);
}

/**
 * Wide channels, so the tiled convolution meets each of its tile shapes:
 * [N, 3, 64, 64] -> 32. Tiles (chooseTile): 64x64x64 (RM 4, RNQ 2), 62x62x64
 * (RM 2, RNQ 2), 31x31x64 (RM 1, RNQ 1), 16x16x256 (RM 1, RNQ 2), 8x8x256, and
 * 4x4x256 with K = 2304 (split-K 8, then PRelu and a residual add in the
 * reduction's epilogue); narrow 1x1 convs in between take the direct kernel.
 */
export function wide(): Model {
  const b = new Builder(rng(13));
  const x = b.input(64, 64);
  let y = b.conv(x, 3, 64, 3, { pad: 1 }); // 64x64
  y = b.conv(y, 64, 8, 1);
  y = b.node('Relu', [b.conv(y, 8, 64, 3)]); // 62x62
  y = b.conv(y, 64, 8, 1);
  y = b.conv(y, 8, 64, 3, { stride: 2, pad: 1 }); // 31x31
  y = b.conv(y, 64, 256, 3, { stride: 2, pad: 1 }); // 16x16
  y = b.conv(y, 256, 256, 3, { stride: 2, pad: 1 }); // 8x8
  y = b.conv(y, 256, 256, 3, { stride: 2, pad: 1 }); // 4x4, split-K
  y = b.node('Add', [b.prelu(b.conv(y, 256, 256, 3, { pad: 1 }), 256), y]);
  const flat = b.node('Flatten', [b.node('GlobalAveragePool', [y])], { axis: attr.int(1) });
  const e = b.node('Gemm', [flat, b.const([32, 256], uni(b.r, 32 * 256, -0.2, 0.2)), b.const([32], uni(b.r, 32, -0.1, 0.1))], { transB: attr.int(1) });
  return b.finish(e);
}
