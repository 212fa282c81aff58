#!/usr/bin/env node
/**
 * Exports without --reference on a full-size model: how often, and for how
 * long, the original model runs on onnxruntime-node (optimizations off) to make
 * the references. The export computes them once and hands the same set to the
 * golden sets and to parity (src/pipeline/export.ts exportReferences); before,
 * the golden set and parity each computed them (one more "reference
 * embeddings" step per export, and --no-parity also ran the flip references the
 * golden sets never use). Read from the CLI's own log lines.
 *
 * Model: SF2_BENCH_REF_MODEL, default /tmp/sf2-full/iresnet100.eval.onnx (see
 * bench/main-job.bench.mjs for how to make it). Two runs, onnx fp32 only:
 * --no-parity, and parity on onnxruntime-node/cpu (16 synthetic rows).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const model = process.env.SF2_BENCH_REF_MODEL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const root = resolve(import.meta.dirname, '..');
if (!existsSync(model)) {
  console.log(`## References computed once (exports without --reference)\n\nskipped: ${model} does not exist (see bench/main-job.bench.mjs for how to make it)\n`);
  process.exit(0);
}

async function exportOnce(extra) {
  const work = mkdtempSync(join(tmpdir(), 'sf2-bench-refonce-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'bin/sf2-export.js'), model, '--target', 'onnx', '--precision', 'fp32', '--out', join(work, 'b'), ...extra], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (log += d));
  const code = await new Promise((r) => child.on('close', r));
  const wall = (performance.now() - t0) / 1000;
  rmSync(work, { recursive: true, force: true });
  const steps = (prefix) => log.split('\n').map((l) => new RegExp(`^${prefix}.*: .*\\((\\d+\\.\\d+) s\\)$`).exec(l)).filter(Boolean).map((m) => Number(m[1]));
  return { code, wall, refs: steps('reference embeddings of'), flips: steps('flip references') };
}

const runs = [
  ['--no-parity', ['--no-parity']],
  ['parity on onnxruntime-node/cpu', ['--runtime', 'onnxruntime-node/cpu']],
];
console.log('## References computed once (exports without --reference)\n');
console.log(`\`sf2-export ${model.split('/').pop()} --target onnx --precision fp32\`, no --reference (16 synthetic rows).\n`);
console.log('| run | exit | wall s | reference-embedding runs (s each) | flip-reference runs (s each) |\n|---|---:|---:|---|---|');
for (const [name, extra] of runs) {
  const r = await exportOnce(extra);
  const fmt = (a) => `${a.length}${a.length ? ` (${a.map((s) => s.toFixed(1)).join(', ')})` : ''}`;
  console.log(`| ${name} | ${r.code} | ${r.wall.toFixed(0)} | ${fmt(r.refs)} | ${fmt(r.flips)} |`);
}
console.log('');
