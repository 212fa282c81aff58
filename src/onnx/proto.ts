/// <reference types="long" preserve="true" />
// (onnx-proto's declarations name the global `Long` of @types/long; this keeps it in the published .d.ts.)
/**
 * The protobuf bindings (onnx-proto: static protobufjs 6 code for ONNX 1.10.2,
 * IR 8) and int64 conversions. protobufjs hands int64 fields over as `Long`
 * (or number); the IR uses bigint.
 */
import pkg from 'onnx-proto';
import LongImpl from 'long';
// The declarations name only these type imports (named, not default): the published
// .d.ts then compiles for consumers under every moduleResolution, without esModuleInterop.
import type { onnx as OnnxNamespace } from 'onnx-proto';

export const onnx: typeof OnnxNamespace = pkg.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** The `Long` of onnx-proto's int64 fields (long.js), named through onnx-proto's own types. */
export type Long = Exclude<NonNullable<OnnxNamespace.IOperatorSetIdProto['version']>, number>;

export type LongLike = number | Long | { low: number; high: number; unsigned?: boolean } | string;

export function toBigInt(x: LongLike | null | undefined, unsigned = false): bigint {
  if (x === null || x === undefined) return 0n;
  if (typeof x === 'number') return BigInt(x);
  if (typeof x === 'string') return BigInt(x);
  const v = (BigInt(x.high >>> 0) << 32n) | BigInt(x.low >>> 0);
  return unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
}

/** int64 field value -> number, for fields that are sizes (dims, offsets). */
export function toSafeNumber(x: LongLike | null | undefined, what: string): number {
  const b = toBigInt(x);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${b} is out of range`);
  }
  return Number(b);
}

export function toLong(b: bigint | number, unsigned = false): number | Long {
  if (typeof b === 'number') return b;
  if (b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(b);
  const u = BigInt.asUintN(64, b);
  return LongImpl.fromBits(Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0, unsigned);
}
