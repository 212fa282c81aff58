/**
 * The WebGPU target: DIR/webgpu/<precision>/ holds
 *   sf2.js      the runtime (an ES module with no dependencies, copied verbatim)
 *   sf2.d.ts    its types
 *   model.json  layers, shapes, weight offsets, activation slots, the WGSL kernels
 *               generated for this model, and the preprocessing contract
 *   weights.bin packed weights (fp32, fp16 or int8 + f32 per-channel scales)
 *   golden.bin  the golden set sf2.js's selfTest() runs (src/bundle/golden-set.ts)
 *   package.json { "type": "module" }: Node loads sf2.js as the ES module it is from
 *               any app, a CommonJS one included (docs/targets.md)
 * and DIR/webgpu/index.html, a demo page (`sf2-export serve DIR`).
 *
 * Everything is deterministic: the same model and precision give the same bytes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../../ir/model.js';
import type { Precision } from '../../ir/precision.js';
import { stableStringify } from '../../bundle/stable-json.js';
import { TOOL_NAME, TOOL_VERSION } from '../../version.js';
import type { BundleFile, GoldenSetDetails, Target, TargetContext, TargetResult } from '../target.js';
import type { QuantizeDetails } from '../../quantize/index.js';
import { planGraph } from './plan.js';
import { UnsupportedError } from '../../errors.js';
import { FLOAT16_MAX } from '../../quantize/schemes.js';
import { buildBundle, type ManifestVariant } from './program.js';
import { decideWebgpuInt8 } from './int8.js';
import { goldenPath, withGoldenRuntime, writeGoldenSet } from '../../bundle/golden-set.js';

/** Files shipped verbatim from src/targets/webgpu/runtime/ (found from src/ and from dist/). */
export const RUNTIME_FILES = ['sf2.js', 'sf2.d.ts'] as const;
export const PAGE_FILE = 'index.html';
/** webgpu/<precision>/package.json: marks sf2.js as an ES module for Node in any app. */
export const BUNDLE_PACKAGE_JSON = '{ "type": "module" }\n';

export function runtimeAsset(name: (typeof RUNTIME_FILES)[number] | typeof PAGE_FILE): URL {
  // From src/targets/webgpu/target.ts and from dist/targets/webgpu/target.js alike,
  // three levels up is the package root.
  return new URL(`../../../src/targets/webgpu/runtime/${name}`, import.meta.url);
}

export function readRuntimeAsset(name: (typeof RUNTIME_FILES)[number] | typeof PAGE_FILE): Buffer {
  return readFileSync(runtimeAsset(name));
}

/**
 * The manifest facts of a WebGPU bundle: the kernel plan (layers, dispatches, each
 * variant's requirements and shader count, weights and activation slots, fused ops),
 * at int8 the target's own mixed-precision measurement (int8.ts), and the golden set.
 */
export type WebGpuDetails = {
  readonly layers: number;
  readonly dispatches: number;
  readonly variants: Readonly<Record<string, Pick<ManifestVariant, 'requires' | 'activation' | 'weights'> & { readonly shaders: number }>>;
  readonly weightsBytes: number;
  readonly activationSlots: number;
  /** "<layer>: <op>+<fused op>+..." for every layer with fused ops. */
  readonly fused: readonly string[];
} & Partial<QuantizeDetails> & { readonly goldenSet?: GoldenSetDetails };

