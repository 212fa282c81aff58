/** Constants of the graph as the op rules read them. */
import type { TensorData } from '../../../ir/tensor.js';
import type { Value } from '../../../ir/value.js';

/** Constant data of a value: an initializer, or a Constant node's tensor. */
export function constOf(v: Value | null | undefined): TensorData | undefined {
  if (!v) return undefined;
  if (v.const) return v.const;
  const p = v.producer;
  if (p?.op === 'Constant') {
    const a = p.attr('value');
    if (a?.type === 'TENSOR') return a.value;
  }
  return undefined;
}
