/**
 * The preprocessing contract every bundle carries: how a caller turns an
 * aligned 112x112 RGB face into the network's input. For SphereFace2
 * backbones: x = (pixel - 127.5) / 127.5, NCHW, RGB; the embedding of an image
 * for evaluation is f(x) + f(flip(x)), L2-normalized ("flipTTA": "sum").
 */
import type { Dim } from '../ir/value.js';

export interface InputContract {
  readonly name: string;
  /** [N, 3, H, W] with N symbolic. */
  readonly shape: readonly Dim[];
  readonly layout: 'NCHW';
  readonly colorOrder: 'RGB';
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
