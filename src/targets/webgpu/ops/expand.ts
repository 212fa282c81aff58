/**
 * Expand (numpy broadcast to a constant shape) as a gather (gather.ts): on an
 * axis where the input has size 1 and the output d, the table is d zeros; other
 * axes are copied. The output keeps the input's rank and its batch axis (F.normalize
 * exports x / Expand(max(||x||, eps), shape(x)); the Div of two activations
 * broadcasts by itself, so this only materializes what Expand asks for).
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { constOf } from './const.js';
import { gatherLayer, type AxisTable } from './gather.js';

export function check(n: Node): string | undefined {
  return constOf(n.inputs[1]) ? undefined : 'the target shape is not constant';
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const xs = c.x.shape, os = c.out.shape;
  if (xs.length !== os.length) return c.fail(`expands rank ${xs.length + 1} to ${os.length + 1}: only same-rank broadcasts keep the batch first`);
  const tables: AxisTable[] = [];
  for (let a = 0; a < xs.length; a++) {
    if (xs[a] === os[a]) tables.push(null);
    else if (xs[a] === 1) tables.push(new Int32Array(os[a]!));
    else return c.fail(`axis ${a + 1}: ${xs[a]} does not broadcast to ${os[a]}`);
  }
  return gatherLayer('expand', n.name, c.x, c.out, tables, 0);
}

export const rule: WebGpuOpRule = {
  constraints: ['constant target shape of the same rank, the batch kept', 'a gather kernel (zero index tables on broadcast axes)'],
  check,
  lower,
};
