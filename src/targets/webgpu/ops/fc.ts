/**
 * Gemm (transA 0) and MatMul with a constant 2-D B as an fc layer:
 *   y = x W^T + b,  W[d][k] = alpha * (transB ? B[d][k] : B[k][d]),  b = beta * C (per output)
 * The kernel is in wgsl/fc.ts; plan.ts fuses the elementwise chain after it.
 */
import type { Node } from '../../../ir/node.js';
import type { Layer } from '../plan.js';
import type { LowerContext, WebGpuOpRule } from '../op-table.js';
import { constOf } from './const.js';
import { perChannel } from './per-channel.js';

function checkGemm(n: Node): string | undefined {
  if (!constOf(n.inputs[1])) return 'B is not constant';
  if (n.attrInt('transA', 0) !== 0) return 'transA=1';
  if (n.inputs[2] && !constOf(n.inputs[2])) return 'C is not constant';
  return undefined;
}

function checkMatMul(n: Node): string | undefined {
  const b = constOf(n.inputs[1]);
  if (!b) return 'B is not constant (only x @ W with a constant W is supported)';
  if (b.dims.length !== 2) return `B has rank ${b.dims.length}, 2 needed`;
  return undefined;
}

export function lower(n: Node, c: LowerContext): Layer | null {
  const { x, out } = c;
  if (x.shape.length !== 1) return c.fail(`input must be [N, K], per image [${x.shape.join(',')}]`);
  const b = constOf(n.inputs[1])!;
  if (b.dims.length !== 2) return c.fail('B must be 2-D');
  const transB = n.op === 'Gemm' && n.attrInt('transB', 0) === 1;
  const [r, cols] = b.dims as [number, number];
  const k = transB ? cols : r, d = transB ? r : cols;
  if (k !== x.shape[0]) return c.fail(`B [${b.dims.join(',')}] does not fit K=${x.shape[0]}`);
  const alpha = n.op === 'Gemm' ? n.attrFloat('alpha', 1) : 1;
  const beta = n.op === 'Gemm' ? n.attrFloat('beta', 1) : 1;
  const src = b.float32();
  const weight = new Float32Array(d * k);
  for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) weight[i * k + j] = alpha * (transB ? src[i * k + j]! : src[j * d + i]!);
  let bias: Float32Array | null = null;
  const cv = n.op === 'Gemm' ? n.inputs[2] : null;
  if (cv) {
    const pc = perChannel(constOf(cv)!, [d]);
    if (typeof pc === 'string') return c.fail(`C: ${pc}`);
    bias = pc.map((v) => v * beta);
  }
  return { kind: 'fc', x, out, k, d, weight, bias, epi: [], nodes: [n.name] };
}

export const gemm: WebGpuOpRule = { constraints: ['transA 0, constant B and C', 'fuses the same epilogues as Conv'], check: checkGemm, lower };
export const matmul: WebGpuOpRule = { constraints: ['x @ W with a constant 2-D W'], check: checkMatMul, lower };
