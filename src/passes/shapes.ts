/**
 * shapes: fix the image input to [N, 3, H, W] (or [N, H, W, 3] for an NHWC input:
 * last dim 1 or 3 and dim 1 not, see inputLayoutOf) with N symbolic, then give every
 * value a dtype and a shape (the tfjs and WebGPU targets plan buffers and
 * kernels from them).
 *
 * Before                                      After
 *   input [batch, 3, 112, 112]                  input [batch, 3, 112, 112]   (symbol kept)
 *   input [1, 3, 112, 112]   (fixed batch)      input [N, 3, 112, 112]
 *     Reshape(x, [1, -1])                         Reshape(x, [-1, D])          D = prod(static dims of x[1:])
 *     Reshape(x, [1, 512])                        Reshape(x, [-1, 512])
 *     Reshape(x, [1, 0, -1]) (no static D)        Reshape(x, [0, 0, -1])       0 copies N from x
 *   values without annotations                  dtype + shape from inferShapes (../ir/shape-infer.ts)
 *
 * H and W come from the model's input; when the model leaves them symbolic they
 * come from options.inputSize, else 112 x 112 (every SphereFace2 backbone
 * takes aligned 112 x 112 faces), and the report says which.
 *
 * Making a fixed batch symbolic: all inferred shapes of computed values are
 * dropped (they carry the old batch) and inferred again from [N, ...]; a
 * Reshape whose data has the batch as dim 0 and whose constant target starts
 * with the old batch number gets a new target that does not hard-code it (see
 * above). This is repeated until no such Reshape is left. Other constants that
 * hard-code the batch (an Expand to [1, ...]) cannot be recognized in general;
 * if the embedding output does not come out as [N, D], the report says so.
 *
 * Every value whose shape or dtype is still unknown, or has unknown dims, is
 * listed in `skipped` with its producer.
 */
import { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import { hasShapeRule, inferShapes } from '../ir/shape-infer.js';
import { TensorData } from '../ir/tensor.js';
import { inputLayoutOf } from '../analysis/contract.js';
import type { Dim, Value } from '../ir/value.js';
import type { Pass, PassOptions, PassReport } from './pass.js';
import { isOnnxDomain, product, ReportBuilder } from './util.js';

export const DEFAULT_INPUT_SIZE: readonly [number, number] = [112, 112];

function annotations(g: Graph): string {
  const parts: string[] = [];
  for (const v of g.allValues()) parts.push(`${v.name}:${v.dtype ?? '?'}:${v.shape ? v.shape.join(',') : '?'}`);
  return parts.join('|');
}

function clearComputedShapes(g: Graph): void {
  for (const v of g.allValues()) if (v.producer) v.shape = undefined;
}

/** A new target for a Reshape whose constant target hard-codes the old batch as dim 0. */
function unbatchedTarget(x: Value, target: number[]): number[] {
  const rest = target.slice(1);
  if (rest.every((d) => d > 0)) return [-1, ...rest];
  const tail = x.shape?.slice(1);
  if (rest.filter((d) => d === -1).length === 1 && !rest.includes(0) && tail?.every((d) => typeof d === 'number')) {
    const known = product(rest.filter((d) => d !== -1));
    const total = product(tail as number[]);
    if (known > 0 && total % known === 0) return [-1, ...rest.map((d) => (d === -1 ? total / known : d))];
  }
  return [0, ...rest];
}

function fixBatchReshapes(g: Graph, symbol: string, oldBatch: number, rb: ReportBuilder, opset: number): void {
  const reshapes = g.nodes.filter((n) => n.op === 'Reshape' && isOnnxDomain(n));
  for (let round = 0; round <= reshapes.length; round++) {
    clearComputedShapes(g);
    inferShapes(g);
    let fixed: Node | undefined;
    for (const n of g.nodes) {
      if (n.op !== 'Reshape' || !isOnnxDomain(n) || opset < 5) continue;
      const x = n.inputs[0];
      const t = n.inputs[1]?.const;
      if (!x || !t || x.shape?.[0] !== symbol) continue;
      const target = t.numbers();
      if (target[0] !== oldBatch) continue;
      const next = unbatchedTarget(x, target);
      const old = n.inputs[1]!;
      n.setInput(1, g.addConstant(g.uniqueName(`${old.name}_nbatch`), TensorData.int64([next.length], next)));
      rb.add('reshapesFixed');
      fixed = n;
      break; // shapes downstream change: infer again before the next one
    }
    if (!fixed) return;
  }
}

export const shapes: Pass<'shapes'> = {
  name: 'shapes',
  description: 'fix the input to [N, 3, H, W] with N symbolic and infer a dtype and shape for every value',
  run(model, options: PassOptions): PassReport<'shapes'> {
    const g = model.graph;
    const rb = new ReportBuilder('shapes', ['inputFixed', 'batchMadeSymbolic', 'reshapesFixed', 'valuesAnnotated', 'unknown']);
    const before = annotations(g);
    const beforeCount = [...g.allValues()].filter((v) => v.shape && v.dtype !== undefined).length;
    const opset = model.opset('') ?? 17;
    const real = g.realInputs();
    let symbol = options.batchSymbol ?? 'N';
    let sizeSource: 'model' | 'option' | 'default' = 'model';
    let oldBatch: number | undefined;
    if (real.length !== 1) {
      for (const v of real) rb.skip(v.name, `the model has ${real.length} inputs; only a single image input is fixed to [N, 3, H, W]`);
    } else {
      const x = real[0]!;
      const s = x.shape;
      if (s && s.length !== 4) {
        rb.skip(x.name, `the input has rank ${s.length}, not an NCHW image`);
      } else {
        const d0 = s?.[0];
        if (typeof d0 === 'string' && d0 !== '') symbol = d0;
        if (typeof d0 === 'number') oldBatch = d0;
        const nhwc = inputLayoutOf(s) === 'NHWC';
        const [c0, h0, w0] = nhwc ? [s?.[3], s?.[1], s?.[2]] : [s?.[1], s?.[2], s?.[3]];
        const c = typeof c0 === 'number' ? c0 : 3;
        let hw: [number, number];
        if (typeof h0 === 'number' && typeof w0 === 'number') hw = [h0, w0];
        else if (options.inputSize) {
          hw = [options.inputSize[0], options.inputSize[1]];
          sizeSource = 'option';
        } else {
          hw = [DEFAULT_INPUT_SIZE[0], DEFAULT_INPUT_SIZE[1]];
          sizeSource = 'default';
          rb.skip(x.name, `the model does not fix H and W; assumed ${hw[0]} x ${hw[1]} (SphereFace2 input); pass inputSize otherwise`);
        }
        const want: Dim[] = nhwc ? [symbol, hw[0], hw[1], c] : [symbol, c, hw[0], hw[1]];
        if (!s || s.some((d, i) => d !== want[i])) {
          x.shape = want;
          rb.add('inputFixed');
        }
        x.dtype ??= DType.FLOAT;
        if (oldBatch !== undefined) {
          rb.add('batchMadeSymbolic');
          fixBatchReshapes(g, symbol, oldBatch, rb, opset);
          g.cleanup();
        }
      }
    }
    inferShapes(g);

    for (const v of g.allValues()) {
      if (v.const || (!v.producer && !v.isGraphInput)) continue;
      if (v.producer && v.uses.length === 0 && !v.isGraphOutput) continue; // unused optional output
      const unknown = v.dtype === undefined || !v.shape || v.shape.some((d) => d === null);
      if (!unknown) continue;
      const p = v.producer;
      const why = !p ? 'graph input without a shape' : !hasShapeRule(p.op) || !isOnnxDomain(p) ? `${p.op} has no shape rule` : `${p.op} ${p.name}: its inputs' shapes are unknown or not static enough`;
      rb.skip(v.name, `shape or dtype unknown after inference (${why})`);
      rb.add('unknown');
    }
    for (const o of g.outputs) {
      if (real.length === 1 && o.shape && o.shape[0] !== symbol) {
        rb.skip(o.name, `output batch dim is ${o.shape[0] ?? 'unknown'}, not ${symbol}: a constant in the graph may hard-code the batch`);
      }
    }
    const after = annotations(g);
    const afterCount = [...g.allValues()].filter((v) => v.shape && v.dtype !== undefined).length;
    rb.add('valuesAnnotated', Math.max(0, afterCount - beforeCount));
    const input = real.length === 1 ? { name: real[0]!.name, shape: real[0]!.shape ?? null } : null;
    return rb.build(before !== after, { input, batchSymbol: symbol, inputSizeSource: sizeSource });
  },
};
