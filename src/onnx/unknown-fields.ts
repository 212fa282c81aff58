/**
 * Finds protobuf fields that onnx-proto (ONNX 1.10.2) does not know, by walking
 * the wire format of ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto and FunctionProto. protobufjs skips such fields when decoding,
 * so they are lost on save; the loader warns about each kind once.
 *
 * Wire format: each field starts with a varint tag (field_number << 3 | wire
 * type); wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 */
type Known = Readonly<Record<number, string>>;

const MODEL: Known = { 1: 'ir_version', 2: 'producer_name', 3: 'producer_version', 4: 'domain', 5: 'model_version', 6: 'doc_string', 7: 'graph', 8: 'opset_import', 14: 'metadata_props', 20: 'training_info', 25: 'functions' };
const GRAPH: Known = { 1: 'node', 2: 'name', 5: 'initializer', 10: 'doc_string', 11: 'input', 12: 'output', 13: 'value_info', 14: 'quantization_annotation', 15: 'sparse_initializer' };
const NODE: Known = { 1: 'input', 2: 'output', 3: 'name', 4: 'op_type', 5: 'attribute', 6: 'doc_string', 7: 'domain' };
const TENSOR: Known = { 1: 'dims', 2: 'data_type', 3: 'segment', 4: 'float_data', 5: 'int32_data', 6: 'string_data', 7: 'int64_data', 8: 'name', 9: 'raw_data', 10: 'double_data', 11: 'uint64_data', 12: 'doc_string', 13: 'external_data', 14: 'data_location' };
const VALUE_INFO: Known = { 1: 'name', 2: 'type', 3: 'doc_string' };
const FUNCTION: Known = { 1: 'name', 4: 'input', 5: 'output', 6: 'attribute', 7: 'node', 8: 'doc_string', 9: 'opset_import', 10: 'domain' };

/** Names that newer ONNX versions give to fields onnx-proto lacks. */
const NEWER: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  ModelProto: { 26: 'configuration (IR 11)' },
  GraphProto: { 16: 'metadata_props (IR 10)' },
  NodeProto: { 8: 'overload (IR 10)', 9: 'metadata_props (IR 10)', 10: 'device_configurations (IR 11)' },
  TensorProto: { 16: 'metadata_props (IR 10)' },
  ValueInfoProto: { 4: 'metadata_props (IR 10)' },
  FunctionProto: { 11: 'attribute_proto', 12: 'value_info (IR 10)', 13: 'overload (IR 10)', 14: 'metadata_props (IR 10)' },
};

interface Walk {
  readonly found: Map<string, number>;
  readonly buf: Uint8Array;
}

/** Returns "NodeProto.metadata_props (IR 10)" -> count, for every unknown field met. */
export function findUnknownFields(buf: Uint8Array): Map<string, number> {
  const w: Walk = { found: new Map(), buf };
  try {
    scan(w, 0, buf.byteLength, 'ModelProto', MODEL, (field, start, end) => {
      if (field === 7) scanGraph(w, start, end);
      else if (field === 25) scan(w, start, end, 'FunctionProto', FUNCTION, (f, s, e) => f === 7 && scan(w, s, e, 'NodeProto', NODE));
    });
  } catch {
    // A malformed file is reported by the decoder; this scan only adds warnings.
  }
  return w.found;
}

function scanGraph(w: Walk, start: number, end: number): void {
  scan(w, start, end, 'GraphProto', GRAPH, (field, s, e) => {
    if (field === 1) scan(w, s, e, 'NodeProto', NODE);
    else if (field === 5) scan(w, s, e, 'TensorProto', TENSOR);
    else if (field === 11 || field === 12 || field === 13) scan(w, s, e, 'ValueInfoProto', VALUE_INFO);
  });
}

function scan(
  w: Walk,
  start: number,
  end: number,
  message: string,
  known: Known,
  onMessage?: (field: number, start: number, end: number) => unknown,
): void {
  const buf = w.buf;
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= end) throw new RangeError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
  };
  while (pos < end) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (!(field in known)) {
      const name = `${message}.${NEWER[message]?.[field] ?? `field ${field}`}`;
      w.found.set(name, (w.found.get(name) ?? 0) + 1);
    }
    switch (wire) {
      case 0: varint(); break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        const len = varint();
        const s = pos;
        pos += len;
        if (pos > end) throw new RangeError('truncated field');
        if (field in known) onMessage?.(field, s, pos);
        break;
      }
      default:
        throw new RangeError(`wire type ${wire}`);
    }
  }
}
