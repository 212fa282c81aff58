/**
 * From a plan to the bundle: kernels per variant, weights.bin, the activation
 * memory plan and model.json (the manifest sf2.js interprets).
 *
 * Memory plan: every materialized activation (views share their root) and every
 * split-K scratch gets a slot. Walking the steps in order, a step's outputs take a
 * free slot of their kind (first fit; a slot grows to its largest tenant), and the
 * values whose last reader was this step free their slot afterwards, so no step ever
 * writes a slot it reads. Slots are sized per image; sf2.js multiplies by the batch.
 */
import { createHash } from 'node:crypto';
import type { ModelContract } from '../../analysis/contract.js';
import type { Precision } from '../../ir/precision.js';
import type { Graph } from '../../ir/graph.js';
import { planGraph, type Layer, type Plan } from './plan.js';
import { Aux, type BindingRef, type LayerBinding, type Variant } from './wgsl/common.js';
import { chooseTile, convKernels, type Tile } from './wgsl/conv.js';
import type { Dispatch, KernelOut } from './wgsl/kernel.js';
import { fcKernel } from './wgsl/fc.js';
import { eltwiseKernel, gapKernel, poolKernel } from './wgsl/eltwise.js';
import { finishKernel, inputF32Kernel, inputRgbaKernel, inputTextureKernel, type IoSpec } from './wgsl/io.js';
import { packQuads, type Packed, type WeightDType } from './pack.js';

export const MANIFEST_FORMAT = 'sf2-webgpu';
export const MANIFEST_VERSION = 1;
/** Tensor offsets in weights.bin are multiples of this (minStorageBufferOffsetAlignment is at most 256). */
export const WEIGHT_ALIGN = 256;

export function variantsFor(precision: Precision): Variant[] {
  switch (precision) {
    case 'fp32': return [{ name: 'f32', act: 'f32', weights: 'f32' }];
    case 'fp16': return [{ name: 'f16', act: 'f16', weights: 'f16' }, { name: 'f32', act: 'f32', weights: 'f16-packed' }];
    // int8 keeps f32 arithmetic: raw q values (up to 127) times activations, summed over a
    // K tile in f16, could pass 65504 before the scale brings them back.
    case 'int8': return [{ name: 'f32', act: 'f32', weights: 'int8' }];
  }
}

const WEIGHT_DTYPE: Record<Precision, WeightDType> = { fp32: 'f32', fp16: 'f16', int8: 'i8' };

export interface ManifestTensor {
  readonly name: string;
  readonly offset: number;
  readonly byteLength: number;
  readonly dtype: WeightDType;
  readonly shape: readonly number[];
  readonly layout: string;
}

export interface ManifestStep {
  readonly layer: number;
  readonly kernel: string;
  readonly bindings: readonly BindingRef[];
  readonly dispatch: Dispatch;
}

export interface ManifestIoStep {
  readonly bindings: readonly BindingRef[];
  readonly dispatch: Dispatch;
}

export interface ManifestVariant {
  readonly requires: readonly string[];
  readonly activation: 'f32' | 'f16';
  readonly weights: string;
  /** Unique WGSL sources; steps and io refer to them by index. */
  readonly shaders: readonly string[];
  readonly steps: readonly number[];
  readonly io: { readonly inputF32: number; readonly inputRgba: number; readonly inputTexture: number; readonly finish: number };
}

