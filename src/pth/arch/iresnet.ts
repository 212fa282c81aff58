/**
 * iresnet (opensphere model/backbone/iresnet.py, 2022 and 2023; the insightface
 * IResNet), any depth and width:
 *
 *   conv1 3x3/1 -> bn1 -> prelu
 *   per stage L (stride 2 in its first block), blocks j:
 *     bn1 -> conv1 3x3/1 -> bn2 -> prelu -> conv2 3x3/s -> bn3   (+ identity,
 *     or downsample.0 conv 1x1/s -> downsample.1 BN when the shape changes)
 *   bn2 (BN2d) -> flatten -> dropout (nothing in eval) -> fc -> features (BN1d)
 *
 * Stride is not in a state_dict: the first block of every stage has stride 2,
 * as in opensphere; the fc in-features must then match (checked), which also
 * gives the input size (7 x 7 maps from 112 x 112).
 */
import { ArchMismatch, Layers, countBlocks, countStages, inputSizeFor, type Act, type StateDictView } from './common.js';
import type { ArchBuilder, ArchResult } from './types.js';
import { depthName } from './types.js';
import type { GraphBuilder } from '../../ir/builder.js';

export const IRESNET_DEPTHS: Readonly<Record<string, readonly number[]>> = {
  iresnet18: [2, 2, 2, 2],
  iresnet34: [3, 4, 6, 3],
  iresnet50: [3, 4, 14, 3],
  iresnet100: [3, 13, 30, 3],
  iresnet200: [6, 26, 60, 6],
};

export const iresnet: ArchBuilder = {
  family: 'iresnet',
  summary: 'IResNet: stem conv-BN-PReLU, blocks BN-conv-BN-PReLU-conv-BN (+ downsample), BN2d-flatten-fc-BN1d',
  build(b: GraphBuilder, sd: StateDictView): ArchResult {
    const L = new Layers(b, sd);
    const stages = countStages(sd);
    if (stages === 0) throw new ArchMismatch('no layer1.* keys');
    if (!sd.has('layer1.0.bn1.weight') || !sd.has('prelu.weight')) throw new ArchMismatch('no IBasicBlock (layer1.0.bn1, prelu)');
    const last = sd.tensors.get('bn2.weight');
    if (!last || last.shape.length !== 1) throw new ArchMismatch('bn2.weight (the BN2d before fc) is missing');
    const size = inputSizeFor(sd, 'fc.weight', last.shape[0]!, stages);
    const x0: Act = { v: b.input('input', ['batch', 3, size, size]), c: 3, h: size, w: size };
    let x = L.conv(x0, 'conv1', 3, 1, null, 'no');
    x = L.bn(x, 'bn1', 'after-conv');
    x = L.prelu(x, 'prelu');
    const depths: number[] = [];
    const widths: number[] = [];
    for (let s = 1; s <= stages; s++) {
      const stage = `layer${s}`;
      const n = countBlocks(sd, stage);
      if (n === 0) throw new ArchMismatch(`${stage} has no blocks`);
      for (let j = 0; j < n; j++) {
        const p = `${stage}.${j}`;
        const stride = j === 0 ? 2 : 1;
        const inp = x;
        let y = L.bn(inp, `${p}.bn1`, 'before-conv');
        y = L.conv(y, `${p}.conv1`, 3, 1, null, 'no');
        y = L.bn(y, `${p}.bn2`, 'after-conv');
        y = L.prelu(y, `${p}.prelu`);
        y = L.conv(y, `${p}.conv2`, 3, stride, y.c, 'no');
        y = L.bn(y, `${p}.bn3`, 'after-conv');
        let id = inp;
        if (sd.has(`${p}.downsample.0.weight`)) {
          id = L.conv(inp, `${p}.downsample.0`, 1, stride, y.c, 'no');
          id = L.bn(id, `${p}.downsample.1`, 'after-conv');
        }
        x = L.add(y, id, p);
      }
      depths.push(n);
      widths.push(x.c);
    }
    x = L.bn(x, 'bn2', 'before-flatten');
    x = L.flattenLinear(x, 'fc');
    if (sd.has('features.weight')) x = L.bn(x, 'features', 'after-linear');
    const name = depthName('iresnet', depths, IRESNET_DEPTHS) ?? 'iresnet';
    return { family: 'iresnet', name, depths, widths, block: 'ibasic', embeddingDim: x.c, inputSize: [size, size], output: x.v };
  },
};
