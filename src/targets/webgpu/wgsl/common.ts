/**
 * Pieces every generated kernel shares: the variant (activation and weight
 * storage types), binding declarations, weight-quad loads and the epilogue.
 *
 * Storage and arithmetic per variant:
 *   act f32, weights f32          fp32 bundle: everything f32.
 *   act f32, weights f16-packed   fp16 bundle without shader-f16: weights are pairs of
 *                                 halves in u32 words, unpack2x16float -> f32 math.
 *   act f16, weights f16          fp16 bundle with shader-f16: f16 storage and f16
 *                                 products, summed in f16 over one K tile (TK terms)
 *                                 and then in f32; epilogues in f32.
 *   act f32|f16, weights int8     int8 bundle: w = q * scale[out channel] (symmetric,
 *                                 per output channel); the sum runs over q and the
 *                                 scale multiplies the finished dot product:
 *                                 sum_k x_k (q_k s) = s * sum_k x_k q_k (exact factoring).
 * Weights are read as quads: 4 consecutive output channels (conv) or 4 consecutive
 * k (fc) per load.
 */
import type { Act, EpiOp } from '../plan.js';

export type ActType = 'f32' | 'f16';
export type WeightStorage = 'f32' | 'f16' | 'f16-packed' | 'int8';

export interface Variant {
  readonly name: 'f32' | 'f16';
  readonly act: ActType;
  readonly weights: WeightStorage;
}

/** Where a binding's buffer comes from (interpreted by sf2.js). */
export type BindingRef =
  | { readonly buffer: 'params' }
  | { readonly buffer: 'slot'; readonly slot: number }
  | { readonly buffer: 'weights'; readonly tensor: number }
  | { readonly buffer: 'input' }
  | { readonly buffer: 'texture' }
  | { readonly buffer: 'output' };

/** What a layer's binding refers to before memory planning: an activation id, a scratch, or a weight. */
export type LayerBinding =
  | { readonly kind: 'params' }
  | { readonly kind: 'act'; readonly act: number }
  | { readonly kind: 'scratch' }
  | { readonly kind: 'weight'; readonly which: 'w' | 'aux' }
  | { readonly kind: 'io'; readonly buffer: 'input' | 'texture' | 'output' };

/** Declared bindings of one kernel, in binding order. */
export class Bindings {
  readonly decls: string[] = [];
  readonly refs: LayerBinding[] = [];
  constructor() {
    this.decls.push('@group(0) @binding(0) var<uniform> P: Params;');
    this.refs.push({ kind: 'params' });
  }
  add(name: string, type: string, access: 'read' | 'read_write' | 'uniform' | 'texture', ref: LayerBinding): this {
    const i = this.decls.length;
    if (access === 'texture') this.decls.push(`@group(0) @binding(${i}) var ${name}: ${type};`);
    else this.decls.push(`@group(0) @binding(${i}) var<storage, ${access}> ${name}: ${type};`);
    this.refs.push(ref);
    return this;
  }
  code(): string {
    return this.decls.join('\n');
  }
}

/** Shader preamble: f16 enable and the per-dispatch parameters. */
export function header(v: Variant): string {
  return [
    v.act === 'f16' || v.weights === 'f16' ? 'enable f16;\n' : '',
    '// n: images in the network batch (2k with flipTTA); k: caller images; flip, norm: 0 or 1',
    'struct Params { n: u32, k: u32, flip: u32, norm: u32 }',
  ].join('\n');
}

/** WGSL array type of a weight tensor stored as quads. */
export function weightArrayType(v: Variant): string {
  switch (v.weights) {
    case 'f32': return 'array<vec4<f32>>';
    case 'f16': return 'array<vec4<f16>>';
    case 'f16-packed': return 'array<vec2<u32>>';
    case 'int8': return 'array<u32>';
  }
}

/** Expression loading quad `i` of weight array `W` as vec4<A> (int8: the raw q values). */
export function weightQuad(v: Variant, W: string, i: string): string {
  const A = v.act;
  switch (v.weights) {
    case 'f32': return A === 'f32' ? `${W}[${i}]` : `vec4<${A}>(${W}[${i}])`;
    case 'f16': return A === 'f16' ? `${W}[${i}]` : `vec4<${A}>(${W}[${i}])`;
    case 'f16-packed': return `vec4<${A}>(wq16(${W}[${i}]))`;
    case 'int8': return `vec4<${A}>(wq8(${W}[${i}]))`;
  }
}

/** Helper functions a weight storage needs. */
export function weightHelpers(v: Variant): string {
  switch (v.weights) {
    case 'f16-packed':
      return 'fn wq16(u: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y)); }';
    case 'int8':
      // Sign-extend each byte: shift it to the top, then arithmetic shift right by 24.
      return 'fn wq8(u: u32) -> vec4<f32> { return vec4<f32>(vec4<i32>(bitcast<i32>(u << 24u), bitcast<i32>(u << 16u), bitcast<i32>(u << 8u), bitcast<i32>(u)) >> vec4<u32>(24u)); }';
    default:
      return '';
  }
}