export interface WebGpuManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: typeof MANIFEST_VERSION;
  readonly generatedBy: string;
  readonly precision: Precision;
  readonly input: {
    readonly name: string;
    readonly shape: readonly (number | string)[];
    readonly layout: 'NCHW' | 'NHWC';
    readonly colorOrder: 'RGB' | 'BGR';
    readonly channels: 3;
    readonly height: number;
    readonly width: number;
    readonly mean: readonly number[];
    readonly std: readonly number[];
  };
  readonly output: { readonly name: string; readonly dim: number };
  readonly flipTTA: 'sum';
  readonly weights: { readonly file: 'weights.bin'; readonly byteLength: number; readonly sha256: string; readonly tensors: readonly ManifestTensor[] };
  readonly slots: readonly { readonly kind: 'act' | 'f32'; readonly elementsPerImage: number }[];
  readonly values: readonly { readonly name: string; readonly shape: readonly number[]; readonly slot: number }[];
  readonly layers: readonly {
    readonly name: string;
    readonly op: string;
    readonly nodes: readonly string[];
    readonly input: string;
    readonly output: string;
    readonly inputShape: readonly number[];
    readonly outputShape: readonly number[];
    readonly fused: readonly string[];
    readonly tile?: Tile;
    readonly weights: readonly number[];
  }[];
  readonly steps: readonly ManifestStep[];
  readonly io: {
    readonly inputF32: ManifestIoStep;
    readonly inputRgba: ManifestIoStep;
    readonly inputTexture: ManifestIoStep;
    readonly finish: ManifestIoStep;
  };
  readonly variants: Readonly<Record<string, ManifestVariant>>;
}

export interface BuiltBundle {
  readonly manifest: WebGpuManifest;
  readonly weights: Uint8Array;
  readonly plan: Plan;
}

export interface BuildOptions {
  readonly precision: Precision;
  readonly contract: ModelContract;
  readonly generatedBy: string;
  /** int8: ONNX nodes whose conv / fc weights stay float32 (the target's sensitivity decision). */
  readonly keepFloat32?: ReadonlySet<string>;
}

interface LayerBuild {
  readonly layer: Layer;
  readonly tile?: Tile;
  readonly packed: Packed | null;
  readonly packedLayout: string;
  /** Per variant: the layer's kernels. */
  readonly kernels: KernelOut[][];
  readonly aux: Float32Array | null;
}

function buildLayer(l: Layer, allVariants: readonly Variant[], bundleDtype: WeightDType, keepFloat32: ReadonlySet<string>): LayerBuild {
  // int8 mixed precision (src/quantize/target-int8.ts): a kept layer stores float32 weights
  // and its kernels read them as such; the rest of the bundle stays int8.
  const kept = bundleDtype === 'i8' && (l.kind === 'conv' || l.kind === 'fc') && l.nodes.some((n) => keepFloat32.has(n));
  const dtype: WeightDType = kept ? 'f32' : bundleDtype;
  const variants = kept ? allVariants.map((v): Variant => (v.weights === 'int8' ? { ...v, weights: 'f32' } : v)) : allVariants;
  let packed: Packed | null = null;
  let packedLayout = '';
  let tile: Tile | undefined;
  if (l.kind === 'conv') {
    const K = (l.cin / l.group) * l.kh * l.kw;
    if (l.group === 1) {
      // B[k][co] = W[co][k], quads of 4 output channels.
      packed = packQuads(K, l.cout, (k, co) => l.weight[co * K + k]!, dtype, 'cols', l.nodes[0]!);
      packedLayout = 'B[k][cout] quads of 4 cout, k = (ci*KH + kh)*KW + kw';
      tile = chooseTile(l);
    } else {
      packed = packQuads(l.cout, K, (co, k) => l.weight[co * K + k]!, dtype, 'rows', l.nodes[0]!);
      packedLayout = 'W[cout][k] quads of 4 k, k = (ci_in_group*KH + kh)*KW + kw';
    }
  } else if (l.kind === 'fc') {
    packed = packQuads(l.d, l.k, (d, k) => l.weight[d * l.k + k]!, dtype, 'rows', l.nodes[0]!, 4);
    packedLayout = 'W[d][k] quads of 4 k';
  }
  const dequant = packed?.scales ?? null;
  const kernels: KernelOut[][] = [];
  let aux: Float32Array | null = null;
  for (const v of variants) {
    const a = new Aux();
    let ks: KernelOut[];
    switch (l.kind) {
      case 'conv': ks = convKernels(l, v, a, tile ?? chooseTile(l), dequant); break;
      case 'fc': ks = [fcKernel(l, v, a, dequant)]; break;
      case 'eltwise': ks = [eltwiseKernel(l, v, a)]; break;
      case 'maxpool': case 'avgpool': ks = [poolKernel(l, v)]; break;
      case 'gap': ks = [gapKernel(l, v)]; break;
      case 'op': ks = l.kernels(v, a); break;
    }
    kernels.push(ks);
    const data = a.length ? a.data() : null;
    if (aux === null) aux = data;
    else if (!sameF32(aux, data)) throw new Error(`internal: per-channel parameters of ${l.nodes[0]} differ between variants`);
  }
  return { layer: l, tile, packed, packedLayout, kernels, aux };
}

