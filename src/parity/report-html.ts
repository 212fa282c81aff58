/**
 * parity-report.html: one self-contained page (no scripts, no network, no
 * fonts to fetch), plots drawn as inline SVG. A pure function of the report,
 * so the same report gives the same bytes.
 *
 * Plots:
 *   - per result, a histogram of log10(1 - cosine) over the rows, with the
 *     threshold log10(1 - minCosine) as a red line: bars right of it fail;
 *   - the exported pair scores against the reference pair scores (every
 *     result overlaid, y = x as a guide, the two reference thresholds dashed),
 *     and their difference (exported - reference), which shows what the
 *     first plot cannot at fp32 (differences of 1e-7);
 *   - ROC curves (TAR against FAR) of the reference and of every result.
 */
import { rocPoints } from '../metrics/parity.js';
import { oneMinus } from './report-md.js';
import { resultLabel, type ParityReport, type ParityResult } from './report.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/**
 * The colour of result k: the ten-colour palette, then (from k = 10 on) hues
 * stepped by the golden angle (137.5 degrees, so no two coincide) at
 * alternating lightness, as #rrggbb: never the threshold red #cc0000 nor a
 * palette colour, and distinct from each other (checked for the first 500).
 */
export function color(k: number): string {
  if (k < PALETTE.length) return PALETTE[k]!;
  const seen = new Set([...PALETTE, '#cc0000']);
  for (let j = k; ; j += 1000) {
    const c = hsl(((j - PALETTE.length) * 137.508 + 20) % 360, 0.62, [0.38, 0.5, 0.3][j % 3]!);
    if (!seen.has(c)) return c;
  }
}

function hsl(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const ch = (n: number) => {
    const t = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1))));
  };
  return `#${[ch(0), ch(8), ch(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Coordinates with 2 decimals: stable text, sub-pixel precision. */
const f = (x: number) => (Math.round(x * 100) / 100).toFixed(2);

interface Frame {
  readonly svg: string[];
  x(v: number): number;
  y(v: number): number;
}

const W = 420, H = 280, ML = 58, MR = 14, MT = 14, MB = 44;

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(1);
}

function frame(title: string, xd: [number, number], yd: [number, number], xLabel: string, yLabel: string, xTickFmt: (v: number) => string = tickLabel): Frame {
  const x = (v: number) => ML + ((v - xd[0]) / (xd[1] - xd[0] || 1)) * (W - ML - MR);
  const y = (v: number) => H - MB - ((v - yd[0]) / (yd[1] - yd[0] || 1)) * (H - MT - MB);
  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`);
  svg.push(`<title>${esc(title)}</title>`);
  svg.push(`<rect x="${ML}" y="${MT}" width="${W - ML - MR}" height="${H - MT - MB}" fill="#fcfcfc" stroke="#999"/>`);
  for (const t of niceTicks(xd[0], xd[1])) {
    svg.push(`<line x1="${f(x(t))}" y1="${MT}" x2="${f(x(t))}" y2="${H - MB}" stroke="#e4e4e4"/>`);
    svg.push(`<text x="${f(x(t))}" y="${H - MB + 14}" text-anchor="middle">${esc(xTickFmt(t))}</text>`);
  }
  for (const t of niceTicks(yd[0], yd[1])) {
    svg.push(`<line x1="${ML}" y1="${f(y(t))}" x2="${W - MR}" y2="${f(y(t))}" stroke="#e4e4e4"/>`);
    svg.push(`<text x="${ML - 4}" y="${f(y(t) + 4)}" text-anchor="end">${esc(tickLabel(t))}</text>`);
  }
  svg.push(`<text x="${f((ML + W - MR) / 2)}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  svg.push(`<text transform="translate(14 ${f((MT + H - MB) / 2)}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return { svg, x, y };
}

function close(fr: Frame): string {
  return fr.svg.join('\n') + '\n</svg>';
}

// ---------------------------------------------------------------- plots

/** An upper bound of the width of one character of the 11px plot font (digits are ~6.1px wide). */
const LABEL_CHAR_PX = 6.6;

const FLOOR = -16; // log10(1 - cos) below float64 resolution is drawn at -16

