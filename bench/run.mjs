#!/usr/bin/env node
/**
 * `npm run bench`: runs every bench/*.bench.mjs in turn (one process each, so
 * peak memory figures do not mix) and prints their Markdown sections. Copy them
 * into docs/benchmarks.md with the machine and date they print.
 * `npm run bench -- load` runs only the benchmarks whose file name contains "load".
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cpus, totalmem } from 'node:os';

const dir = import.meta.dirname;
const filter = process.argv[2] ?? '';
const scripts = readdirSync(dir).filter((f) => f.endsWith('.bench.mjs') && f.includes(filter)).sort();
console.log(`# sf2-export benchmarks\n\nMachine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; date ${new Date().toISOString().slice(0, 10)}\n`);
let failed = 0;
for (const s of scripts) {
  const r = spawnSync(process.execPath, [join(dir, s)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${s} exited with ${r.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
