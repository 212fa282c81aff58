/**
 * parity-report.md: the summary a CI job page shows (GitHub step summary,
 * GitLab job artifacts), as GitHub renders it: the verdict, the failing
 * results first (each once), the reference, one table (failing rows first),
 * what was not run grouped by reason, the thresholds. Every list and table has
 * a blank line before it (GitHub's renderer needs one after a paragraph).
 */
import { DEFAULT_THRESHOLDS } from '../metrics/thresholds.js';
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
  const list = (items: readonly string[]) => { if (items.length) L.push('', ...items); };
  L.push(`## sf2-export parity: ${report.pass ? 'PASS' : 'FAIL'}`);
  // What failed comes first: a reviewer on the job summary page sees it without scrolling.
  const failing = report.results.filter((r) => !r.pass);
  if (failing.length || report.uncovered.length) {
    L.push('', `### Failures (${failing.length + report.uncovered.length})`);
    list([
      ...failing.map((r) => `- **${resultLabel(r)}** (${r.status}): ${esc([...new Set(r.failures)].join('; '))}`),
      ...report.uncovered.map((u) => `- **${u}**: no runtime could run it${report.allowUnverified ? ' (accepted with --allow-unverified)' : ''}`),
    ]);
  }
  L.push('', `Reference: ${esc(ref.description)} (sha256 \`${ref.sha256.slice(0, 12)}\`); inputs [${ref.inputShape.join(', ')}], D = ${ref.dim}; flip TTA: ${ref.flip ? esc(ref.flip) : 'not measured (no flipped reference)'}.`);
  for (const w of ref.warnings) L.push('', `> **Warning:** ${esc(w)}`);
  // One table, failing rows first; 1 - cos in scientific notation (0.99999999 reads poorly).
  L.push('', '| result | target | precision | runtime (adapter) | 1 - min cos | 1 - min cos, flip TTA | max abs diff | pair flips (FAR 1e-3 / best acc.) |');
  L.push('|---|---|---|---|---:|---:|---:|---:|');
  const rows = [...failing, ...report.results.filter((r) => r.pass)];
  for (const r of rows) {
    const m = r.metrics;
    const cells = m
      ? [oneMinus(m.rows.cosine.min), m.tta ? oneMinus(m.tta.cosine.min) : 'n/a', m.rows.maxAbsDiff.toExponential(2), m.pairs ? `${m.pairs.flipsAtFar} / ${m.pairs.flipsAtBestAccuracy}` : 'n/a']
      : ['-', '-', '-', '-'];
    L.push(`| ${r.pass ? 'pass' : `**${r.status.toUpperCase()}**`} | ${r.target} | ${r.precision} | ${r.runtime} (${esc(adapterOf(report, r))}) | ${cells.join(' | ')} |`);
  }
  if (!report.results.length) L.push('| no results | - | - | - | - | - | - | - |');
  // Results that ran a subset of the reference (software adapter, slow runtime): which and why.
  const subsets = report.results.filter((r) => r.subset);
  if (subsets.length) list(subsets.map((r) => `- ${resultLabel(r)}: ${esc(r.subset!.reason)}`));
  if (report.skipped.length) {
    // Grouped by reason: one line per reason, the runtimes it concerns.
    const by = new Map<string, string[]>();
    for (const sk of report.skipped) {
      const k = sk.reason;
      const ids = by.get(k) ?? [];
      if (!ids.includes(sk.runtime)) ids.push(sk.runtime);
      by.set(k, ids);
    }
    L.push('', '### Not run here');
    list([...by].map(([why, ids]) => `- ${ids.join(', ')}: ${esc(why)}`));
  }
  L.push('', '### Thresholds');
  const seen = new Map<string, ParityResult['thresholds']>();
  for (const r of report.results) seen.set(r.precision, r.thresholds);
  list([...seen].map(([p, t]) => {
    const d = DEFAULT_THRESHOLDS[p as keyof typeof DEFAULT_THRESHOLDS];
    const custom = d && (d.minCosine !== t.minCosine || d.maxFlipFraction !== t.maxFlipFraction) ? ' (overridden)' : '';
    return `- ${p}: min cosine ${t.minCosine}, pair decision flips at most ${(t.maxFlipFraction * 100).toFixed(1)}%${custom}`;
  }));
  const e = report.environment;
  L.push('', `Environment: ${e.tool.name} ${e.tool.version}, Node ${e.node}, ${e.platform}-${e.arch}, ${esc(e.cpu.model)} x${e.cpu.count}; ${e.runtimes.map((r) => `${r.id} ${r.version}`).join(', ') || 'no runtime ran'}.`);
  L.push('', 'Metrics are explained in docs/parity.md; plots are in parity-report.html.');
  return L.join('\n') + '\n';
}
