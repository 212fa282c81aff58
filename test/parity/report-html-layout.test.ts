/**
 * parity-report.html with many results, looked at in headless Chromium at
 * 1400 px and at a phone width (390 px): every result has its own swatch colour
 * and that colour is on screen (they repeated after 10, so two results shared a
 * colour in the plots); the fp16 threshold label lies inside its plot (it was
 * clipped at the right edge); no number, id or hash wraps mid-token and the page
 * does not overflow sideways (wide tables scroll in their own box). The report
 * is a real one (sfnet10 on onnxruntime-node cpu against PyTorch), its result
 * repeated under 12 labels, half judged by the fp16 thresholds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { runParity } from '../../src/parity/engine.js';
import { loadReferences } from '../../src/data/references.js';
import { color, renderHtml } from '../../src/parity/report-html.js';
import type { ParityReport } from '../../src/parity/report.js';
import { RUNTIMES } from '../../src/parity/runtimes/registry.js';
import { DEFAULT_THRESHOLDS } from '../../src/metrics/thresholds.js';
import { BrowserHarness, chromiumProbe } from '../../src/parity/browser/index.js';
import { buildOnnxBundle, SFNET10, SFNET10_NPZ } from './helpers.js';

const N = 12;
const chromium = await chromiumProbe();
let dir: string;

beforeAll(async () => {
  const b = buildOnnxBundle(SFNET10, mkdtempSync(join(tmpdir(), 'sf2-html-many-')));
  const refs = await loadReferences({ reference: SFNET10_NPZ, originalModel: SFNET10, contract: b.contract });
  const cpu = RUNTIMES.filter((r) => r.id === 'onnxruntime-node/cpu');
  const ok = await runParity({ bundleDir: b.dir, files: b.files, contract: b.contract, references: refs, runtimes: cpu });
  const one = ok.results[0]!;
  const results = Array.from({ length: N }, (_, k) => ({ ...one, runtime: `onnxruntime-node/cpu #${k}`, ...(k % 2 ? { precision: 'fp16', thresholds: DEFAULT_THRESHOLDS.fp16 } : {}) }));
  const report: ParityReport = { ...ok, results };
  dir = mkdtempSync(join(tmpdir(), 'sf2-html-many-page-'));
  writeFileSync(join(dir, 'parity-report.html'), renderHtml(report));
}, 60000);

describe('parity-report.html layout', () => {
  it('gives every result its own colour (500 checked)', () => {
    const cs = Array.from({ length: 500 }, (_, k) => color(k));
    expect(new Set(cs).size).toBe(500);
    expect(cs).not.toContain('#cc0000');
    for (const c of cs) expect(c).toMatch(/^#[0-9a-f]{6}$/);
  });

  for (const width of [1400, 390]) {
    it.skipIf(!chromium.available)(`at ${width} px: own colours on screen, threshold labels inside, no mid-token wrap, no sideways overflow`, async () => {
      const h = await BrowserHarness.open({ mounts: { '/': dir }, page: '/parity-report.html', viewport: { width, height: 900 } });
      try {
        const layout = await h.evaluate(() => {
          const labels = Array.from(document.querySelectorAll('svg.plot text.threshold-label')).map((t) => {
            const svg = t.closest('svg')!;
            const bb = (t as SVGTextElement).getBBox();
            return { x0: bb.x, x1: bb.x + bb.width, w: svg.viewBox.baseVal.width, text: t.textContent };
          });
          const wrapped: string[] = [];
          for (const el of Array.from(document.querySelectorAll('td.num, td.id, code'))) {
            const r = document.createRange();
            r.selectNodeContents(el);
            const lines = new Set(Array.from(r.getClientRects()).map((b) => Math.round(b.top)));
            if (lines.size > 1) wrapped.push(el.textContent ?? '');
          }
          return { labels, wrapped, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth };
        }, undefined);
        expect(layout.labels).toHaveLength(N);
        for (const l of layout.labels) {
          expect(l.x0, String(l.text)).toBeGreaterThanOrEqual(0);
          expect(l.x1, String(l.text)).toBeLessThanOrEqual(l.w);
        }
        expect(layout.wrapped).toEqual([]);
        expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);

        if (width === 1400) {
          const png = PNG.sync.read(await h.screenshot(true));
          const count = new Map<string, number>();
          for (let k = 0; k < png.data.length; k += 4) {
            const c = `#${[png.data[k]!, png.data[k + 1]!, png.data[k + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
            count.set(c, (count.get(c) ?? 0) + 1);
          }
          // Each result's colour covers at least its 12 x 12 swatch plus histogram bars.
          for (let k = 0; k < N; k++) expect(count.get(color(k)) ?? 0, `result ${k} ${color(k)}`).toBeGreaterThan(144);
        }
        expect(h.errors()).toEqual([]);
      } finally {
        await h.close();
      }
    }, 120000);
  }
});
