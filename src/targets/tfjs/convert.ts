/**
 * ONNX IR -> TF GraphDef (NHWC) for TensorFlow.js.
 *
 * Layouts. ONNX activations are NCHW; the TF graph keeps every 4-D activation
 * NHWC, so each IR value maps to a TF tensor plus the layout it is held in:
 *   plain   the TF tensor has exactly the ONNX shape and element order;
 *   nhwc    ONNX [N, C, H, W] held as [N, H, W, C]  (tf = onnx.transpose(0, 2, 3, 1));
 *   flat    ONNX [N, C*H*W] (a Flatten of NCHW) held as the flatten of NHWC,
 *           [N, H*W*C]: TF feature j = (h*W + w)*C + c holds ONNX feature
 *           i = (c*H + h)*W + w. A Gemm reading it gets its weight rows permuted
 *           the same way, so no transpose is ever computed at run time.
 * Lowerings (ops/) ask for the layout they need (`nhwc(v)`, `plain(v)`); a conversion is
 * emitted only when a value is held in another layout, and cached. For the
 * SphereFace2 backbones this leaves exactly one Transpose: where the NCHW
 * graph input meets the first convolution (none with `inputLayout: 'nhwc'`).
 *
 * Constants broadcast against an activation are permuted into its layout at
 * conversion time (a [C,1,1] BN scale becomes [C]; a [C*H*W] vector is permuted
 * like the flat features).
 */
import { UnsupportedError } from '../../errors.js';
import { DType } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import type { Dim, Value } from '../../ir/value.js';
import { TfGraphBuilder, type TfConst } from './builder.js';
import { tfAttr, type TfNode } from './graphdef.js';
import { OP_MAP } from './op-map.js';
import { NHWC, PLAIN, isIntType, tfDims, type Layout, type TfTensor } from './layout.js';

export { PLAIN, NHWC, isIntType, tfDims, type Layout, type TfTensor } from './layout.js';

export interface ConvertOptions {
  /** 'nchw': the placeholder keeps the ONNX contract [N, 3, H, W]; 'nhwc': [N, H, W, 3]. */
  readonly inputLayout: 'nchw' | 'nhwc';
}

export interface SignatureEntry {
  /** Signature key: the ONNX tensor name. */
  readonly key: string;
  /** TF tensor name, "node:0". */
  readonly tensor: string;
  /** TF dims, -1 for the batch (or any symbolic) dimension. */
  readonly dims: readonly number[];
}

export interface ConvertResult {
  readonly nodes: readonly TfNode[];
  readonly consts: readonly TfConst[];
  readonly input: SignatureEntry;
  readonly output: SignatureEntry;
  /** TF op -> count, for the manifest details. */
  readonly tfOps: Readonly<Record<string, number>>;
  /** Transposes inserted to change layout (1 for the backbones: at the input). */
  readonly layoutTransposes: number;
}

/** One conversion in progress: the builder, the value map and layout helpers for the lowerings (ops/). */
export class Converter {
  readonly b = new TfGraphBuilder();
  /** Nodes already emitted as part of a fused op (an activation taken by a Conv). */
  readonly fused = new Set<Node>();
  layoutTransposes = 0;
  private readonly map = new Map<Value, TfTensor>();
  private readonly plainCache = new Map<Value, string>();
  private readonly nhwcCache = new Map<Value, string>();

  /** The TF tensor of a value, creating a Const for initializers. */
  tensor(v: Value): TfTensor {
    const t = this.map.get(v);
    if (t) return t;
    if (!v.const) throw new Error(`tfjs: value ${v.name} was used before it was produced`);
    const c = v.const;
    const ref = isIntType(c.dtype) ? this.b.constI32(v.name, c.dims, c.numbers()) : this.b.constF32(v.name, c.dims, c.float32(), 'param');
    const out = { ref, layout: PLAIN };
    this.map.set(v, out);
    return out;
  }

  set(v: Value, ref: string, layout: Layout): void {
    if (layout.kind === 'nhwc' && v.shape?.length !== 4) throw new Error(`tfjs: ${v.name} is not 4-D, cannot be NHWC`);
    this.map.set(v, { ref, layout });
  }

  /** Same TF tensor for another value (Identity, Dropout). */
  alias(to: Value, from: Value): void {
    this.map.set(to, this.tensor(from));
  }

  /** The value in ONNX order. */
  plain(v: Value): string {
    const t = this.tensor(v);
    if (t.layout.kind === 'plain') return t.ref;
    const cached = this.plainCache.get(v);
    if (cached) return cached;
    let ref: string;
    if (t.layout.kind === 'nhwc') {
      ref = this.transpose(`${v.name}/to_nchw`, t.ref, [0, 3, 1, 2]);
    } else {
      const { c, h, w } = t.layout;
      const r1 = this.b.op(`${v.name}/unflatten`, 'Reshape', [t.ref, this.b.constI32(`${v.name}/unflatten/shape`, [4], [-1, h, w, c])]);
      const r2 = this.transpose(`${v.name}/to_nchw`, r1, [0, 3, 1, 2]);
      ref = this.b.op(`${v.name}/flatten_chw`, 'Reshape', [r2, this.b.constI32(`${v.name}/flatten_chw/shape`, [2], [-1, c * h * w])]);
    }
    this.plainCache.set(v, ref);
    return ref;
  }