function histogram(r: ParityResult, k: number): string {
  const cos = r.series?.cosine ?? [];
  const v = cos.map((c) => Math.max(FLOOR, Math.log10(Math.max(1 - c, 1e-16))));
  const thr = Math.log10(Math.max(1 - r.thresholds.minCosine, 1e-16));
  const hi = Math.max(0, Math.ceil(Math.max(thr, ...v) + 0.5));
  const lo = FLOOR;
  const binW = 0.5;
  const nb = Math.round((hi - lo) / binW);
  const counts = new Array<number>(nb).fill(0);
  for (const x of v) counts[Math.min(nb - 1, Math.max(0, Math.floor((x - lo) / binW)))]!++;
  const ymax = Math.max(1, ...counts);
  const fr = frame(`cosine histogram: ${resultLabel(r)}`, [lo, hi], [0, ymax * 1.1], 'log10(1 - cosine) per row', 'rows', (t) => String(t));
  counts.forEach((c, b) => {
    if (!c) return;
    const x0 = fr.x(lo + b * binW), x1 = fr.x(lo + (b + 1) * binW);
    fr.svg.push(`<rect class="bar" x="${f(x0 + 0.5)}" y="${f(fr.y(c))}" width="${f(x1 - x0 - 1)}" height="${f(fr.y(0) - fr.y(c))}" fill="${color(k)}"/>`);
  });
  fr.svg.push(`<line class="threshold" x1="${f(fr.x(thr))}" y1="${MT}" x2="${f(fr.x(thr))}" y2="${H - MB}" stroke="#c00" stroke-width="2"/>`);
  // The label goes right of the line, or left of it when it would leave the plot (it was clipped).
  const label = `min cos ${r.thresholds.minCosine}`;
  const fits = fr.x(thr) + 4 + label.length * LABEL_CHAR_PX <= W - MR;
  fr.svg.push(`<text class="threshold-label" x="${f(fits ? fr.x(thr) + 4 : fr.x(thr) - 4)}" y="${MT + 14}" fill="#c00"${fits ? '' : ' text-anchor="end"'}>${esc(label)}</text>`);
  return close(fr);
}

function scoreDomain(report: ParityReport): [number, number] {
  const all = [...report.reference.pairScores, ...report.results.flatMap((r) => r.series?.pairScores ?? [])];
  const lo = Math.min(...all), hi = Math.max(...all);
  const pad = (hi - lo) * 0.05 || 0.05;
  return [lo - pad, hi + pad];
}

function thresholdsOf(report: ParityReport): number[] {
  const p = report.results.find((r) => r.metrics?.pairs)?.metrics?.pairs;
  return p ? [p.thresholdAtFar, p.thresholdBestAccuracy] : [];
}

/** The reference pair index of a result's i-th pair score (a subset result lists its pairs). */
const pairIndex = (r: ParityReport['results'][number], i: number): number => r.subset?.pairs[i] ?? i;

function scatter(report: ParityReport): string {
  const ref = report.reference.pairScores;
  const dom = scoreDomain(report);
  const fr = frame('exported against reference pair scores', dom, dom, 'reference pair score (cosine)', 'exported pair score');
  fr.svg.push(`<line x1="${f(fr.x(dom[0]))}" y1="${f(fr.y(dom[0]))}" x2="${f(fr.x(dom[1]))}" y2="${f(fr.y(dom[1]))}" stroke="#888"/>`);
  for (const t of thresholdsOf(report)) {
    fr.svg.push(`<line x1="${f(fr.x(t))}" y1="${MT}" x2="${f(fr.x(t))}" y2="${H - MB}" stroke="#c00" stroke-dasharray="4 3"/>`);
    fr.svg.push(`<line x1="${ML}" y1="${f(fr.y(t))}" x2="${W - MR}" y2="${f(fr.y(t))}" stroke="#c00" stroke-dasharray="4 3"/>`);
  }
  report.results.forEach((r, k) => {
    (r.series?.pairScores ?? []).forEach((s, i) => {
      const j = pairIndex(r, i);
      const same = report.reference.issame[j] === 1;
      fr.svg.push(`<circle class="pt" cx="${f(fr.x(ref[j]!))}" cy="${f(fr.y(s))}" r="3" ${same ? `fill="${color(k)}"` : `fill="none" stroke="${color(k)}"`}/>`);
    });
  });
  return close(fr);
}

function difference(report: ParityReport): string {
  const ref = report.reference.pairScores;
  let m = 0;
  for (const r of report.results) (r.series?.pairScores ?? []).forEach((s, i) => { m = Math.max(m, Math.abs(s - ref[pairIndex(r, i)]!)); });
  m = m > 0 ? m * 1.15 : 1e-9;
  const dom = scoreDomain(report);
  const fr = frame('exported minus reference pair score', dom, [-m, m], 'reference pair score (cosine)', 'exported - reference');
  fr.svg.push(`<line x1="${ML}" y1="${f(fr.y(0))}" x2="${W - MR}" y2="${f(fr.y(0))}" stroke="#888"/>`);
  for (const t of thresholdsOf(report)) fr.svg.push(`<line x1="${f(fr.x(t))}" y1="${MT}" x2="${f(fr.x(t))}" y2="${H - MB}" stroke="#c00" stroke-dasharray="4 3"/>`);
  report.results.forEach((r, k) => {
    (r.series?.pairScores ?? []).forEach((s, i) => {
      const j = pairIndex(r, i);
      fr.svg.push(`<circle class="pt" cx="${f(fr.x(ref[j]!))}" cy="${f(fr.y(s - ref[j]!))}" r="2.5" fill="${color(k)}"/>`);
    });
  });
  return close(fr);
}

