#!/usr/bin/env node
/**
 * Writes a full-width IResNet-18-shaped backbone with seeded random weights as
 * ONNX (no PyTorch needed), for bench/webgpu-chromium.bench.mjs to time the
 * tiled convolution (64 to 512 channels) where the fixtures only reach the
 * direct kernel:
 *   stem conv3x3 3->64 + BN + PReLU (112x112); 4 stages of 2 blocks
 *   (BN -> conv3x3 -> BN -> PReLU -> conv3x3(stride) -> BN, + downsample conv1x1 + BN)
 *   with 64, 128, 256, 512 channels (56, 28, 14, 7); BN -> Flatten -> Gemm 25088 -> 512 -> BN1d.
 * No classification head: the export keeps the whole graph as the embedding.
 *
 *   npm run build && node bench/webgpu-wide-model.mjs /tmp/iresnet18w.onnx
 *   SF2_BENCH_MODEL=/tmp/iresnet18w.onnx SF2_BENCH_BATCHES=1 node bench/webgpu-chromium.bench.mjs
 */
import { resolve, join } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const { Graph } = await import(join(root, 'dist/ir/graph.js'));
const { Model } = await import(join(root, 'dist/ir/model.js'));
const { TensorData } = await import(join(root, 'dist/ir/tensor.js'));
const { attr } = await import(join(root, 'dist/ir/attribute.js'));
const { inferShapes } = await import(join(root, 'dist/ir/shape-infer.js'));
const { saveOnnx } = await import(join(root, 'dist/onnx/export.js'));

const out = process.argv[2] ?? '/tmp/iresnet18w.onnx';
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const uni = (n, lo, hi) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

const g = new Graph();
const m = new Model(g);
m.opsetImports = [{ domain: '', version: 13 }];
let k = 0;
const c = (dims, v) => g.addConstant(`w${k++}`, TensorData.float32(dims, v));
const node = (op, inputs, attrs = {}) => g.addNode({ op, inputs, attrs, name: `${op}_${k++}` }).outputs[0];
const x = g.addValue('input', { dtype: 1, shape: ['N', 3, 112, 112] });
g.inputs.push(x);
const conv = (v, cin, cout, ks, stride) => {
  const fan = cin * ks * ks;
  return node('Conv', [v, c([cout, cin, ks, ks], uni(cout * fan, -Math.sqrt(3 / fan), Math.sqrt(3 / fan)))], {
    kernel_shape: attr.ints([ks, ks]), strides: attr.ints([stride, stride]), pads: attr.ints(Array(4).fill((ks - 1) / 2)),
  });
};
const bn = (v, ch) => node('BatchNormalization', [v, c([ch], uni(ch, 0.8, 1.2)), c([ch], uni(ch, -0.1, 0.1)), c([ch], uni(ch, -0.1, 0.1)), c([ch], uni(ch, 0.8, 1.2))], { epsilon: attr.float(1e-5) });
const prelu = (v, ch) => node('PRelu', [v, c([ch, 1, 1], uni(ch, 0.1, 0.3))]);

let y = prelu(bn(conv(x, 3, 64, 3, 1), 64), 64);
let cin = 64;
for (const [ch, stride] of [[64, 2], [128, 2], [256, 2], [512, 2]]) {
  for (let b = 0; b < 2; b++) {
    const s = b === 0 ? stride : 1;
    let r = bn(y, cin);
    r = prelu(bn(conv(r, cin, ch, 3, 1), ch), ch);
    r = bn(conv(r, ch, ch, 3, s), ch);
    const short = b === 0 ? bn(conv(y, cin, ch, 1, s), ch) : y;
    y = node('Add', [r, short]);
    cin = ch;
  }
}
y = node('Flatten', [bn(y, 512)], { axis: attr.int(1) });
y = node('Gemm', [y, c([512, 512 * 49], uni(512 * 512 * 49, -0.01, 0.01)), c([512], uni(512, -0.1, 0.1))], { transB: attr.int(1) });
y = bn(y, 512);
g.outputs.push(y);
inferShapes(g);
saveOnnx(m, out, { externalData: 'auto' });
console.error(`wrote ${out}`);
