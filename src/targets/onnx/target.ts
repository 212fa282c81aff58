/**
 * The ONNX target: DIR/onnx/model.<precision>.onnx. fp32 is the optimized graph
 * as it is; other precisions are made by src/quantize from a clone.
 */
import { saveOnnx } from '../../onnx/export.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import type { Target, TargetContext, TargetResult } from '../target.js';
import type { Model } from '../../ir/model.js';
import type { Precision } from '../../pipeline/precision.js';

export const onnxTarget: Target = {
  name: 'onnx',
  check(_model: Model, precision: Precision) {
    if (precision !== 'fp32') throw new UsageError(`--precision ${precision}: not built yet for the onnx target`, 'use --precision fp32');
  },
  async write(ctx: TargetContext): Promise<TargetResult> {
    const dir = join(ctx.outDir, 'onnx');
    mkdirSync(dir, { recursive: true });
    const rel = `onnx/model.${ctx.precision}.onnx`;
    saveOnnx(ctx.model, join(ctx.outDir, rel), { externalData: 'auto' });
    return { files: [{ path: rel, target: 'onnx', precision: ctx.precision, role: 'model' }] };
  },
};
