/**
 * Every fixture with a PyTorch reference: the original graph cut at its
 * embedding (and, for variants, whatever head or label they carry) passes fp32
 * parity on onnxruntime-node cpu, with the reference thresholds and pair
 * metrics. Plus the --images path on a real model: faces written as PNGs,
 * references computed from the original model.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readNpz, writeNpy } from '../../src/data/npy.js';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { runParity } from '../../src/parity/engine.js';
import { loadReferences } from '../../src/data/references.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { buildOnnxBundle, FIXTURES, SFNET10, SFNET10_NPZ } from './helpers.js';

const CPU = RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu');

function withReference(dir: string): Array<[string, string]> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => [join(dir, f), join(dir, f.replace(/\.[^.]+\.onnx$/, '.npz'))] as [string, string])
    .filter(([, npz]) => existsSync(npz));
}

const cases = [...withReference(FIXTURES), ...withReference(join(FIXTURES, 'variants'))];

describe('fp32 parity of every fixture against its PyTorch reference (onnxruntime-node cpu)', () => {
  it('has fixtures to check', () => expect(cases.length).toBeGreaterThanOrEqual(6));
  for (const [model, npz] of cases) {
    it(basename(model), async () => {
      const b = buildOnnxBundle(model, mkdtempSync(join(tmpdir(), 'sf2-fx-')));
      // resbn4's archive has no inputs: they are sfnet4's (fixtures/README.md), given as .npy files.
      const meta = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.meta.json'), 'utf8')) as { reference?: { inputsFrom?: string } };
      let refs;
      if (meta.reference?.inputsFrom) {
        const tmp = mkdtempSync(join(tmpdir(), 'sf2-fx-npy-'));
        writeNpy(join(tmp, 'x.npy'), readNpz(join(FIXTURES, meta.reference.inputsFrom)).get('inputs')!);
        writeNpy(join(tmp, 'e.npy'), readNpz(npz).get('embeddings')!);
        refs = await loadReferences({ inputs: join(tmp, 'x.npy'), reference: join(tmp, 'e.npy'), originalModel: model, contract: b.contract });
      } else {
        refs = await loadReferences({ reference: npz, originalModel: model, contract: b.contract });
      }
      const report = await runParity({ bundleDir: b.dir, files: b.files, contract: b.contract, references: refs, runtimes: CPU });
      const r = report.results[0]!;
      expect(r.failures).toEqual([]);
      // fp32 against PyTorch: float32 rounding only (see engine.test.ts).
      expect(1 - r.metrics!.rows.cosine.min).toBeLessThan(1e-9);
      if (refs.pairs) expect(r.metrics!.pairs!.flipsAtFar + r.metrics!.pairs!.flipsAtBestAccuracy).toBe(0);
    }, 60000);
  }
});

describe('--images: aligned faces as PNG files', () => {
  it('preprocesses by the contract and compares against the original model', async () => {
    // The fixture's first 6 inputs back to 8-bit pixels (x * 127.5 + 127.5, rounded), as PNGs.
    const npz = await loadReferences({ reference: SFNET10_NPZ });
    const dir = mkdtempSync(join(tmpdir(), 'sf2-faces-'));
    mkdirSync(join(dir, 'faces'));
    const plane = 112 * 112;
    for (let i = 0; i < 6; i++) {
      const png = new PNG({ width: 112, height: 112 });
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(npz.inputs[i * 3 * plane + c * plane + p]! * 127.5 + 127.5)));
        png.data[p * 4 + 3] = 255;
      }
      writeFileSync(join(dir, 'faces', `face${i}.png`), PNG.sync.write(png));
    }
    const b = buildOnnxBundle(SFNET10, join(dir, 'bundle'));
    const refs = await loadReferences({ images: join(dir, 'faces'), originalModel: SFNET10, contract: b.contract });
    expect(refs.kind).toBe('images');
    expect(refs.dims).toEqual([6, 3, 112, 112]);
    expect(refs.files).toHaveLength(7); // six images and the original model
    // Decoding and preprocessing are exact: every value is k/127.5 - 1 for an 8-bit k.
    for (let k = 0; k < refs.inputs.length; k += 997) expect(Number.isInteger(Math.round((refs.inputs[k]! + 1) * 127.5 * 1e4) / 1e4)).toBe(true);
    const report = await runParity({ bundleDir: b.dir, files: b.files, contract: b.contract, references: refs, runtimes: CPU });
    expect(report.pass).toBe(true);
    expect(report.reference.kind).toBe('images');
    expect(report.reference.files.map((f) => f.name)).toEqual(['face0.png', 'face1.png', 'face2.png', 'face3.png', 'face4.png', 'face5.png', 'sfnet10.eval.onnx']);
    expect(1 - report.results[0]!.metrics!.rows.cosine.min).toBeLessThan(1e-9);
  }, 60000);
});
