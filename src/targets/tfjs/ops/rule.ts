/**
 * The shape of a row of the tfjs op table (op-map.ts) and what every family in
 * this folder shares. A row is one ONNX op:
 *   tf           the TF ops its lowering may produce (besides Const): declared
 *                here once; the parametrized families take their TF op from
 *                the row (binary('AddV2'), unary('Relu'), reduce('Sum'), ...);
 *   constraints  what must hold, as text (docs/targets.md, error messages);
 *   check        every reason the node cannot be converted (empty when it can);
 *   lower        the node (plus the activation it absorbs) as TF nodes.
 * One file per op family (conv, dense, binary, unary, shape, pool, reduce,
 * gather), each `check*` / `lower*` pairs with its math in the header.
 */
import { DType } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { Converter } from '../convert.js';
import { tfAttr } from '../graphdef.js';

export type Check = (n: Node) => string[];
export type Lower = (n: Node, cx: Converter) => void;

export interface OpRule {
  /** TF ops the lowering may produce (besides Const), in the order it tends to. */
  readonly tf: readonly string[];
  /** What must hold for the node to convert; shown in docs and mirrored by `check`. */
  readonly constraints: readonly string[];
  /** Every reason this node cannot be converted (empty when it can). */
  readonly check: Check;
  readonly lower: Lower;
}

/** The check of a row whose constraints always hold. */
export const noProblems: Check = () => [];

export const T_FLOAT = { T: tfAttr.type('DT_FLOAT') } as const;
/** Largest finite float32: padding value for max pooling (acts as -inf), Clip's missing bounds. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export function isFloatValue(v: Value | null): boolean {
  return !!v && (v.dtype === undefined || v.dtype === DType.FLOAT);
}

export function needConst(n: Node, i: number, what: string): string[] {
  const v = n.inputs[i];
  return v && !v.const ? [`${what} (input ${i}, ${v.name}) must be a constant`] : [];
}

export function staticDims(v: Value | null | undefined, from = 1): v is Value & { shape: number[] } {
  return !!v?.shape && v.shape.slice(from).every((d) => typeof d === 'number');
}

export function constInts(v: Value | null | undefined): number[] | undefined {
  return v?.const ? v.const.numbers() : undefined;
}

export function outputsUnused(n: Node, from: number): string[] {
  return n.outputs.slice(from).some((o) => o.uses.length > 0 || o.isGraphOutput) ? [`output ${from} and later outputs are not supported`] : [];
}

/** Axes from the attribute (older opsets) or the constant input `inputIndex`. */
export function axesOf(n: Node, inputIndex: number): number[] | undefined {
  return n.attrInts('axes') ?? constInts(n.inputs[inputIndex]);
}
