/**
 * sfnet_deprecated (opensphere model/backbone/sfnet_deprecated.py, the 2022 code
 * every SphereFace2 paper config uses), any depth and width, no BN:
 *
 *   per stage L: ConvBlock  conv 3x3/2 (bias) -> ReLU             (layerL.0.conv)
 *     then blocks j >= 1:   conv1 3x3 -> ReLU -> conv2 3x3 -> ReLU, + identity
 *                           (the ReLU comes before the add, none after)
 *   flatten -> fc
 */
import { ArchMismatch, Layers, countBlocks, countStages, inputSizeFor, type Act, type StateDictView } from './common.js';
import type { ArchBuilder, ArchResult } from './types.js';
import { depthName } from './types.js';
import { SFNET_DEPTHS } from './sfnet.js';
import type { GraphBuilder } from '../../ir/builder.js';

export const sfnetDeprecated: ArchBuilder = {
  family: 'sfnet_deprecated',
  summary: 'sfnet of the 2022 paper code: conv(bias)-ReLU per stage, blocks conv-ReLU-conv-ReLU + identity, fc',
  build(b: GraphBuilder, sd: StateDictView): ArchResult {
    const L = new Layers(b, sd);
    const stages = countStages(sd);
    if (stages === 0) throw new ArchMismatch('no layer1.* keys');
    if (!sd.has('layer1.0.conv.weight')) throw new ArchMismatch('no ConvBlock layer1.0.conv');
    const lastConv = sd.tensors.get(`layer${stages}.0.conv.weight`);
    if (!lastConv || lastConv.shape.length !== 4) throw new ArchMismatch(`layer${stages}.0.conv.weight is missing`);
    const size = inputSizeFor(sd, 'fc.weight', lastConv.shape[0]!, stages);
    let x: Act = { v: b.input('input', ['batch', 3, size, size]), c: 3, h: size, w: size };
    const depths: number[] = [];
    const widths: number[] = [];
    for (let s = 1; s <= stages; s++) {
      const stage = `layer${s}`;
      const n = countBlocks(sd, stage);
      x = L.relu(L.conv(x, `${stage}.0.conv`, 3, 2, null, 'yes'), `${stage}.0.act`);
      for (let j = 1; j < n; j++) {
        const p = `${stage}.${j}`;
        let y = L.relu(L.conv(x, `${p}.conv1`, 3, 1, x.c, 'yes'), `${p}.act1`);
        y = L.relu(L.conv(y, `${p}.conv2`, 3, 1, x.c, 'yes'), `${p}.act2`);
        x = L.add(y, x, p);
      }
      depths.push(n - 1);
      widths.push(x.c);
    }
    x = L.flattenLinear(x, 'fc');
    const base = depthName('sfnet_deprecated', depths, SFNET_DEPTHS);
    return { family: 'sfnet_deprecated', name: base ? `${base}_deprecated` : 'sfnet_deprecated', depths, widths, block: 'basic', embeddingDim: x.c, inputSize: [size, size], output: x.v };
  },
};
