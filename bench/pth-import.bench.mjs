#!/usr/bin/env node
/**
 * Importing a full-size PyTorch checkpoint without Python (issue 14): peak RSS
 * against the checkpoint's size (target: under 1.3x), and time, next to `cp`
 * and torch.load.
 *
 * Checkpoint: SF2_BENCH_PTH, default /tmp/sf2-full/iresnet100/model_0.pth, made by
 *   /usr/bin/python3 fixtures/checkpoints.py --full /tmp/sf2-full
 * (opensphere 2023 layout: iresnet-100 64-128-256-512, 512-d, and a 100,000-class
 * SphereFace2 head, about 466 MB; never committed). Needs GNU time (/usr/bin/time);
 * the torch.load row needs Debian's python3-torch. Peak RSS is the child's maximum
 * resident set (GNU time %M). The page cache is warmed once first.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ckpt = process.env.SF2_BENCH_PTH ?? '/tmp/sf2-full/iresnet100/model_0.pth';
const root = resolve(import.meta.dirname, '..');
if (!existsSync(ckpt)) {
  console.log(`## Importing a full-size checkpoint (.pth)\n\nskipped: ${ckpt} does not exist (make it with /usr/bin/python3 fixtures/checkpoints.py --full /tmp/sf2-full)\n`);
  process.exit(0);
}
const size = statSync(ckpt).size;
const work = mkdtempSync(join(tmpdir(), 'sf2-bench-pth-'));

function timed(label, cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr.slice(-2000)}`);
  return { label, secs, rssBytes: kb * 1024 };
}

spawnSync('cat', [ckpt], { stdio: ['ignore', 'ignore', 'inherit'] });
const importScript = join(work, 'import.mjs');
writeFileSync(importScript, `import { importCheckpoint } from ${JSON.stringify(join(root, 'dist/pth/import.js'))};\nconst { model } = importCheckpoint(process.argv[2]);\nlet n = 0;\nfor (const v of model.graph.initializers()) n += v.const.rawBytes().byteLength;\nconsole.log(model.graph.nodes.length, n);\n`);
const pyScript = join(work, 'torch_load.py');
writeFileSync(pyScript, 'import sys, torch\nsd = torch.load(sys.argv[1], map_location="cpu", weights_only=True)\nprint(len(sd["backbone"]))\n');

const bin = join(root, 'bin/sf2-export.js');
const rows = [];
rows.push(timed('cp', 'cp', [ckpt, join(work, 'copy.pth')]));
rmSync(join(work, 'copy.pth'));
if (existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) {
  rows.push(timed('python3-torch torch.load(weights_only=True)', '/usr/bin/python3', [pyScript, ckpt]));
}
rows.push(timed('sf2-export inspect model.pth (import, nothing read)', process.execPath, [bin, 'inspect', ckpt, '--quiet']));
rows.push(timed('importCheckpoint + read every backbone tensor', process.execPath, [importScript, ckpt]));
rows.push(timed('sf2-export convert model.pth --out model.onnx', process.execPath, [bin, 'convert', ckpt, '--out', join(work, 'model.onnx'), '--quiet']));
rmSync(join(work, 'model.onnx'), { force: true });
rows.push(timed('sf2-export model.pth --target onnx --precision fp32 --no-parity', process.execPath, [bin, ckpt, '--target', 'onnx', '--precision', 'fp32', '--no-parity', '--out', join(work, 'out'), '--quiet']));
rmSync(work, { recursive: true, force: true });

const gib = (b) => (b / 2 ** 30).toFixed(2);
console.log(`## Importing a full-size checkpoint (.pth)\n\nCheckpoint: ${ckpt} (${(size / 1e6).toFixed(1)} MB, ${size} bytes).\n`);
console.log('| what | time (s) | peak RSS (GiB) | peak RSS / file size |\n|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.label} | ${r.secs.toFixed(2)} | ${gib(r.rssBytes)} | ${(r.rssBytes / size).toFixed(2)} |`);
console.log('');
