/**
 * The weights manifest and its bytes for one precision. Entries follow the
 * order the converter emitted the Consts; their bytes are packed in that order
 * and cut into shards of at most 4 MiB (what the Python converter does), so
 * the same graph always gives the same files.
 *
 *   fp32  every Const as float32 / int32.
 *   fp16  kernels (Conv / MatMul weights, > 99% of the bytes) as float16; the
 *         per-channel vectors (bias, PReLU slope, BN scale/shift) stay float32:
 *         they cost almost nothing and they add directly to the outputs.
 *   int8  kernels as uint8, per tensor or per output channel, chosen per
 *         kernel by measured error (quantize.ts); vectors stay float32.
 */
import type { Precision } from '../../ir/precision.js';
import type { TfConst } from './builder.js';
import { tfAttr, type TfNode } from './graphdef.js';
import { chooseInt8, toFloat16Bits, type Int8Scheme } from './quantize.js';

export const SHARD_BYTES = 4 * 1024 * 1024;

export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly quantization?: { readonly dtype: 'float16' | 'uint8'; readonly min?: number; readonly scale?: number; readonly original_dtype?: 'float32' };
}

export interface KernelReport {
  readonly name: string;
  readonly elements: number;
  /** 'float32' | 'float16' | 'per-tensor' | 'per-channel' */
  readonly stored: string;
  /** int8: mean per-channel relative squared error of both schemes. */
  readonly errorPerTensor?: number;
  readonly errorPerChannel?: number;
  readonly reason?: string;
}

export interface EncodedWeights {
  /** The graph nodes (per-channel int8 adds a Mul per kernel). */
  readonly nodes: readonly TfNode[];
  readonly entries: readonly ManifestEntry[];
  readonly data: Uint8Array;
  readonly kernels: readonly KernelReport[];
}

export interface EncodeOptions {
  /** int8 only: force one scheme for every kernel (for measurements); default: chosen per kernel. */
  readonly int8Scheme?: Int8Scheme;
  /** int8 only: ONNX nodes whose kernels stay float32 (the target's sensitivity decision, src/quantize/target-int8.ts). */
  readonly keepFloat32?: ReadonlySet<string>;
}

function bytesOf(a: Float32Array | Int32Array | Uint16Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function encodeWeights(nodes: readonly TfNode[], consts: readonly TfConst[], precision: Precision, opts: EncodeOptions = {}): EncodedWeights {
  const entries: ManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const kernels: KernelReport[] = [];
  /** Const name -> nodes that replace its Const node (per-channel int8). */
  const replace = new Map<string, TfNode[]>();
  for (const c of consts) {
    const base = { name: c.name, shape: c.shape, dtype: c.dtype };
    if (c.dtype !== 'float32' || c.role !== 'kernel' || precision === 'fp32') {
      entries.push(base);
      chunks.push(bytesOf(c.data));
      if (c.role === 'kernel') kernels.push({ name: c.name, elements: c.data.length, stored: 'float32' });
      continue;
    }
    const w = c.data as Float32Array;
    if (precision === 'int8' && c.source !== undefined && opts.keepFloat32?.has(c.source)) {
      entries.push(base);
      chunks.push(bytesOf(w));
      kernels.push({ name: c.name, elements: w.length, stored: 'float32', reason: `sensitivity: ${c.source} stays float32 (int8 mixed precision)` });
      continue;
    }
    if (precision === 'fp16') {
      const bits = toFloat16Bits(w);
      if (!bits) {
        entries.push(base);
        chunks.push(bytesOf(w));
        kernels.push({ name: c.name, elements: w.length, stored: 'float32', reason: 'a weight exceeds the float16 range (65504)' });
        continue;
      }
      entries.push({ ...base, quantization: { dtype: 'float16', original_dtype: 'float32' } });
      chunks.push(bytesOf(bits));
      kernels.push({ name: c.name, elements: w.length, stored: 'float16' });
      continue;
    }
    const chShape = c.shape.slice(c.shape.length - (c.channelAxes ?? 1));
    const channels = chShape.reduce((a, b) => a * b, 1);
    const q = chooseInt8(w, channels, opts.int8Scheme);
    kernels.push({ name: c.name, elements: w.length, stored: q.scheme, errorPerTensor: q.errorPerTensor, errorPerChannel: q.errorPerChannel });
    if (q.scheme === 'per-tensor') {
      entries.push({ ...base, quantization: { dtype: 'uint8', min: q.perTensor.min, scale: q.perTensor.scale, original_dtype: 'float32' } });
      chunks.push(q.perTensor.q);
      continue;
    }
    // Kernel = q * scale: the Const `name` becomes a Mul of two new Consts.
    const qName = `${c.name}/q`, sName = `${c.name}/scale`;
    entries.push({ name: qName, shape: c.shape, dtype: 'float32', quantization: { dtype: 'uint8', min: -128, scale: 1, original_dtype: 'float32' } });
    chunks.push(q.perChannel.stored);
    entries.push({ name: sName, shape: chShape, dtype: 'float32' });
    chunks.push(bytesOf(q.perChannel.scales));
    const constNode = (name: string, shape: readonly number[]): TfNode => ({ name, op: 'Const', attr: { dtype: tfAttr.type('DT_FLOAT'), value: tfAttr.tensor('DT_FLOAT', shape) } });
    replace.set(c.name, [constNode(qName, c.shape), constNode(sName, chShape), { name: c.name, op: 'Mul', input: [qName, sName], attr: { T: tfAttr.type('DT_FLOAT') } }]);
  }
  const outNodes = nodes.flatMap((n) => replace.get(n.name) ?? [n]);
  return { nodes: outNodes, entries, data: joinWeightBytes(chunks), kernels };
}

/** The one weight buffer tfjs reads: the entries' bytes (or the shards' files) one after another, in manifest order. */
export function joinWeightBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(chunks.reduce((s, b) => s + b.byteLength, 0));
  chunks.reduce((off, b) => (data.set(b, off), off + b.byteLength), 0);
  return data;
}

/** group1-shard1ofN.bin ... with at most SHARD_BYTES each (one empty shard for no weights). */
export function shardWeights(data: Uint8Array, shardBytes = SHARD_BYTES): { name: string; bytes: Uint8Array }[] {
  const n = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) out.push({ name: `group1-shard${i + 1}of${n}.bin`, bytes: data.subarray(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes)) });
  return out;
}
