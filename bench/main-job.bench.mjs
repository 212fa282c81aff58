#!/usr/bin/env node
/**
 * The main job on a full-size model, as a user runs it: `sf2-export MODEL
 * --target web --reference REF` with default options (every target, fp32 and
 * fp16, every runtime on by default), wall time end to end, and where the time
 * goes: each step and each parity run, read from the CLI's own log lines
 * ("<step>: <result> (<seconds> s ...)").
 *
 * Model: SF2_BENCH_MAIN_MODEL, default /tmp/sf2-full/iresnet100.eval.onnx, and
 * its references beside it (iresnet100.npz), made by
 *   /usr/bin/python3 fixtures/generate.py --full --only iresnet100 --out /tmp/sf2-full
 * (iresnet-100, 512-d, 100k-class SphereFace2 head, 466 MB; 32 reference rows).
 * The goal (issue 11): at most 10 minutes on a 2-core machine without a GPU,
 * every bundle file verified by at least one runtime.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const model = process.env.SF2_BENCH_MAIN_MODEL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const ref = process.env.SF2_BENCH_MAIN_REF ?? join(dirname(model), model.split('/').pop().replace(/\.(eval|preserve)\.onnx$/, '.npz'));
const root = resolve(import.meta.dirname, '..');
if (!existsSync(model) || !existsSync(ref)) {
  console.log(`## The main job on a full-size model\n\nskipped: ${model} or ${ref} does not exist (see bench/main-job.bench.mjs for how to make them)\n`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'sf2-bench-main-'));
const out = join(work, 'bundle');
const t0 = performance.now();
const child = spawn(process.execPath, [join(root, 'bin/sf2-export.js'), model, '--target', 'web', '--reference', ref, '--out', out], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
child.stderr.setEncoding('utf8').on('data', (d) => {
  log += d;
  process.stderr.write(d);
});
const code = await new Promise((r) => child.on('close', r));
const wall = (performance.now() - t0) / 1000;

// "<label>: <result> (<s> s[, rows/s])" lines: steps and parity runs.
const rows = [];
for (const line of log.split('\n')) {
  const m = /^(?:[✓✗!-] )?(.+?): (.*) \((\d+\.\d+) s(?:, ([\d.]+) rows\/s)?\)$/.exec(line);
  if (m) rows.push({ what: m[1], result: m[2].slice(0, 60), secs: Number(m[3]), rate: m[4] ?? '' });
}
const report = existsSync(join(out, 'parity-report.json')) ? JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')) : null;
const files = report ? report.files.filter((f) => f.role === 'model').map((f) => f.path) : [];
const runBy = (f) => report.results.filter((r) => r.file === f).map((r) => r.runtime);

console.log(`## The main job on a full-size model\n`);
console.log(`\`sf2-export ${model.split('/').pop()} --target web --reference ${ref.split('/').pop()}\`, default options; exit ${code}; **${(wall / 60).toFixed(1)} min** wall (${wall.toFixed(0)} s).\n`);
console.log('| step or run | s | rows/s | result |\n|---|---:|---:|---|');
for (const r of rows.sort((a, b) => b.secs - a.secs)) console.log(`| ${r.what} | ${r.secs.toFixed(1)} | ${r.rate} | ${r.result.replace(/\|/g, '\\|')} |`);
if (report) {
  console.log(`\n| bundle file | run by |\n|---|---|`);
  for (const f of files) console.log(`| ${f} | ${runBy(f).join(', ') || '**none (unverified)**'} |`);
}
console.log('');
rmSync(work, { recursive: true, force: true });
