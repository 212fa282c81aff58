/**
 * parity-report.md: the summary a CI job page shows (GitHub step summary,
 * GitLab job artifacts). One table row per result, then what was skipped and
 * why, the thresholds, and the reference.
 */
import { DEFAULT_THRESHOLDS } from './thresholds.js';
import { resultLabel, type ParityReport, type ParityResult } from './report.js';

/** 1 - cos in scientific notation: 0.99999999 reads poorly, 1e-8 does not. */
export function oneMinus(x: number): string {
  const d = 1 - x;
  return d <= 0 ? '0' : d.toExponential(2);
}

function adapterOf(report: ParityReport, r: ParityResult): string {
  const env = report.environment.runtimes.find((x) => x.id === r.runtime);
  const a = env?.adapter;
  if (!a) return r.device === 'cpu' ? 'cpu' : 'unknown';
  return `${a.vendor || '?'} ${a.architecture || ''}${a.isFallbackAdapter ? ' (fallback)' : ''}`.trim();
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(report: ParityReport): string {
  const L: string[] = [];
  const ref = report.reference;
  L.push(`## sf2-export parity: ${report.pass ? 'PASS' : 'FAIL'}`);
  L.push('');
  L.push(`Reference: ${esc(ref.description)} (sha256 \`${ref.sha256.slice(0, 12)}\`); inputs [${ref.inputShape.join(', ')}], D = ${ref.dim}; flip TTA: ${ref.flip ? esc(ref.flip) : 'not measured (no flipped reference)'}.`);
  for (const w of ref.warnings) L.push(`\n> **Warning:** ${esc(w)}`);
  L.push('');
  L.push('| target | precision | runtime | adapter | min cos (1-) | p1 cos (1-) | TTA min cos (1-) | max angle (deg) | max abs diff | pair flips FAR / acc | result |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of report.results) {
    const m = r.metrics;
    const cells = m
      ? [oneMinus(m.rows.cosine.min), oneMinus(m.rows.cosine.p1), m.tta ? oneMinus(m.tta.cosine.min) : 'n/a', m.rows.maxAngleDeg.toExponential(2), m.rows.maxAbsDiff.toExponential(2), m.pairs ? `${m.pairs.flipsAtFar} / ${m.pairs.flipsAtBestAccuracy}` : 'n/a']
      : ['-', '-', '-', '-', '-', '-'];
    L.push(`| ${r.target} | ${r.precision} | ${r.runtime} | ${esc(adapterOf(report, r))} | ${cells.join(' | ')} | ${r.pass ? 'pass' : `**${r.status.toUpperCase()}**`} |`);
  }
  if (!report.results.length) L.push('| - | - | - | - | - | - | - | - | - | - | no results |');
  const failing = report.results.filter((r) => !r.pass);
  if (failing.length || report.uncovered.length) {
    L.push('');
    L.push('### Failures');
    for (const r of failing) L.push(`- ${resultLabel(r)}: ${esc(r.failures.join('; '))}`);
    for (const u of report.uncovered) L.push(`- ${u}: no runtime could run it`);
  }
  if (report.skipped.length) {
    L.push('');
    L.push('### Skipped runtimes');
    for (const s of report.skipped) L.push(`- ${s.runtime} (${s.target}, ${s.device}): ${esc(s.reason)}`);
  }
  L.push('');
  L.push('### Thresholds');
  const seen = new Map<string, ParityResult['thresholds']>();
  for (const r of report.results) seen.set(r.precision, r.thresholds);
  for (const [p, t] of seen) {
    const d = DEFAULT_THRESHOLDS[p as keyof typeof DEFAULT_THRESHOLDS];
    const custom = d && (d.minCosine !== t.minCosine || d.maxFlipFraction !== t.maxFlipFraction) ? ' (overridden)' : '';
    L.push(`- ${p}: min cosine ${t.minCosine}, pair decision flips at most ${(t.maxFlipFraction * 100).toFixed(1)}%${custom}`);
  }
  L.push('');
  const e = report.environment;
  L.push(`Environment: ${e.tool.name} ${e.tool.version}, Node ${e.node}, ${e.platform}-${e.arch}, ${esc(e.cpu.model)} x${e.cpu.count}; ${e.runtimes.map((r) => `${r.id} ${r.version}`).join(', ') || 'no runtime ran'}.`);
  L.push('');
  L.push('Metrics are explained in docs/parity.md; plots are in parity-report.html.');
  return L.join('\n') + '\n';
}
