/**
 * TensorFlow GraphDef in proto3 JSON, as `@tensorflow/tfjs-converter` reads it
 * from model.json's `modelTopology` (a tfjs graph model's model.json holds
 * {format: 'graph-model', modelTopology, weightsManifest}):
 *   node  {name, op, input: ["src", "src:1"], attr: {key: AttrValue}}
 *   AttrValue sets one of s (base64), i (int64 as a string), f, b, type,
 *   shape, tensor, or list {s|i|f|b|type|shape: [...]}.
 * Only what the tfjs target emits is typed here.
 */

export type TfDType = 'DT_FLOAT' | 'DT_INT32' | 'DT_BOOL';

export interface TfShape {
  readonly dim?: readonly { readonly size: string }[];
  readonly unknownRank?: boolean;
}

export interface TfAttr {
  readonly s?: string;
  readonly i?: string;
  readonly f?: number;
  readonly b?: boolean;
  readonly type?: TfDType;
  readonly shape?: TfShape;
  readonly tensor?: { readonly dtype: TfDType; readonly tensorShape: TfShape };
  readonly list?: {
    readonly s?: readonly string[];
    readonly i?: readonly string[];
    readonly f?: readonly number[];
    readonly type?: readonly TfDType[];
  };
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, TfAttr>>;
}

/** Attribute value builders (proto3 JSON spelling). */
export const tfAttr = {
  type: (t: TfDType): TfAttr => ({ type: t }),
  int: (v: number): TfAttr => ({ i: String(v) }),
  float: (v: number): TfAttr => ({ f: v }),
  bool: (v: boolean): TfAttr => ({ b: v }),
  str: (v: string): TfAttr => ({ s: Buffer.from(v, 'utf8').toString('base64') }),
  ints: (v: readonly number[]): TfAttr => ({ list: { i: v.map(String) } }),
  strs: (v: readonly string[]): TfAttr => ({ list: { s: v.map((x) => Buffer.from(x, 'utf8').toString('base64')) } }),
  shape: (dims: readonly number[]): TfAttr => ({ shape: tfShape(dims) }),
  tensor: (dtype: TfDType, dims: readonly number[]): TfAttr => ({ tensor: { dtype, tensorShape: tfShape(dims) } }),
};

/** A TensorShapeProto; -1 is an unknown dimension. A scalar has no `dim`. */
export function tfShape(dims: readonly number[]): TfShape {
  return dims.length ? { dim: dims.map((d) => ({ size: String(d) })) } : {};
}
