/**
 * Hostile and degenerate models built with the IR, for the security tests and
 * the fuzz suite: long chains (graph walks must be iterative and linear), and
 * a small valid backbone + SphereFace2-style head to mutate.
 */
import { attr } from '../../src/ir/attribute.js';
import { encodeOnnx } from '../../src/onnx/export.js';
import { TensorData } from '../../src/ir/tensor.js';
import { newModel, input, constant, conv, uniform } from '../passes/graphs.js';
import { rng } from '../helpers/ort.js';
import type { Model } from '../../src/ir/model.js';

/**
 * x[N,3,16,16] -> Conv(8) -> n x (Relu | Add of a constant, alternating) ->
 * GlobalAveragePool -> Flatten -> Gemm(8x16) -> y[N,16]. n + 4 nodes, every
 * one on the single path from input to output.
 */
export function chainModel(n: number, seed = 1): Model {
  const r = rng(seed);
  const { m, g } = newModel(13);
  const x = input(g, 'x', ['N', 3, 16, 16]);
  let y = conv(g, r, x, { cin: 3, cout: 8, k: 3, pad: 1, bias: true }).y;
  const c = constant(g, 'c', [1], new Float32Array([0.001]));
  for (let i = 0; i < n; i++) {
    y = g.addNode({ op: i % 2 ? 'Add' : 'Relu', name: `n${i}`, inputs: i % 2 ? [y, c] : [y], outputs: [`t${i}`] }).outputs[0]!;
  }
  y = g.addNode({ op: 'GlobalAveragePool', name: 'gap', inputs: [y], outputs: ['gap_out'] }).outputs[0]!;
  y = g.addNode({ op: 'Flatten', name: 'flat', inputs: [y], outputs: ['flat_out'], attrs: { axis: attr.int(1) } }).outputs[0]!;
  const w = g.addConstant('fc.weight', TensorData.float32([16, 8], uniform(r, 128, -0.3, 0.3)));
  y = g.addNode({ op: 'Gemm', name: 'fc', inputs: [y, w], outputs: ['y'], attrs: { transB: attr.int(1) } }).outputs[0]!;
  g.outputs = [y];
  return m;
}

export function chainBytes(n: number): Uint8Array {
  return encodeOnnx(chainModel(n));
}
