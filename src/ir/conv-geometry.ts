/**
 * Conv / pool geometry along one spatial axis, the one definition shape
 * inference, the passes and the targets share (here in ir/, the lowest of
 * them).
 *
 * ONNX auto_pad SAME_UPPER / SAME_LOWER: the output has ceil(in / stride)
 * positions, and the input is padded by
 *   total = max((ceil(in / stride) - 1) * stride + (kernel - 1) * dilation + 1 - in, 0)
 * split as begin = floor(total / 2) (SAME_UPPER: the odd one at the end) or
 * begin = ceil(total / 2) (SAME_LOWER: the odd one at the start), end = total - begin.
 */

export type SameMode = 'SAME_UPPER' | 'SAME_LOWER';

export function isSame(autoPad: string): autoPad is SameMode {
  return autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
}

/** Output positions of one axis under auto_pad SAME_UPPER / SAME_LOWER. */
export function sameOutput(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/** [begin, end] padding of one axis under auto_pad SAME_UPPER / SAME_LOWER. */
export function samePads(size: number, kernel: number, stride: number, dilation: number, mode: SameMode): [number, number] {
  const total = Math.max((sameOutput(size, stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const begin = mode === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
  return [begin, total - begin];
}
