/**
 * The TensorFlow.js target: DIR/tfjs/<precision>/model.json + group1-shard*.bin,
 * a graph model that `tf.loadGraphModel` loads with nothing but the published
 * tfjs packages. See bundle.ts for the files, convert.ts for the conversion.
 * Beside them: golden.bin (the golden set, src/bundle/golden-set.ts) and
 * sf2-tfjs.js, which runs it on any loaded GraphModel and backend.
 */
import type { Model } from '../../ir/model.js';
import type { Precision } from '../../ir/precision.js';
import type { QuantizeDetails } from '../../quantize/index.js';
import type { BundleFile, GoldenSetDetails, Target, TargetContext, TargetResult } from '../target.js';
import { buildTfjsBundle, checkTfjs, writeTfjsBundle, type TfjsDetails } from './bundle.js';
import { decideTfjsInt8 } from './int8.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goldenPath, MODULE_PACKAGE_JSON, withGoldenRuntime, writeGoldenSet } from '../../bundle/golden-set.js';

/** The golden-set self-test for any loaded GraphModel (src/targets/tfjs/runtime/sf2-tfjs.js). */
export const HELPER = 'sf2-tfjs.js';
export const HELPER_TYPES = 'sf2-tfjs.d.ts';

/**
 * The manifest facts of a tfjs bundle: the conversion's (bundle.ts), at int8
 * the target's own mixed-precision measurement (int8.ts), and the golden set.
 */
export type TfjsTargetDetails = TfjsDetails & Partial<QuantizeDetails> & { readonly goldenSet?: GoldenSetDetails };

export const tfjsTarget: Target<TfjsTargetDetails> = {
  name: 'tfjs',
  check(model: Model, _precision: Precision): void {
    checkTfjs(model);
  },
  async write(ctx: TargetContext): Promise<TargetResult<TfjsTargetDetails>> {
    // int8: which kernels stay float32, decided for this target's scheme (int8.ts).
    const int8 = ctx.precision === 'int8' ? await decideTfjsInt8(ctx) : undefined;
    const bundle = buildTfjsBundle(ctx.model, ctx.contract, ctx.precision, { inputLayout: ctx.options.tfjsInput ?? 'nchw', keepFloat32: int8?.keep });
    const paths = writeTfjsBundle(ctx.outDir, bundle, ctx.precision);
    const files: BundleFile[] = [
      { path: paths.model, target: 'tfjs', precision: ctx.precision, role: 'model' },
      ...paths.shards.map((p): BundleFile => ({ path: p, target: 'tfjs', precision: ctx.precision, role: 'weights' })),
    ];
    // With golden rows: the golden set and its self-test helper (sf2-tfjs.js + package.json marking it an ES module).
    let goldenSet: GoldenSetDetails | undefined;
    if (ctx.golden) {
      const dir = `tfjs/${ctx.precision}`;
      writeFileSync(join(ctx.outDir, dir, HELPER), withGoldenRuntime(new URL(`../../../src/targets/tfjs/runtime/${HELPER}`, import.meta.url)));
      writeFileSync(join(ctx.outDir, dir, 'package.json'), MODULE_PACKAGE_JSON);
      writeFileSync(join(ctx.outDir, dir, HELPER_TYPES), readFileSync(new URL(`../../../src/targets/tfjs/runtime/${HELPER_TYPES}`, import.meta.url)));
      files.push(
        { path: `${dir}/${HELPER}`, target: 'tfjs', precision: ctx.precision, role: 'runtime' },
        { path: `${dir}/${HELPER_TYPES}`, target: 'tfjs', precision: ctx.precision, role: 'types' },
        { path: `${dir}/package.json`, target: 'tfjs', precision: ctx.precision, role: 'runtime' },
      );
      const g = writeGoldenSet({ source: ctx.golden, target: 'tfjs', precision: ctx.precision, outDir: ctx.outDir, path: goldenPath('tfjs', ctx.precision), weights: paths.shards, feedLayout: bundle.details.inputLayout });
      files.push(g.file);
      goldenSet = g.details;
    }
    return { files, details: { ...bundle.details, ...(int8 ? int8.details : {}), ...(goldenSet ? { goldenSet } : {}) } };
  },
};
