/**
 * The HTML report opens in headless Chromium with its plots drawn: a real
 * report (sfnet10 on onnxruntime-node cpu against PyTorch, plus the same
 * bundle with a perturbed weight so a failing result is drawn too), rendered,
 * served on loopback, screenshotted; the screenshot must not be blank and must
 * hold the plot colours; every SVG must have marks; the page fetches nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { runParity } from '../../src/parity/engine.js';
import { loadReferences } from '../../src/data/references.js';
import { renderHtml } from '../../src/parity/report-html.js';
import { renderMarkdown } from '../../src/parity/report-md.js';
import type { ParityReport } from '../../src/parity/report.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { BrowserHarness } from '../../src/parity/browser/index.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ } from './helpers.js';

let report: ParityReport;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf2-html-'));
  const b = buildOnnxBundle(SFNET10, dir);
  const refs = await loadReferences({ reference: SFNET10_NPZ, originalModel: SFNET10, contract: b.contract });
  const cpu = RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu');
  const ok = await runParity({ bundleDir: dir, files: b.files, contract: b.contract, references: refs, runtimes: cpu });
  // A second, failing result for the plots: the same run judged by an impossible threshold (cosine exactly 1).
  const strict = await runParity({ bundleDir: dir, files: b.files, contract: b.contract, references: refs, runtimes: cpu, thresholds: { fp32: { minCosine: 1 } } });
  report = { ...ok, pass: false, results: [...ok.results, { ...strict.results[0]!, runtime: 'onnxruntime-node/cpu (strict)' }] };
}, 60000);

describe('parity-report.html', () => {
  it('is deterministic and self-contained', () => {
    const html = renderHtml(report);
    expect(renderHtml(report)).toBe(html);
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('id="verdict">FAIL<');
    expect(renderMarkdown(report)).toMatch(/^## sf2-export parity: FAIL\n/);
    expect(renderMarkdown(report)).toMatch(/\| pass \| onnx \| fp32 \| onnxruntime-node\/cpu \(cpu\) \| [0-9.e-]+ \|/);
  });

  it('opens in headless Chromium with every plot drawn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf2-html-page-'));
    writeFileSync(join(dir, 'parity-report.html'), renderHtml(report));
    const h = await BrowserHarness.open({ mounts: { '/': dir }, page: '/parity-report.html', viewport: { width: 1400, height: 900 } });
    try {
      const requests: string[] = [];
      h.page.on('request', (r) => requests.push(r.url()));
      await h.page.reload({ waitUntil: 'load' });
      expect(requests.every((u) => u.startsWith(h.server.origin))).toBe(true);
      const marks = await h.evaluate(() => {
        const svgs = Array.from(document.querySelectorAll("svg.plot"));
        return svgs.map((s) => {
          const box = s.getBoundingClientRect();
          return { label: s.getAttribute('aria-label'), w: box.width, h: box.height, bars: s.querySelectorAll('rect.bar').length, pts: s.querySelectorAll('circle.pt').length, roc: s.querySelectorAll('path.roc').length };
        });
      }, undefined);
      // 2 histograms + scatter + difference + ROC.
      expect(marks).toHaveLength(5);
      for (const m of marks) {
        expect(m.w).toBeGreaterThan(300);
        expect(m.h).toBeGreaterThan(200);
        expect(m.bars + m.pts + m.roc, m.label ?? '').toBeGreaterThan(0);
      }
      expect(marks[2]!.pts).toBe(2 * 64); // every pair of both results
      expect(marks[4]!.roc).toBe(3); // two results and the reference
      const png = PNG.sync.read(await h.screenshot(true));
      const colors = new Map<number, number>();
      for (let k = 0; k < png.data.length; k += 4) {
        const c = (png.data[k]! << 16) | (png.data[k + 1]! << 8) | png.data[k + 2]!;
        colors.set(c, (colors.get(c) ?? 0) + 1);
      }
      // A blank page is one colour; text alone gives grey anti-aliasing. The plots' first colour
      // (#1f77b4) and the threshold red (#c00) must cover real areas.
      expect(colors.size).toBeGreaterThan(50);
      expect(colors.get(0x1f77b4) ?? 0).toBeGreaterThan(200);
      expect(colors.get(0xcc0000) ?? 0).toBeGreaterThan(100);
      expect(h.errors()).toEqual([]);
    } finally {
      await h.close();
    }
  }, 60000);
});
