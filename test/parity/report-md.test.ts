/**
 * parity-report.md read as a GitHub job summary, on a real report (sfnet10 on
 * onnxruntime-node cpu against PyTorch, plus the same run judged by an
 * impossible threshold so there is a failing result): a blank line before
 * every list and the table (GitHub otherwise folds them into the paragraph),
 * the failures first and each once, one table whose rows all have the header's
 * cells, failing rows first.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runParity } from '../../src/parity/engine.js';
import { loadReferences } from '../../src/data/references.js';
import { renderMarkdown } from '../../src/parity/report-md.js';
import type { ParityReport } from '../../src/parity/report.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ } from './helpers.js';

let report: ParityReport;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf2-md-'));
  const b = buildOnnxBundle(SFNET10, dir);
  const refs = await loadReferences({ reference: SFNET10_NPZ, originalModel: SFNET10, contract: b.contract });
  const cpu = RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu');
  const ok = await runParity({ bundleDir: dir, files: b.files, contract: b.contract, references: refs, runtimes: cpu });
  const strict = await runParity({ bundleDir: dir, files: b.files, contract: b.contract, references: refs, runtimes: cpu, thresholds: { fp32: { minCosine: 1 } } });
  report = {
    ...ok,
    pass: false,
    results: [...ok.results, { ...strict.results[0]!, runtime: 'onnxruntime-node/cpu (strict)' }],
    skipped: [
      { runtime: 'onnxruntime-node/webgpu', target: 'onnx', device: 'gpu', reason: 'no WebGPU adapter' },
      { runtime: 'onnxruntime-node/cuda', target: 'onnx', device: 'gpu', reason: 'no WebGPU adapter' },
    ],
  };
}, 60000);

describe('parity-report.md', () => {
  it('reads as a GitHub job summary', () => {
    const md = renderMarkdown(report);
    const lines = md.split('\n');
    // A blank line before every list and before the table.
    const kind = (l: string) => (l.startsWith('- ') ? 'list' : l.startsWith('|') ? 'table' : l === '' ? 'blank' : 'text');
    for (let i = 1; i < lines.length; i++) {
      const k = kind(lines[i]!), prev = kind(lines[i - 1]!);
      if ((k === 'list' || k === 'table') && prev !== k) expect(prev, `line ${i + 1}: ${lines[i]}`).toBe('blank');
    }
    // Failures come first, each failing result once.
    const fail = lines.findIndex((l) => l.startsWith('### Failures'));
    const table = lines.findIndex((l) => l.startsWith('| result |'));
    expect(fail).toBeGreaterThan(0);
    expect(fail).toBeLessThan(table);
    const failLines = lines.filter((l) => l.startsWith('- **onnx fp32'));
    expect(failLines).toHaveLength(1);
    expect(failLines[0]).toMatch(/^- \*\*onnx fp32 onnxruntime-node\/cpu \(strict\)\*\* \(fail\): min cosine /);
    // One table, every row with the header's cells; the failing row first.
    const rows = lines.slice(table).filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    for (const r of rows) expect(cells(r), r).toBe(cells(rows[0]!));
    expect(cells(rows[0]!) - 2).toBeLessThanOrEqual(8);
    expect(rows[2]).toMatch(/^\| \*\*FAIL\*\* \| onnx \| fp32 \| onnxruntime-node\/cpu \(strict\) \(cpu\) \| [0-9.e-]+ \|/);
    expect(rows[3]).toMatch(/^\| pass \| onnx \| fp32 \| onnxruntime-node\/cpu \(cpu\) \| [0-9.e-]+ \|/);
    // Skips grouped by reason.
    expect(lines).toContain('- onnxruntime-node/webgpu, onnxruntime-node/cuda: no WebGPU adapter');
  });
});
