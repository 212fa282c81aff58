/**
 * sfnet of opensphere (model/backbone/sfnet.py 2022, opensphere/module/backbone/
 * sfnet.py 2023), with BatchNorm (`norm_layer=BatchNorm2d`, family sfnet_bn) or
 * without (`norm_layer=None`: identity norms, conv biases, family sfnet):
 *
 *   per stage L: ConvBlock  conv1 3x3/2 -> bn1 -> ReLU                  (layerL.0)
 *     then blocks j >= 1, BasicBlock  conv1 3x3 -> bn1 -> ReLU -> conv2 3x3 -> bn2, + identity, ReLU
 *                      or Bottleneck  conv1 1x1 -> bn1 -> ReLU -> conv2 3x3 -> bn2 -> ReLU
 *                                     -> conv3 1x1 -> bn3, + identity, ReLU   (width planes / 2)
 *   flatten -> dropout (nothing in eval) -> fc -> features (BN1d; identity without BN)
 *
 * Without BN the bn* modules are nn.Identity (no keys) and convs have biases.
 * Which block a stage uses is read from its keys (conv3 means Bottleneck).
 */
import { ArchMismatch, Layers, countBlocks, countStages, inputSizeFor, type Act, type StateDictView } from './common.js';
import type { ArchBuilder, ArchResult } from './types.js';
import { depthName } from './types.js';
import type { GraphBuilder } from '../../ir/builder.js';

export const SFNET_DEPTHS: Readonly<Record<string, readonly number[]>> = {
  sfnet4: [0, 0, 0, 0],
  sfnet10: [0, 1, 2, 0],
  sfnet20: [1, 2, 4, 1],
  sfnet36: [2, 4, 8, 2],
  sfnet64: [3, 8, 16, 3],
};

function buildSfnet(b: GraphBuilder, sd: StateDictView, withBn: boolean): ArchResult {
  const L = new Layers(b, sd);
  const family = withBn ? 'sfnet_bn' : 'sfnet';
  const stages = countStages(sd);
  if (stages === 0) throw new ArchMismatch('no layer1.* keys');
  if (!sd.has('layer1.0.conv1.weight')) throw new ArchMismatch('no ConvBlock layer1.0.conv1');
  if (sd.has('layer1.0.bn1.weight') !== withBn) throw new ArchMismatch(withBn ? 'no BatchNorm (layer1.0.bn1)' : 'has BatchNorm (layer1.0.bn1)');
  const lastConv = sd.tensors.get(`layer${stages}.0.conv1.weight`);
  if (!lastConv || lastConv.shape.length !== 4) throw new ArchMismatch(`layer${stages}.0.conv1.weight is missing`);
  const size = inputSizeFor(sd, 'fc.weight', lastConv.shape[0]!, stages);
  const bias = withBn ? 'optional' : 'yes';
  const norm = (x: Act, p: string): Act => (withBn ? L.bn(x, p, 'after-conv') : x);
  let x: Act = { v: b.input('input', ['batch', 3, size, size]), c: 3, h: size, w: size };
  const depths: number[] = [];
  const widths: number[] = [];
  let block: 'basic' | 'bottleneck' = 'basic';
  for (let s = 1; s <= stages; s++) {
    const stage = `layer${s}`;
    const n = countBlocks(sd, stage);
    x = L.conv(x, `${stage}.0.conv1`, 3, 2, null, bias);
    x = norm(x, `${stage}.0.bn1`);
    x = L.relu(x, `${stage}.0`);
    for (let j = 1; j < n; j++) {
      const p = `${stage}.${j}`;
      const inp = x;
      let y: Act;
      if (sd.has(`${p}.conv3.weight`)) {
        block = 'bottleneck';
        y = L.conv(inp, `${p}.conv1`, 1, 1, null, bias);
        y = L.relu(norm(y, `${p}.bn1`), `${p}.relu1`);
        y = L.conv(y, `${p}.conv2`, 3, 1, y.c, bias);
        y = L.relu(norm(y, `${p}.bn2`), `${p}.relu2`);
        y = L.conv(y, `${p}.conv3`, 1, 1, inp.c, bias);
        y = norm(y, `${p}.bn3`);
      } else {
        y = L.conv(inp, `${p}.conv1`, 3, 1, inp.c, bias);
        y = L.relu(norm(y, `${p}.bn1`), `${p}.relu1`);
        y = L.conv(y, `${p}.conv2`, 3, 1, inp.c, bias);
        y = norm(y, `${p}.bn2`);
      }
      x = L.relu(L.add(y, inp, p), `${p}.relu`);
    }
    depths.push(n - 1);
    widths.push(x.c);
  }
  x = L.flattenLinear(x, 'fc');
  if (withBn && sd.has('features.weight')) x = L.bn(x, 'features', 'after-linear');
  const base = depthName(family, depths, SFNET_DEPTHS);
  const name = base ? (withBn ? `${base}bn` : base) : family;
  return { family, name, depths, widths, block, embeddingDim: x.c, inputSize: [size, size], output: x.v };
}

export const sfnetBn: ArchBuilder = {
  family: 'sfnet_bn',
  summary: 'sfnet with BatchNorm: ConvBlock conv-BN-ReLU + BasicBlock/Bottleneck per stage, fc, BN1d features',
  build: (b, sd) => buildSfnet(b, sd, true),
};

export const sfnet: ArchBuilder = {
  family: 'sfnet',
  summary: 'sfnet without BatchNorm (norm_layer=None): the same with identity norms and conv biases',
  build: (b, sd) => buildSfnet(b, sd, false),
};