  /** A 4-D value as NHWC. */
  nhwc(v: Value): string {
    const t = this.tensor(v);
    if (t.layout.kind === 'nhwc') return t.ref;
    const cached = this.nhwcCache.get(v);
    if (cached) return cached;
    const ref = this.transpose(`${v.name}/to_nhwc`, this.plain(v), [0, 2, 3, 1]);
    this.nhwcCache.set(v, ref);
    return ref;
  }

  transpose(base: string, ref: string, perm: readonly number[]): string {
    this.layoutTransposes++;
    return this.b.op(base, 'Transpose', [ref, this.b.constI32(`${base}/perm`, [perm.length], perm)], { T: tfAttr.type('DT_FLOAT') });
  }

  /** ONNX shape of a value (inferred beforehand; check() guarantees it where needed). */
  shape(v: Value): Dim[] {
    if (!v.shape) throw new Error(`tfjs: shape of ${v.name} is unknown`);
    return v.shape;
  }

  /** Float32 data of a constant operand. */
  constData(v: Value): Float32Array {
    if (!v.const) throw new Error(`tfjs: ${v.name} is not a constant`);
    return v.const.float32();
  }
}

/** Every reason the graph cannot become a tfjs graph model (empty when it can). */
export function tfjsProblems(g: Graph): string[] {
  const problems: string[] = [];
  const ins = g.realInputs();
  if (ins.length !== 1) problems.push(`the graph has ${ins.length} inputs; the tfjs target converts a single image input`);
  else {
    const s = ins[0]!.shape;
    if (!s || s.length !== 4 || s.slice(1).some((d) => typeof d !== 'number')) {
      problems.push(`input ${ins[0]!.name} has shape [${s?.join(', ') ?? '?'}]; the tfjs target needs [N, C, H, W] with C, H, W known`);
    }
    if (ins[0]!.dtype !== undefined && ins[0]!.dtype !== DType.FLOAT) problems.push(`input ${ins[0]!.name} is not float32`);
  }
  if (g.outputs.length !== 1) problems.push(`the graph has ${g.outputs.length} outputs; the tfjs target converts a single embedding output`);
  for (const n of g.nodes) {
    const rule = n.domain === '' || n.domain === 'ai.onnx' ? OP_MAP[n.op] : undefined;
    if (!rule) {
      problems.push(`${n.op}${n.domain ? ` (domain ${n.domain})` : ''} at node ${n.name}: no TensorFlow.js mapping`);
      continue;
    }
    for (const r of rule.check(n)) problems.push(`${n.op} at node ${n.name}: ${r}`);
  }
  return problems;
}

/** Throw one UnsupportedError listing every problem, or return. */
export function assertConvertible(g: Graph): void {
  const problems = tfjsProblems(g);
  if (problems.length === 0) return;
  const ops = [...new Set(problems.map((p) => p.split(' ')[0]))];
  throw new UnsupportedError(
    'tfjs-unsupported',
    `the tfjs target cannot convert ${problems.length} place${problems.length === 1 ? '' : 's'} (${ops.join(', ')}): ${problems.join('; ')}`,
    'see docs/targets.md for the ops the tfjs target supports; export without --target tfjs, or point --embedding at a tensor before these ops',
  );
}

/** Convert a checked, shape-inferred, topologically sorted graph. */
export function convertGraph(g: Graph, opts: ConvertOptions): ConvertResult {
  assertConvertible(g);
  const cx = new Converter();
  const input = g.realInputs()[0]!;
  const [, c, h, w] = input.shape as [Dim, number, number, number];
  const inName = cx.b.placeholder(input.name, opts.inputLayout === 'nhwc' ? [-1, h, w, c] : [-1, c, h, w]);
  cx.set(input, inName, opts.inputLayout === 'nhwc' ? NHWC : PLAIN);
  for (const n of g.nodes) {
    if (cx.fused.has(n)) continue;
    cx.b.source = n.name;
    OP_MAP[n.op]!.lower(n, cx);
  }
  cx.b.source = undefined;
  const out = g.outputs[0]!;
  const outRef = cx.plain(out);
  const outName = cx.b.op(out.name, 'Identity', [outRef], { T: tfAttr.type('DT_FLOAT') });
  const tfOps: Record<string, number> = {};
  for (const n of cx.b.nodes) tfOps[n.op] = (tfOps[n.op] ?? 0) + 1;
  return {
    nodes: cx.b.nodes,
    consts: cx.b.consts,
    input: { key: input.name, tensor: `${inName}:0`, dims: opts.inputLayout === 'nhwc' ? [-1, h, w, c] : [-1, c, h, w] },
    output: { key: out.name, tensor: `${outName}:0`, dims: tfDims(cx.shape(out)) },
    tfOps,
    layoutTransposes: cx.layoutTransposes,
  };
}