function roc(report: ParityReport): string {
  const issame = Uint8Array.from(report.reference.issame);
  const fr = frame('ROC: reference and every result', [0, 1], [0, 1], 'false accept rate', 'true accept rate');
  const path = (pts: Array<[number, number]>) => pts.map(([x, y], i) => `${i ? 'L' : 'M'}${f(fr.x(x))} ${f(fr.y(y))}`).join(' ');
  report.results.forEach((r, k) => {
    if (r.series?.pairScores) fr.svg.push(`<path class="roc" d="${path(rocPoints(r.series.pairScores, r.subset ? Uint8Array.from(r.subset.pairs, (j) => issame[j]!) : issame))}" fill="none" stroke="${color(k)}" stroke-width="2"/>`);
  });
  fr.svg.push(`<path class="roc" d="${path(rocPoints(report.reference.pairScores, issame))}" fill="none" stroke="#000" stroke-width="1.5" stroke-dasharray="5 3"/>`);
  return close(fr);
}

// ---------------------------------------------------------------- page

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{margin:0 0 8px}.pass{color:#187a2f}.fail{color:#b00020}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.scroll{overflow-x:auto;max-width:100%}td.num,td.id,code{white-space:nowrap}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{margin:0;min-width:0;max-width:100%}figcaption{font-size:12px;color:#555;max-width:420px}
svg.plot text{font:11px system-ui,sans-serif;fill:#333}svg.plot{max-width:100%;height:auto}
.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle}
.warn{background:#fff4d6;border:1px solid #e0b000;padding:6px 10px}
code{font-size:12px}
`;

export function renderHtml(report: ParityReport): string {
  const ref = report.reference;
  const P: string[] = [];
  const verdict = report.pass ? 'PASS' : 'FAIL';
  P.push('<!doctype html>');
  P.push('<html lang="en"><head><meta charset="utf-8">');
  P.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  P.push(`<title>sf2-export parity report: ${verdict}</title>`);
  P.push(`<style>${CSS}</style></head><body>`);
  P.push(`<h1>Parity: <span class="${report.pass ? 'pass' : 'fail'}" id="verdict">${verdict}</span></h1>`);
  P.push(`<p>Reference: ${esc(ref.description)}; inputs [${ref.inputShape.join(', ')}], D = ${ref.dim}; flip TTA: ${ref.flip ? esc(ref.flip) : 'not measured'}. sha256 <code title="${ref.sha256}">${ref.sha256.slice(0, 16)}…</code> (in full under Files measured)</p>`);
  for (const w of ref.warnings) P.push(`<p class="warn">${esc(w)}</p>`);

  P.push('<h2>Results</h2><div class="scroll"><table><thead><tr><th></th><th>target</th><th>precision</th><th>runtime</th><th>device</th><th>1 - min cos</th><th>1 - mean cos</th><th>1 - p1 cos</th><th>1 - TTA min cos</th><th>max angle (deg)</th><th>max |diff|</th><th>max rel L2</th><th>norm ratio</th><th>pairs: flips FAR / acc</th><th>TAR@FAR change</th><th>acc change</th><th>max score diff</th><th>result</th></tr></thead><tbody>');
  report.results.forEach((r, k) => {
    const m = r.metrics;
    const num = (s: string) => `<td class="num">${s}</td>`;
    const cells = m
      ? [
          num(oneMinus(m.rows.cosine.min)), num(oneMinus(m.rows.cosine.mean)), num(oneMinus(m.rows.cosine.p1)), num(m.tta ? oneMinus(m.tta.cosine.min) : 'n/a'),
          num(m.rows.maxAngleDeg.toExponential(2)), num(m.rows.maxAbsDiff.toExponential(2)), num(m.rows.maxRelL2.toExponential(2)),
          num(`${m.rows.normRatio.min.toFixed(7)} .. ${m.rows.normRatio.max.toFixed(7)}`),
          num(m.pairs ? `${m.pairs.flipsAtFar} / ${m.pairs.flipsAtBestAccuracy}` : 'n/a'),
          num(m.pairs ? m.pairs.tarAtFar.change.toFixed(4) : 'n/a'), num(m.pairs ? m.pairs.accuracy.change.toFixed(4) : 'n/a'), num(m.pairs ? m.pairs.maxScoreDiff.toExponential(2) : 'n/a'),
        ].join('')
      : `<td colspan="12">${esc(r.failures.join('; '))}</td>`;
    P.push(`<tr class="result ${r.pass ? 'row-pass' : 'row-fail'}"><td><span class="swatch" style="background:${color(k)}"></span></td><td class="id">${r.target}</td><td class="id">${r.precision}</td><td class="id">${esc(r.runtime)}</td><td class="id">${r.device}</td>${cells}<td class="${r.pass ? 'pass' : 'fail'}">${r.pass ? 'pass' : esc(r.status)}</td></tr>`);
  });
  P.push('</tbody></table></div>');
  const failing = report.results.filter((r) => !r.pass);
  if (failing.length || report.uncovered.length) {
    P.push('<h2>Failures</h2><ul>');
    for (const r of failing) P.push(`<li>${esc(resultLabel(r))}: ${esc(r.failures.join('; '))}</li>`);
    for (const u of report.uncovered) P.push(`<li>${esc(u)}: no runtime could run it</li>`);
    P.push('</ul>');
  }
  if (report.skipped.length) {
    P.push('<h2>Skipped runtimes</h2><ul>');
    for (const s of report.skipped) P.push(`<li><b>${esc(s.runtime)}</b> (${s.target}, ${s.device}): ${esc(s.reason)}</li>`);
    P.push('</ul>');
  }

  P.push('<h2>Cosine per row</h2><div class="plots">');
  report.results.forEach((r, k) => {
    if (r.series) P.push(`<figure>${histogram(r, k)}<figcaption>${esc(resultLabel(r))}: rows by log10(1 - cosine); right of the red line fails.</figcaption></figure>`);
  });
  P.push('</div>');
  if (ref.pairs > 0 && report.results.some((r) => r.series?.pairScores)) {
    P.push('<h2>Pairs</h2><div class="plots">');
    P.push(`<figure>${scatter(report)}<figcaption>Filled: same identity; hollow: different. Dashed red: the reference thresholds (FAR 1e-3, best accuracy). Points off the diagonal across a dashed line are decision flips.</figcaption></figure>`);
    P.push(`<figure>${difference(report)}<figcaption>Exported minus reference score, per pair.</figcaption></figure>`);
    P.push(`<figure>${roc(report)}<figcaption>Black dashed: the reference; colors as in the results table.</figcaption></figure>`);
    P.push('</div>');
  }

  const e = report.environment;
  P.push('<h2>Environment</h2><div class="scroll"><table><tbody>');
  P.push(`<tr><th>tool</th><td>${esc(e.tool.name)} ${esc(e.tool.version)}</td></tr>`);
  P.push(`<tr><th>node</th><td>${esc(e.node)} (${esc(e.platform)}-${esc(e.arch)})</td></tr>`);
  P.push(`<tr><th>cpu</th><td>${esc(e.cpu.model)} x${e.cpu.count}</td></tr>`);
  for (const r of e.runtimes) {
    const a = r.adapter ? `; adapter ${esc(r.adapter.vendor)} / ${esc(r.adapter.architecture)} / ${esc(r.adapter.description)}${r.adapter.isFallbackAdapter ? ' <b>(fallback adapter: a software rasterizer, not a GPU)</b>' : ''}` : '';
    P.push(`<tr><th>${esc(r.id)}</th><td>${esc(r.engine)} ${esc(r.version)}, ${r.device}, ${esc(r.backend)}${a}${r.notes?.length ? `<br>${r.notes.map(esc).join('<br>')}` : ''}</td></tr>`);
  }
  P.push('</tbody></table></div>');
  P.push('<h2>Files measured</h2><div class="scroll"><table><thead><tr><th>path</th><th>bytes</th><th>sha256</th></tr></thead><tbody>');
  for (const fl of report.files) P.push(`<tr><td>${esc(fl.path)}</td><td class="num">${fl.bytes}</td><td><code>${fl.sha256}</code></td></tr>`);
  P.push(`<tr><td>reference (${ref.files.map((x) => esc(x.name)).join(', ') || 'computed'})</td><td></td><td><code>${ref.sha256}</code></td></tr>`);
  P.push('</tbody></table></div>');
  P.push('<p>Every metric and threshold is explained in docs/parity.md of sf2-export.</p>');
  P.push('</body></html>');
  return P.join('\n') + '\n';
}
