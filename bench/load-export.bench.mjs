#!/usr/bin/env node
/**
 * Loading and exporting a full-size model, against `cp` and Debian's
 * python3-onnx (`onnx.load` + `onnx.save`), in one run on one file.
 *
 * Model: SF2_BENCH_MODEL, default /tmp/sf2-full/iresnet100.eval.onnx, made by
 *   /usr/bin/python3 fixtures/generate.py --full --only iresnet100 --classes 617970 --out /tmp/sf2-full
 * (iresnet-100, 512-d, a 617,970-class SphereFace2 head: about 1.5 GB).
 * Needs GNU time (/usr/bin/time) and python3-onnx (apt-get install -y time python3-onnx).
 * Peak RSS is the child process's maximum resident set (GNU time %M).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const model = process.env.SF2_BENCH_MODEL ?? '/tmp/sf2-full/iresnet100.eval.onnx';
const root = resolve(import.meta.dirname, '..');
if (!existsSync(model)) {
  console.log(`## Load and export of a full-size model\n\nskipped: ${model} does not exist (see bench/load-export.bench.mjs for how to make it)\n`);
  process.exit(0);
}
const size = statSync(model).size;
const work = mkdtempSync(join(tmpdir(), 'sf2-bench-'));

function timed(label, cmd, args, env = {}) {
  // Warm the page cache once so every contender reads from memory alike.
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr.slice(-2000)}`);
  return { label, secs, rssBytes: kb * 1024 };
}

spawnSync('cat', [model], { stdio: ['ignore', 'ignore', 'inherit'] });
const loadScript = join(work, 'load.mjs');
writeFileSync(loadScript, `import { loadOnnx } from ${JSON.stringify(join(root, 'dist/index.js'))};\nconst m = loadOnnx(process.argv[2]);\nconsole.log(m.graph.nodes.length);\n`);
const pyScript = join(work, 'onnx_roundtrip.py');
writeFileSync(pyScript, 'import onnx, sys\nm = onnx.load(sys.argv[1])\nonnx.save(m, sys.argv[2])\n');

const rows = [];
rows.push(timed('cp', 'cp', [model, join(work, 'copy.onnx')]));
rmSync(join(work, 'copy.onnx'));
rows.push(timed('python3-onnx onnx.load + onnx.save', '/usr/bin/python3', [pyScript, model, join(work, 'py.onnx')]));
rmSync(join(work, 'py.onnx'));
rows.push(timed('sf2-export: loadOnnx only', process.execPath, [loadScript, model]));
rows.push(timed('sf2-export model --target onnx --precision fp32 (no parity)', process.execPath, [join(root, 'bin/sf2-export.js'), model, '--target', 'onnx', '--precision', 'fp32', '--no-parity', '--out', join(work, 'out'), '--quiet']));
rmSync(join(work, 'out'), { recursive: true, force: true });
rows.push(timed('sf2-export model --target onnx --precision fp32 (with cpu parity, 16 synthetic inputs)', process.execPath, [join(root, 'bin/sf2-export.js'), model, '--target', 'onnx', '--precision', 'fp32', '--device', 'cpu', '--out', join(work, 'out'), '--quiet']));
rmSync(work, { recursive: true, force: true });

const gb = (b) => (b / 2 ** 30).toFixed(2);
console.log(`## Load and export of a full-size model\n\nModel: ${model} (${gb(size)} GiB, ${size} bytes).\n`);
console.log('| what | time (s) | peak RSS (GiB) | peak RSS / file size |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.label} | ${r.secs.toFixed(2)} | ${gb(r.rssBytes)} | ${(r.rssBytes / size).toFixed(2)} |`);
console.log('');
