#!/usr/bin/env node
/**
 * Export at the I/O floor: sf2-export against `cp` and Debian's python3-onnx
 * (`onnx.load` + `onnx.save`), side by side on one file, per model size and per
 * precision. Wall time and peak RSS (GNU time %M) of each child process.
 *
 * Rows per model:
 *   cp                                  the floor: the file copied, in the kernel
 *   python3-onnx load + save            the usual Python round trip
 *   sf2-export data path                the library's loadOnnx -> optimize -> saveOnnx
 *                                       (strip head, fold BN, clean up: the weights'
 *                                       path from input file to output file)
 *   sf2-export --target onnx -p P       the CLI, --no-parity, with --reference NPZ
 *                                       when the model has one beside it; this also
 *                                       builds the bundle's golden set (which runs the
 *                                       original model for flip references) and, for
 *                                       fp16/int8, measures the quantized model on
 *                                       onnxruntime (calibration, sensitivity)
 *
 * Models: SF2_FLOOR_MODELS, a comma list of .onnx paths; default the five made by
 *   /usr/bin/python3 fixtures/generate.py --full --only iresnet50 iresnet100 iresnet200 --modes preserve --classes 100000 --out /tmp/sf2-h6/c100k
 *   /usr/bin/python3 fixtures/generate.py --full --only iresnet100 --modes eval --classes 617970 --out /tmp/sf2-h6/c618k
 * Precisions for the CLI rows: SF2_FLOOR_PRECISIONS (default fp32,fp16,int8), or per
 * model with SF2_FLOOR_PRECISIONS_BIG for models above 1 GB (default fp32).
 * SF2_FLOOR_PYTHON=0 skips the python rows. Needs /usr/bin/time and python3-onnx.
 * Each command runs once (these are minutes on a shared 2-core VM): the page cache is
 * warmed first so every contender reads the model from memory alike.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const models = (process.env.SF2_FLOOR_MODELS ?? [
  '/tmp/sf2-h6/c100k/iresnet50.preserve.onnx',
  '/tmp/sf2-h6/c100k/iresnet100.preserve.onnx',
  '/tmp/sf2-h6/c100k/iresnet200.preserve.onnx',
  '/tmp/sf2-h6/c618k/iresnet100.eval.onnx',
].join(',')).split(',').filter(Boolean);
const precisions = (process.env.SF2_FLOOR_PRECISIONS ?? 'fp32,fp16,int8').split(',');
const bigPrecisions = (process.env.SF2_FLOOR_PRECISIONS_BIG ?? 'fp32').split(',');
const python = process.env.SF2_FLOOR_PYTHON !== '0';
const work = mkdtempSync(join(tmpdir(), 'sf2-floor-'));

function timed(label, cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  if (r.status !== 0) return { label, failed: r.stderr.slice(-400).replace(/\s+/g, ' ') };
  return { label, secs, rssBytes: kb * 1024 };
}

const libScript = join(work, 'data-path.mjs');
writeFileSync(libScript, `
const { loadOnnx } = await import(${JSON.stringify(join(root, 'dist/onnx/import.js'))});
const { optimize } = await import(${JSON.stringify(join(root, 'dist/passes/index.js'))});
const { saveOnnx } = await import(${JSON.stringify(join(root, 'dist/onnx/export.js'))});
const log = { step: () => () => {}, debug() {}, warn() {}, info() {} };
const m = loadOnnx(process.argv[2]);
optimize(m, {}, { log });
saveOnnx(m, process.argv[3]);
`);
const pyScript = join(work, 'onnx_roundtrip.py');
writeFileSync(pyScript, 'import onnx, sys\nm = onnx.load(sys.argv[1])\nonnx.save(m, sys.argv[2])\n');

const mb = (b) => (b / 2 ** 20).toFixed(0);
console.log('## Export at the I/O floor: sf2-export against cp and python3-onnx\n');
console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 16)}Z; load average at start ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
console.log('| model | file (MB) | what | wall (s) | x cp | peak RSS (MB) | RSS / file |');
console.log('|---|---:|---|---:|---:|---:|---:|');
for (const model of models) {
  if (!existsSync(model)) {
    console.log(`| ${model} | | skipped: does not exist (see the header of bench/export-floor.bench.mjs) | | | | |`);
    continue;
  }
  const size = statSync(model).size;
  const npz = model.replace(/\.(eval|preserve)\.onnx$/, '.npz');
  const ref = existsSync(npz) ? ['--reference', npz] : [];
  spawnSync('cat', [model], { stdio: ['ignore', 'ignore', 'inherit'] });
  const rows = [];
  rows.push(timed('cp', 'cp', [model, join(work, 'copy.onnx')]));
  rmSync(join(work, 'copy.onnx'), { force: true });
  if (python) {
    rows.push(timed('python3-onnx onnx.load + onnx.save', '/usr/bin/python3', [pyScript, model, join(work, 'py.onnx')]));
    rmSync(join(work, 'py.onnx'), { force: true });
  }
  rows.push(timed('sf2-export data path (loadOnnx, optimize, saveOnnx)', process.execPath, [libScript, model, join(work, 'lib.onnx')]));
  rmSync(join(work, 'lib.onnx'), { force: true });
  for (const p of size > 2 ** 30 ? bigPrecisions : precisions) {
    const out = join(work, `out-${p}`);
    rows.push(timed(`sf2-export --target onnx --precision ${p} --no-parity${ref.length ? ' --reference' : ''}`, process.execPath, [join(root, 'bin/sf2-export.js'), model, '--target', 'onnx', '--precision', p, '--no-parity', ...ref, '--out', out, '--force', '--quiet']));
    rmSync(out, { recursive: true, force: true });
  }
  const cp = rows[0].secs;
  const name = model.split('/').slice(-1)[0];
  for (const r of rows) {
    if (r.failed) console.log(`| ${name} | ${mb(size)} | ${r.label} | failed: ${r.failed} | | | |`);
    else console.log(`| ${name} | ${mb(size)} | ${r.label} | ${r.secs.toFixed(2)} | ${(r.secs / cp).toFixed(2)} | ${mb(r.rssBytes)} | ${(r.rssBytes / size).toFixed(2)} |`);
  }
}
rmSync(work, { recursive: true, force: true });
console.log('');