function sameF32(a: Float32Array | null, b: Float32Array | null): boolean {
  if (!a || !b) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Build model.json and weights.bin for one precision. */
export function buildBundle(g: Graph, opts: BuildOptions): BuiltBundle {
  const plan = planGraph(g, opts.contract.output);
  const variants = variantsFor(opts.precision);
  const dtype = WEIGHT_DTYPE[opts.precision];
  const keep = opts.keepFloat32 ?? new Set<string>();
  const builds = plan.layers.map((l) => buildLayer(l, variants, dtype, keep));

  // weights.bin
  const tensors: ManifestTensor[] = [];
  const chunks: { offset: number; bytes: Uint8Array }[] = [];
  let size = 0;
  const addTensor = (name: string, bytes: Uint8Array, dt: WeightDType, shape: number[], layout: string): number => {
    const offset = Math.ceil(size / WEIGHT_ALIGN) * WEIGHT_ALIGN;
    chunks.push({ offset, bytes });
    size = offset + bytes.byteLength;
    tensors.push({ name, offset, byteLength: bytes.byteLength, dtype: dt, shape, layout });
    return tensors.length - 1;
  };
  const layerTensors = builds.map((b, i) => {
    const name = layerName(b.layer, i);
    const w = b.packed ? addTensor(`${name}.w`, b.packed.bytes, b.packed.dtype, [...b.packed.shape], b.packedLayout) : -1;
    const aux = b.aux ? addTensor(`${name}.aux`, new Uint8Array(b.aux.buffer, b.aux.byteOffset, b.aux.byteLength), 'f32', [b.aux.length], 'per-channel f32 parameters (bias, scales, affine, slopes)') : -1;
    return { w, aux };
  });
  const weights = new Uint8Array(Math.ceil(size / 4) * 4);
  for (const c of chunks) weights.set(c.bytes, c.offset);

  // Steps (variant-independent bindings) with scratch values numbered after the activations.
  interface RawStep { layer: number; kernel: number; refs: LayerBinding[]; dispatch: Dispatch; scratch: number }
  const raw: RawStep[] = [];
  let scratchCount = 0;
  const scratchElements: number[] = [];
  builds.forEach((b, li) => {
    const ks = b.kernels[0]!;
    // Split-K convolutions have a scratch (their partial sums); op layers may run several kernels without one.
    const scratch = ks.some((k) => k.bindings.refs.some((r) => r.kind === 'scratch')) ? scratchCount++ : -1;
    if (scratch >= 0 && b.layer.kind === 'conv') scratchElements.push(b.tile!.splitK * b.layer.cout * b.layer.oh * b.layer.ow);
    ks.forEach((k, ki) => {
      for (const vk of b.kernels) {
        if (vk[ki]!.bindings.refs.map((r) => JSON.stringify(r)).join() !== k.bindings.refs.map((r) => JSON.stringify(r)).join()) {
          throw new Error(`internal: bindings of ${b.layer.nodes[0]} differ between variants`);
        }
      }
      raw.push({ layer: li, kernel: ki, refs: [...k.bindings.refs], dispatch: k.dispatch, scratch });
    });
  });

  // Memory plan. Value keys: 'a<id>' for activation roots, 's<n>' for scratches.
  const key = (r: LayerBinding, s: RawStep): string | null => {
    if (r.kind === 'act') return `a${plan.acts[r.act]!.root.id}`;
    if (r.kind === 'scratch') return `s${s.scratch}`;
    return null;
  };
  const writes = (s: RawStep): string[] => {
    const last = s.refs[s.refs.length - 1]!;
    const k = key(last, s);
    return k ? [k] : [];
  };
  const lastUse = new Map<string, number>();
  const inputKey = `a${plan.input.root.id}`;
  const outputKey = `a${plan.output.root.id}`;
  raw.forEach((s, i) => {
    for (const r of s.refs) {
      const k = key(r, s);
      if (k) lastUse.set(k, i);
    }
  });
  lastUse.set(outputKey, Number.POSITIVE_INFINITY);
  const elementsOf = (k: string): number => (k.startsWith('s') ? scratchElements[Number(k.slice(1))]! : plan.acts[Number(k.slice(1))]!.elements);
  const slots: { kind: 'act' | 'f32'; elementsPerImage: number; busy: boolean }[] = [];
  const slotOf = new Map<string, number>();
  const allocate = (k: string) => {
    const kind = k.startsWith('s') ? 'f32' : 'act';
    const need = elementsOf(k);
    // Best fit among free slots of the kind (the smallest that holds it, else the largest), deterministic.
    let best = -1;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (s.busy || s.kind !== kind) continue;
      if (best < 0) best = i;
      else {
        const b = slots[best]!;
        const fitsS = s.elementsPerImage >= need, fitsB = b.elementsPerImage >= need;
        if ((fitsS && (!fitsB || s.elementsPerImage < b.elementsPerImage)) || (!fitsS && !fitsB && s.elementsPerImage > b.elementsPerImage)) best = i;
      }
    }
    if (best < 0) {
      slots.push({ kind, elementsPerImage: need, busy: true });
      best = slots.length - 1;
    } else {
      const s = slots[best]!;
      s.busy = true;
      s.elementsPerImage = Math.max(s.elementsPerImage, need);
    }
    slotOf.set(k, best);
  };
  allocate(inputKey);
  raw.forEach((s, i) => {
    for (const w of writes(s)) if (!slotOf.has(w)) allocate(w);
    for (const r of s.refs) {
      const k = key(r, s);
      if (k && lastUse.get(k) === i) slots[slotOf.get(k)!]!.busy = false;
    }
  });
  if (!slotOf.has(outputKey)) throw new Error('internal: the output is never written');

  const resolve = (r: LayerBinding, s: RawStep | null, li: number): BindingRef => {
    switch (r.kind) {
      case 'params': return { buffer: 'params' };
      case 'act': return { buffer: 'slot', slot: slotOf.get(`a${plan.acts[r.act]!.root.id}`)! };
      case 'scratch': return { buffer: 'slot', slot: slotOf.get(`s${s!.scratch}`)! };
      case 'weight': {
        const t = layerTensors[li]![r.which];
        if (t < 0) throw new Error('internal: missing weight tensor');
        return { buffer: 'weights', tensor: t };
      }
      case 'io': return { buffer: r.buffer };
    }
  };
  const steps: ManifestStep[] = raw.map((s) => ({
    layer: s.layer,
    kernel: `${layerName(builds[s.layer]!.layer, s.layer)}${s.kernel ? `#${s.kernel}` : ''}`,
    bindings: s.refs.map((r) => resolve(r, s, s.layer)),
    dispatch: s.dispatch,
  }));

  // IO kernels.
  const c = opts.contract;
  const [, h, w] = plan.inputShape;
  const io: IoSpec = { inputAct: plan.input.root.id, outputAct: plan.output.root.id, h, w, layout: plan.inputLayout, mean: c.input.mean, std: c.input.std, colorOrder: c.input.colorOrder, dim: plan.output.elements };
  const ioBuild = variants.map((v) => ({
    inputF32: inputF32Kernel(io, v),
    inputRgba: inputRgbaKernel(io, v),
    inputTexture: inputTextureKernel(io, v),
    finish: finishKernel(io, v),
  }));
  const ioStep = (k: KernelOut): ManifestIoStep => ({ bindings: k.bindings.refs.map((r) => resolve(r, null, -1)), dispatch: k.dispatch });
  const io0 = ioBuild[0]!;

  const manifestVariants: Record<string, ManifestVariant> = {};
  variants.forEach((v, vi) => {
    const shaders: string[] = [];
    const index = new Map<string, number>();
    const intern = (code: string) => {
      let i = index.get(code);
      if (i === undefined) {
        i = shaders.length;
        shaders.push(code);
        index.set(code, i);
      }
      return i;
    };
    const stepShaders = raw.map((s) => intern(builds[s.layer]!.kernels[vi]![s.kernel]!.code));
    const iob = ioBuild[vi]!;
    manifestVariants[v.name] = {
      requires: v.act === 'f16' || v.weights === 'f16' ? ['shader-f16'] : [],
      activation: v.act,
      weights: v.weights,
      shaders,
      steps: stepShaders,
      io: { inputF32: intern(iob.inputF32.code), inputRgba: intern(iob.inputRgba.code), inputTexture: intern(iob.inputTexture.code), finish: intern(iob.finish.code) },
    };
  });

  const values = plan.acts
    .filter((a) => slotOf.has(`a${a.root.id}`))
    .map((a) => ({ name: a.name, shape: [...a.shape], slot: slotOf.get(`a${a.root.id}`)! }));

  const manifest: WebGpuManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    generatedBy: opts.generatedBy,
    precision: opts.precision,
    input: {
      name: c.input.name,
      shape: c.input.shape.map((d) => (d === null ? 'N' : d)),
      layout: plan.inputLayout,
      colorOrder: c.input.colorOrder,
      channels: 3,
      height: h,
      width: w,
      mean: [...c.input.mean],
      std: [...c.input.std],
    },
    output: { name: plan.output.name, dim: plan.output.elements },
    flipTTA: 'sum',
    weights: { file: 'weights.bin', byteLength: weights.byteLength, sha256: createHash('sha256').update(weights).digest('hex'), tensors },
    slots: slots.map((s) => ({ kind: s.kind, elementsPerImage: s.elementsPerImage })),
    values,
    layers: builds.map((b, i) => ({
      name: layerName(b.layer, i),
      op: b.layer.kind === 'op' ? b.layer.op : b.layer.kind,
      nodes: [...b.layer.nodes],
      input: b.layer.x.name,
      output: b.layer.out.name,
      inputShape: [...b.layer.x.shape],
      outputShape: [...b.layer.out.shape],
      fused: fusedOps(b.layer),
      tile: b.tile,
      weights: [layerTensors[i]!.w, layerTensors[i]!.aux].filter((t) => t >= 0),
    })),
    steps,
    io: { inputF32: ioStep(io0.inputF32), inputRgba: ioStep(io0.inputRgba), inputTexture: ioStep(io0.inputTexture), finish: ioStep(io0.finish) },
    variants: manifestVariants,
  };
  return { manifest, weights, plan };
}

function layerName(l: Layer, i: number): string {
  return `${String(i).padStart(3, '0')}-${l.kind === 'op' ? l.op : l.kind}`;
}

function fusedOps(l: Layer): string[] {
  const out: string[] = [];
  if (l.kind === 'conv' && l.prologue) out.push('prologue:affine');
  if (l.kind === 'conv' || l.kind === 'fc') if (l.bias) out.push('bias');
  if (l.kind === 'conv' || l.kind === 'fc' || l.kind === 'eltwise') for (const e of l.epi) out.push(e.op === 'add' ? `add:${e.input.name}` : e.op);
  if (l.kind === 'op') out.push(...l.fused);
  return out;
}
