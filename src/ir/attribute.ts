/**
 * Node attributes. Integers are bigint (ONNX int64) so nothing is lost; use the
 * typed getters on Node for the common number cases. Subgraphs, sparse tensors
 * and type protos are kept as the decoded protobuf objects and written back
 * unchanged.
 */
import type { onnx } from 'onnx-proto';
import type { TensorData } from './tensor.js';

export type Attribute =
  | { readonly type: 'FLOAT'; readonly value: number }
  | { readonly type: 'INT'; readonly value: bigint }
  | { readonly type: 'STRING'; readonly value: Uint8Array }
  | { readonly type: 'TENSOR'; readonly value: TensorData }
  | { readonly type: 'GRAPH'; readonly value: onnx.IGraphProto }
  | { readonly type: 'SPARSE_TENSOR'; readonly value: onnx.ISparseTensorProto }
  | { readonly type: 'TYPE_PROTO'; readonly value: onnx.ITypeProto }
  | { readonly type: 'FLOATS'; readonly value: readonly number[] }
  | { readonly type: 'INTS'; readonly value: readonly bigint[] }
  | { readonly type: 'STRINGS'; readonly value: readonly Uint8Array[] }
  | { readonly type: 'TENSORS'; readonly value: readonly TensorData[] }
  | { readonly type: 'GRAPHS'; readonly value: readonly onnx.IGraphProto[] }
  | { readonly type: 'SPARSE_TENSORS'; readonly value: readonly onnx.ISparseTensorProto[] }
  | { readonly type: 'TYPE_PROTOS'; readonly value: readonly onnx.ITypeProto[] }
  /** A reference to a function's attribute (inside FunctionProto bodies). */
  | { readonly type: 'REF'; readonly refAttrName: string; readonly refType: number };

export type AttributeWithDoc = Attribute & { readonly docString?: string };

const enc = new TextEncoder();

export const attr = {
  int: (v: number | bigint): Attribute => ({ type: 'INT', value: BigInt(v) }),
  ints: (v: readonly (number | bigint)[]): Attribute => ({ type: 'INTS', value: v.map((x) => BigInt(x)) }),
  float: (v: number): Attribute => ({ type: 'FLOAT', value: v }),
  floats: (v: readonly number[]): Attribute => ({ type: 'FLOATS', value: [...v] }),
  string: (v: string): Attribute => ({ type: 'STRING', value: enc.encode(v) }),
  tensor: (v: TensorData): Attribute => ({ type: 'TENSOR', value: v }),
};
