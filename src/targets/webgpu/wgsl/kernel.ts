/**
 * A generated kernel (its WGSL, bindings and grid) and the one shape most kernels
 * share: one output element per thread over a grid (ceil(count / WG), images),
 *   thread t = gid.x, image img = gid.y;  threads with t >= LIMIT or img >= P.n
 *   (P.k for the input kernels, which see only the caller's images) return at once.
 * gridKernel writes that entry point around a kernel's body, so the element-wise,
 * pooling, copy, gather, reduction and input kernels differ only in their
 * constants and body.
 */
import type { Act } from '../plan.js';
import { Bindings, ceilDiv, header, type Variant } from './common.js';

export interface Dispatch {
  /** Each dimension: ceil((n*perN + k*perK + add) / div) workgroups (n: network batch, k: caller images). */
  readonly x: DispatchDim;
  readonly y: DispatchDim;
  readonly z: DispatchDim;
}
export interface DispatchDim {
  readonly perN: number;
  readonly perK: number;
  readonly add: number;
  readonly div: number;
}
export const fixed = (c: number): DispatchDim => ({ perN: 0, perK: 0, add: c, div: 1 });
export const perBatch = (perN: number, div: number): DispatchDim => ({ perN, perK: 0, add: 0, div });
export const perK = (div: number): DispatchDim => ({ perN: 0, perK: 1, add: 0, div });

export interface KernelOut {
  readonly code: string;
  readonly bindings: Bindings;
  readonly dispatch: Dispatch;
}

export interface GridKernel {
  readonly v: Variant;
  readonly bindings: Bindings;
  /** WGSL between the bindings and the entry point (constants, helpers, the epilogue), one entry per line or block. */
  readonly decls: readonly string[];
  /** Threads per image: the x extent of the grid. */
  readonly count: number;
  /** The WGSL bound on the thread index (a constant equal to count). */
  readonly limit: string;
  /** The body after the guard, without the closing brace. */
  readonly body: string;
  /** Workgroup size (default 256). */
  readonly wg?: number;
  /** The thread index's name (default 'i'). */
  readonly thread?: string;
  /** Images in the grid: the network batch n (default) or the caller's k. */
  readonly images?: 'n' | 'k';
}

export function gridKernel(k: GridKernel): KernelOut {
  const wg = k.wg ?? 256, t = k.thread ?? 'i', images = k.images ?? 'n';
  const code = `${header(k.v)}
${k.bindings.code()}
${k.decls.join('\n')}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ${t} = gid.x;
  let img = gid.y;
  if (${t} >= ${k.limit} || img >= P.${images}) { return; }
${k.body}
}`;
  return { code, bindings: k.bindings, dispatch: { x: fixed(ceilDiv(k.count, wg)), y: images === 'n' ? perBatch(1, 1) : perK(1), z: fixed(1) } };
}

/** X in, Y out: the bindings of a kernel with one activation input and its output. */
export function inOut(x: Act, out: Act, A: string): Bindings {
  return new Bindings()
    .add('X', `array<${A}>`, 'read', { kind: 'act', act: x.root.id })
    .add('Y', `array<${A}>`, 'read_write', { kind: 'act', act: out.id });
}
