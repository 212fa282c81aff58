/**
 * The TensorFlow.js target: DIR/tfjs/<precision>/model.json + group1-shard*.bin,
 * a graph model that `tf.loadGraphModel` loads with nothing but the published
 * tfjs packages. See bundle.ts for the files, convert.ts for the conversion.
 */
import type { Model } from '../../ir/model.js';
import type { Precision } from '../../pipeline/precision.js';
import type { BundleFile, Target, TargetContext, TargetResult } from '../target.js';
import { buildTfjsBundle, checkTfjs, writeTfjsBundle } from './bundle.js';

export const tfjsTarget: Target = {
  name: 'tfjs',
  check(model: Model, _precision: Precision): void {
    checkTfjs(model);
  },
  async write(ctx: TargetContext): Promise<TargetResult> {
    const bundle = buildTfjsBundle(ctx.model, ctx.contract, ctx.precision, { inputLayout: ctx.options.tfjsInput ?? 'nchw' });
    const paths = writeTfjsBundle(ctx.outDir, bundle, ctx.precision);
    const files: BundleFile[] = [
      { path: paths.model, target: 'tfjs', precision: ctx.precision, role: 'model' },
      ...paths.shards.map((p): BundleFile => ({ path: p, target: 'tfjs', precision: ctx.precision, role: 'weights' })),
    ];
    return { files, details: { ...bundle.details } };
  },
};