export const webgpuTarget: Target<WebGpuDetails> = {
  name: 'webgpu',
  check(model: Model, precision: Precision) {
    // Lowering reads every op, attribute and shape: it throws one UnsupportedError listing all problems.
    const plan = planGraph(model.graph, model.graph.outputs[0]?.name);
    if (precision === 'fp16') {
      const over: string[] = [];
      for (const l of plan.layers) {
        if (l.kind !== 'conv' && l.kind !== 'fc') continue;
        let m = 0;
        for (const w of l.weight) m = Math.max(m, Math.abs(w));
        if (m > FLOAT16_MAX) over.push(`${l.nodes[0]} (max |w| ${m})`);
      }
      if (over.length) throw new UnsupportedError('fp16-range', `webgpu fp16: weights of ${over.join(', ')} do not fit in float16 (max ${FLOAT16_MAX})`, 'export with --precision fp32 (or int8)');
    }
  },
  async write(ctx: TargetContext): Promise<TargetResult<WebGpuDetails>> {
    const { precision } = ctx;
    // int8: which conv / fc weights stay float32, decided for this target's scheme (int8.ts).
    const int8 = precision === 'int8' ? await decideWebgpuInt8(ctx) : undefined;
    const built = buildBundle(ctx.model.graph, { precision, contract: ctx.contract, generatedBy: `${TOOL_NAME} ${TOOL_VERSION}`, keepFloat32: int8?.keep });
    const rel = `webgpu/${precision}`;
    const dir = join(ctx.outDir, rel);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.json'), stableStringify(built.manifest));
    writeFileSync(join(dir, 'weights.bin'), built.weights);
    // sf2.js ships with the golden-set self-test appended (src/bundle/golden-set.ts).
    for (const f of RUNTIME_FILES) writeFileSync(join(dir, f), f === 'sf2.js' ? withGoldenRuntime(runtimeAsset(f)) : readRuntimeAsset(f));
    // sf2.js is an ES module: this package.json makes Node load it as one from any app, a CommonJS
    // app ("type": "commonjs", or no type) included, and is ignored by browsers and bundlers.
    writeFileSync(join(dir, 'package.json'), BUNDLE_PACKAGE_JSON);
    const files: BundleFile[] = [
      { path: `${rel}/model.json`, target: 'webgpu', precision, role: 'model' },
      { path: `${rel}/weights.bin`, target: 'webgpu', precision, role: 'weights' },
      { path: `${rel}/sf2.js`, target: 'webgpu', precision, role: 'runtime' },
      { path: `${rel}/sf2.d.ts`, target: 'webgpu', precision, role: 'types' },
      { path: `${rel}/package.json`, target: 'webgpu', precision, role: 'runtime' },
    ];
    let golden: GoldenSetDetails | undefined;
    if (ctx.golden) {
      const g = writeGoldenSet({ source: ctx.golden, target: 'webgpu', precision, outDir: ctx.outDir, path: goldenPath('webgpu', precision), weights: [`${rel}/weights.bin`] });
      files.push(g.file);
      golden = g.details;
    }
    // One demo page per bundle, listed with the first precision written.
    const page = join(ctx.outDir, 'webgpu', PAGE_FILE);
    if (!existsSync(page)) {
      writeFileSync(page, readRuntimeAsset(PAGE_FILE));
      files.push({ path: `webgpu/${PAGE_FILE}`, target: 'webgpu', precision, role: 'page' });
    }
    const m = built.manifest;
    const v = Object.values(m.variants);
    ctx.log.debug(`webgpu ${precision}: ${m.layers.length} layers, ${m.steps.length} dispatches, ${v[0]!.shaders.length} shaders, ${m.slots.length} activation slots, weights ${m.weights.byteLength} bytes`);
    return {
      files,
      details: {
        layers: m.layers.length,
        dispatches: m.steps.length,
        variants: Object.fromEntries(Object.entries(m.variants).map(([k, x]) => [k, { requires: x.requires, activation: x.activation, weights: x.weights, shaders: x.shaders.length }])),
        weightsBytes: m.weights.byteLength,
        activationSlots: m.slots.length,
        fused: m.layers.filter((l) => l.fused.length > 0).map((l) => `${l.name}: ${l.op}+${l.fused.join('+')}`),
        ...(int8 ? int8.details : {}),
        ...(golden ? { goldenSet: golden } : {}),
      },
    };
  },
};
