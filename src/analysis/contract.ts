/**
 * The preprocessing contract every bundle carries: how a caller turns an
 * aligned 112x112 RGB face into the network's input. For SphereFace2
 * backbones: x = (pixel - 127.5) / 127.5, NCHW, RGB; the embedding of an image
 * for evaluation is f(x) + f(flip(x)), L2-normalized ("flipTTA": "sum").
 */
import type { Dim } from '../ir/value.js';

export type InputLayout = 'NCHW' | 'NHWC';

export interface InputContract {
  readonly name: string;
  /** [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC: Keras / tf2onnx exports) with N symbolic. */
  readonly shape: readonly Dim[];
  readonly layout: InputLayout;
  /** Channel 0 of the input is red (RGB) or blue (BGR); see ../pipeline/preprocess.ts. */
  readonly colorOrder: 'RGB' | 'BGR';
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export interface ModelContract {
  readonly embeddingDim: number;
  /** Name of the output holding the raw embedding. */
  readonly output: string;
  readonly input: InputContract;
  readonly flipTTA: 'sum';
}

export const SPHEREFACE2_MEAN = [127.5, 127.5, 127.5] as const;
export const SPHEREFACE2_STD = [127.5, 127.5, 127.5] as const;

/**
 * The layout of a rank-4 image input from its shape: NHWC when the last dim is the
 * 1 or 3 channels and dim 1 is not (a [N, 112, 112, 3] Keras/tf2onnx input), else NCHW.
 */
export function inputLayoutOf(shape: readonly Dim[] | undefined): InputLayout {
  if (!shape || shape.length !== 4) return 'NCHW';
  const c1 = shape[1], c3 = shape[3];
  return (c3 === 3 || c3 === 1) && c1 !== 3 && c1 !== 1 ? 'NHWC' : 'NCHW';
}

/** [C, H, W] of a contract's input shape, whatever its layout (numbers or symbols). */
export function chwOf(input: { readonly shape: readonly Dim[]; readonly layout: InputLayout }): [Dim, Dim, Dim] {
  const s = input.shape;
  return input.layout === 'NHWC' ? [s[3] ?? 3, s[1] ?? null, s[2] ?? null] : [s[1] ?? 3, s[2] ?? null, s[3] ?? null];
}
