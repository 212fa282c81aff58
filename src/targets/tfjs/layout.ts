/**
 * How an ONNX value is held in the TF graph (see convert.ts for the scheme):
 *   plain  same shape and element order as ONNX;
 *   nhwc   ONNX [N, C, H, W] held as [N, H, W, C];
 *   flat   ONNX [N, C*H*W] (flatten of NCHW) held as [N, H*W*C] (flatten of NHWC).
 */
import { DType } from '../../ir/dtype.js';
import type { Dim } from '../../ir/value.js';

export type Layout =
  | { readonly kind: 'plain' }
  | { readonly kind: 'nhwc' }
  | { readonly kind: 'flat'; readonly c: number; readonly h: number; readonly w: number };

export const PLAIN: Layout = { kind: 'plain' };
export const NHWC: Layout = { kind: 'nhwc' };

export interface TfTensor {
  /** TF tensor reference ("node" or "node:1"). */
  readonly ref: string;
  readonly layout: Layout;
}

export function isIntType(dtype: number): boolean {
  return dtype === DType.INT64 || dtype === DType.INT32 || dtype === DType.INT16 || dtype === DType.INT8 || dtype === DType.UINT8 || dtype === DType.BOOL;
}

/** TF dims of an ONNX shape: symbols and unknowns become -1. */
export function tfDims(shape: readonly Dim[]): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : -1));
}
