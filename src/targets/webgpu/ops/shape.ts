/**
 * Index arithmetic the op kernels share, generated as WGSL for one layer's exact
 * per-image shapes (row-major, the batch first and not part of the shape):
 *   strides(s)[a] = prod_{b > a} s[b]
 *   digits: the flat index i of an element of shape s is sum_a o_a * strides(s)[a];
 *   `unflatten` emits `let o<a> = ...` for every axis, last axis first.
 */
export function strides(s: readonly number[]): number[] {
  const out = new Array<number>(s.length).fill(1);
  for (let a = s.length - 2; a >= 0; a--) out[a] = out[a + 1]! * s[a + 1]!;
  return out;
}

export function elementsOf(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/** WGSL lines: `o0 .. o{r-1}` (u32) the coordinates of flat index `i` in shape `s`. */
export function unflatten(s: readonly number[], i: string, indent = '  '): string {
  const lines = [`${indent}var r_ = ${i};`];
  for (let a = s.length - 1; a >= 0; a--) {
    if (a === 0) lines.push(`${indent}let o0 = r_;`);
    else lines.push(`${indent}let o${a} = r_ % ${s[a]}u; r_ = r_ / ${s[a]}u;`);
  }
  return lines.join('\n');
}
