/**
 * BatchNormalization (inference) as an affine step that fuses:
 *   y = x*s + t,  s = gamma / sqrt(var + eps),  t = beta - mean*s   (analysis/batchnorm.ts, float64 then float32)
 */
import { bnAffine } from '../../../analysis/batchnorm.js';
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { eltwise } from './activation.js';
import { constOf } from './const.js';

function check(n: Node): string | undefined {
  if (n.outputs.filter((o) => !o.placeholder && o.uses.length > 0).length > 1 || n.attrInt('training_mode', 0) === 1) return 'training-mode batch norm';
  for (let i = 1; i < 5; i++) if (!constOf(n.inputs[i])) return 'statistics or parameters are not constant';
  return undefined;
}

function lower(n: Node, c: LowerContext): Layer | null {
  const eps = n.attrFloat('epsilon', 1e-5);
  const [g, b, m, v] = [1, 2, 3, 4].map((i) => constOf(n.inputs[i])!.float64());
  const ch = c.x.shape[0]!;
  if (g!.length !== ch) return c.fail(`has ${g!.length} channels, the input ${ch}`);
  const affine = bnAffine(g!, b!, m!, v!, eps); // float64, then float32
  return eltwise(n, c, { op: 'affine', scale: Float32Array.from(affine.s), shift: Float32Array.from(affine.t) });
}

export const rule: WebGpuOpRule = { constraints: ['inference mode, constant statistics: an affine step that fuses'], check, lower };
