import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { buildQdq, buildWeightOnly, qdqTensors, qdqUnits, weightUnits } from '../../src/quantize/int8.js';
import { calibrate } from '../../src/quantize/calibrate.js';
import { convertToFloat16, float16Units } from '../../src/quantize/fp16.js';
import { float16SwitchModel, int8SwitchModel } from '../../src/quantize/switches.js';
import { openRunner, runEmbeddings } from '../../src/data/ort-run.js';
import { rowCosines } from '../../src/quantize/metric.js';
import type { Model } from '../../src/ir/model.js';
import { FIXTURES, fixtureArchs, loadReference, optimizedModel } from './helpers.js';

const archs = fixtureArchs();
const arch = archs.includes('sfnet10') ? 'sfnet10' : archs[0];

/** min cosine between the switch model with only `unit` on and the model with every other unit kept. */
async function agreement(sm: ReturnType<typeof int8SwitchModel>, keepModel: (unit: string) => Model, units: string[], data: { data: Float32Array; dims: number[] }, out: string, dim: number): Promise<number> {
  const runner = await openRunner(sm.model);
  let worst = 1;
  try {
    const off = Object.fromEntries([...sm.switches.values()].map((k) => [k, false]));
    for (const u of units) {
      const a = await runner.run(data, out, { ...off, [sm.switches.get(u)!]: true });
      const b = await runEmbeddings(keepModel(u), data, out);
      for (const c of rowCosines(b, a, dim)) worst = Math.min(worst, c);
    }
  } finally {
    await runner.close();
  }
  return worst;
}

describe.skipIf(!arch)('switch models (one session for the sensitivity scan)', () => {
  it('with one switch on, compute the model with that unit alone in lower precision', async () => {
    const m = await optimizedModel(join(FIXTURES, `${arch}.eval.onnx`));
    const ref = loadReference(arch!);
    const data = { data: ref.inputs.subarray(0, 4 * 3 * 112 * 112), dims: [4, 3, 112, 112] };
    const out = m.graph.outputs[0]!.name;
    const pick = <T>(xs: T[]) => [xs[0]!, xs[Math.floor(xs.length / 2)]!, xs[xs.length - 1]!];

    // weight-only and float16 emulation: the same arithmetic, so the same embeddings (to float32 summation order).
    const wu = weightUnits(m).map((n) => n.name);
    const wsm = int8SwitchModel(buildWeightOnly(m).model, m, wu);
    expect(wsm.switches.size).toBe(wu.length);
    const allBut = (units: string[], u: string) => new Set(units.filter((x) => x !== u));
    expect(await agreement(wsm, (u) => buildWeightOnly(m, { keep: allBut(wu, u) }).model, pick(wu), data, out, ref.dim)).toBeGreaterThan(1 - 1e-9);

    const fu = float16Units(m).map((n) => n.name);
    const fsm = float16SwitchModel(m);
    expect(fsm.switches.size).toBe(fu.length);
    expect(await agreement(fsm, (u) => convertToFloat16(m, { keep: allBut(fu, u), emulate: true }).model, pick(fu), data, out, ref.dim)).toBeGreaterThan(1 - 1e-9);

    // QDQ: fake quantization in float32 vs onnxruntime's fused integer kernels: close, not equal.
    const ranges = await calibrate(m, qdqTensors(m), data, { method: 'minmax' });
    const qu = qdqUnits(m).map((n) => n.name);
    const qsm = int8SwitchModel(buildQdq(m, ranges, { absorbRelu: false }).model, m, qu);
    expect(await agreement(qsm, (u) => buildQdq(m, ranges, { keep: allBut(qu, u) }).model, pick(qu), data, out, ref.dim)).toBeGreaterThan(1 - 1e-4);
  });
});
