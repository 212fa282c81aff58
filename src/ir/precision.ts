/** Precisions a bundle can be written in, for every target. */
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
export const DEFAULT_PRECISIONS: readonly Precision[] = ['fp32', 'fp16'];
