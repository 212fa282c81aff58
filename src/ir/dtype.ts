/**
 * Element types, numbered as ONNX `TensorProto.DataType`. Numbers beyond what
 * onnx-proto knows (FLOAT8*, UINT4, INT4) are kept as numbers so they survive a
 * round trip; `dtypeInfo` refuses them only where bytes must be interpreted.
 */
import { UnsupportedError } from '../errors.js';

export enum DType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
}

/** Which repeated field of TensorProto holds the values when raw_data is absent. */
export type TypedField = 'floatData' | 'int32Data' | 'int64Data' | 'uint64Data' | 'doubleData' | 'stringData';

export interface DTypeInfo {
  readonly name: string;
  /** Bytes per element in raw_data (0 for strings; 0.5 rounded up per pair for 4-bit types). */
  readonly bytes: number;
  readonly field: TypedField;
}

const TABLE: Readonly<Record<number, DTypeInfo>> = {
  [DType.FLOAT]: { name: 'float32', bytes: 4, field: 'floatData' },
  [DType.UINT8]: { name: 'uint8', bytes: 1, field: 'int32Data' },
  [DType.INT8]: { name: 'int8', bytes: 1, field: 'int32Data' },
  [DType.UINT16]: { name: 'uint16', bytes: 2, field: 'int32Data' },
  [DType.INT16]: { name: 'int16', bytes: 2, field: 'int32Data' },
  [DType.INT32]: { name: 'int32', bytes: 4, field: 'int32Data' },
  [DType.INT64]: { name: 'int64', bytes: 8, field: 'int64Data' },
  [DType.STRING]: { name: 'string', bytes: 0, field: 'stringData' },
  [DType.BOOL]: { name: 'bool', bytes: 1, field: 'int32Data' },
  [DType.FLOAT16]: { name: 'float16', bytes: 2, field: 'int32Data' },
  [DType.DOUBLE]: { name: 'float64', bytes: 8, field: 'doubleData' },
  [DType.UINT32]: { name: 'uint32', bytes: 4, field: 'uint64Data' },
  [DType.UINT64]: { name: 'uint64', bytes: 8, field: 'uint64Data' },
  [DType.COMPLEX64]: { name: 'complex64', bytes: 8, field: 'floatData' },
  [DType.COMPLEX128]: { name: 'complex128', bytes: 16, field: 'doubleData' },
  [DType.BFLOAT16]: { name: 'bfloat16', bytes: 2, field: 'int32Data' },
  [DType.FLOAT8E4M3FN]: { name: 'float8e4m3fn', bytes: 1, field: 'int32Data' },
  [DType.FLOAT8E4M3FNUZ]: { name: 'float8e4m3fnuz', bytes: 1, field: 'int32Data' },
  [DType.FLOAT8E5M2]: { name: 'float8e5m2', bytes: 1, field: 'int32Data' },
  [DType.FLOAT8E5M2FNUZ]: { name: 'float8e5m2fnuz', bytes: 1, field: 'int32Data' },
  [DType.UINT4]: { name: 'uint4', bytes: 0.5, field: 'int32Data' },
  [DType.INT4]: { name: 'int4', bytes: 0.5, field: 'int32Data' },
};

export function dtypeInfo(dtype: number): DTypeInfo {
  const info = TABLE[dtype];
  if (!info) throw new UnsupportedError('dtype', `unknown tensor element type ${dtype}`, 'sf2-export knows ONNX element types 1 to 22');
  return info;
}

export function dtypeName(dtype: number): string {
  return TABLE[dtype]?.name ?? `dtype(${dtype})`;
}

/** Bytes that `count` elements take in raw_data (4-bit types pack two per byte). */
export function byteLengthOf(dtype: number, count: number): number {
  const info = dtypeInfo(dtype);
  return info.bytes === 0.5 ? Math.ceil(count / 2) : info.bytes * count;
}

export function isFloat(dtype: number): boolean {
  return dtype === DType.FLOAT || dtype === DType.FLOAT16 || dtype === DType.DOUBLE || dtype === DType.BFLOAT16;
}