/** Per-channel f32 parameters of one layer, packed into one tensor. */
export class Aux {
  private readonly parts: Float32Array[] = [];
  private size = 0;
  add(a: Float32Array): number {
    const off = this.size;
    this.parts.push(a);
    this.size += a.length;
    return off;
  }
  get length(): number {
    return this.size;
  }
  data(): Float32Array {
    const out = new Float32Array(Math.max(1, this.size));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export interface EpilogueSpec {
  /** int8: per-channel weight scale (multiplies the raw dot product first). */
  readonly dequant: Float32Array | null;
  readonly bias: Float32Array | null;
  readonly ops: readonly EpiOp[];
}

/**
 * `fn epi(acc: f32, c: u32, idx: u32) -> f32`: the fused tail of a layer for the
 * element at flat index idx (same shape as the output) in channel c:
 *   v = acc * dequant[c] + bias[c], then each op in order.
 * Returns the code, whether it reads the residual R (bound as `R`) and whether it
 * reads per-channel parameters (bound as `AUX`).
 */
export function epilogue(spec: EpilogueSpec, aux: Aux, A: ActType): { code: string; residual: boolean; aux: boolean } {
  const auxBefore = aux.length;
  const lines: string[] = ['  var v = acc;'];
  let residual = false;
  if (spec.dequant) lines.push(`  v = v * AUX[${aux.add(spec.dequant)}u + c];`);
  if (spec.bias) lines.push(`  v = v + AUX[${aux.add(spec.bias)}u + c];`);
  for (const op of spec.ops) {
    switch (op.op) {
      case 'affine': {
        if (op.scale && op.shift) lines.push(`  v = fma(v, AUX[${aux.add(op.scale)}u + c], AUX[${aux.add(op.shift)}u + c]);`);
        else if (op.scale) lines.push(`  v = v * AUX[${aux.add(op.scale)}u + c];`);
        else if (op.shift) lines.push(`  v = v + AUX[${aux.add(op.shift)}u + c];`);
        break;
      }
      case 'prelu':
        lines.push(`  v = select(v * AUX[${aux.add(op.alpha)}u + c], v, v >= 0.0);`);
        break;
      case 'relu':
        lines.push('  v = max(v, 0.0);');
        break;
      case 'clip':
        lines.push(`  v = clamp(v, ${f32Literal(op.min)}, ${f32Literal(op.max)});`);
        break;
      case 'sigmoid':
        // 1 / (1 + e^-v): e^-v overflows to +inf for v < -88, giving exactly 0.
        lines.push('  v = 1.0 / (1.0 + exp(-v));');
        break;
      case 'hardsigmoid':
        lines.push(`  v = clamp(fma(v, ${f32Literal(op.alpha)}, ${f32Literal(op.beta)}), 0.0, 1.0);`);
        break;
      case 'hardswish':
        // ONNX HardSwish: x * max(0, min(1, x / 6 + 1 / 2)).
        lines.push(`  v = v * clamp(fma(v, ${f32Literal(1 / 6)}, 0.5), 0.0, 1.0);`);
        break;
      case 'add':
        residual = true;
        lines.push('  v = v + f32(R[idx]);');
        break;
    }
  }
  void A;
  lines.push('  return v;');
  // `aux`: whether the epilogue reads per-channel parameters (the kernel then binds AUX), from the data it added.
  return { code: `fn epi(acc: f32, c: u32, idx: u32) -> f32 {\n${lines.join('\n')}\n}`, residual, aux: aux.length > auxBefore };
}

/** The residual an epilogue adds (its one `add` op). */
export function residualOf(ops: readonly EpiOp[]): Act {
  const add = ops.find((e) => e.op === 'add');
  if (add?.op !== 'add') throw new Error('internal: no residual');
  return add.input.root;
}

/**
 * Binds what an epilogue reads, after the kernel's own inputs: AUX when the
 * epilogue (or the kernel itself: `kernelAux`, e.g. a prologue) reads per-channel
 * parameters, then R, the residual, when it adds one.
 */
export function bindEpilogue(b: Bindings, epi: { readonly aux: boolean; readonly residual: boolean }, ops: readonly EpiOp[], A: ActType, kernelAux = false): void {
  if (kernelAux || epi.aux) b.add('AUX', 'array<f32>', 'read', { kind: 'weight', which: 'aux' });
  if (epi.residual) b.add('R', `array<${A}>`, 'read', { kind: 'act', act: residualOf(ops).id });
}

/** A WGSL f32 literal that round-trips (finite values; infinities clamp to f32 max). */
export function f32Literal(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return f > 0 ? '3.4028234663852886e38' : '-3.4028234663852886e38';
  const s = f.toString();
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}
