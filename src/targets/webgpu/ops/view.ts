/**
 * Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout (inference) as views:
 * row-major data does not move, so the output re-reads its input's storage (plan.ts
 * resolves the view before lowering; the batch must stay first). No kernel.
 */
import type { Node } from '../../../ir/node.js';
import type { WebGpuOpRule } from '../op-table.js';
import { constOf } from './const.js';

function view(constraints: readonly string[], check: (n: Node) => string | undefined = () => undefined): WebGpuOpRule {
  return {
    constraints: ['a view (no kernel): the batch stays first', ...constraints],
    view: true,
    check,
    lower: (_n, c) => c.fail('internal: a view has no layer'),
  };
}

const constAxes = (n: Node): string | undefined => (n.inputs[1] && !constOf(n.inputs[1]) ? 'axes are not constant' : undefined);

export const flatten = view([]);
export const reshape = view(['constant target shape'], (n) => (constOf(n.inputs[1]) ? undefined : 'the target shape is not constant'));
export const squeeze = view(['constant axes'], constAxes);
export const unsqueeze = view(['constant axes'], constAxes);
export const identity = view([]);
export const dropout = view(['inference: the mask unused'], (n) => (n.outputs.length > 1 && n.outputs[1]!.uses.length ? 'the dropout mask is used' : undefined));
