/**
 * The published type declarations, as a consumer compiles them: the package's
 * .d.ts are emitted from src/ (tsconfig.build.json, as `npm pack` ships them),
 * laid out as node_modules/sf2-export, and a small consumer using exportModel
 * and ParityError.result (docs/api.md) is type-checked under node16, nodenext,
 * bundler and node10 resolution with skipLibCheck off and esModuleInterop off.
 * Before: TS2339 (no ParityError.result) everywhere; TS1192 / TS1259 (default
 * imports of onnx-proto and long in the package's own .d.ts) under node10.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

const CONSUMER = `import { exportModel, ParityError, ExitCode, Sf2Error, type ExportResult, type ParityReport } from 'sf2-export';
export async function build(path: string): Promise<ExportResult> {
  try {
    return await exportModel(path, { targets: ['onnx', 'webgpu'], precisions: ['fp32'] });
  } catch (e) {
    if (e instanceof ParityError && e.result) {
      const r: ExportResult = e.result;
      if (e.exitCode === ExitCode.parity) return r;
    }
    if (e instanceof Sf2Error) throw new Error(e.oneLine());
    throw e;
  }
}
export type Results = ParityReport['results'];
`;

describe('published type declarations', () => {
  const work = mkdtempSync(join(tmpdir(), 'sf2-types-'));
  const pkg = join(work, 'pkg');
  const app = join(work, 'app');

  it('compile for a consumer under node16, nodenext, bundler and node10, without esModuleInterop', async () => {
    mkdirSync(pkg, { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
    symlinkSync(pkg, join(app, 'node_modules', 'sf2-export'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'), 'dir');
    writeFileSync(join(app, 'consumer.mts'), CONSUMER);
    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    // The compiler runs in a child process: a minute of synchronous type checking would starve vitest's worker RPC.
    const r = await run(process.execPath, [join(import.meta.dirname, 'check-consumer.mjs'), ROOT, pkg, app]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { emit: string[]; problems: Record<string, string[]> };
    expect(out.emit).toEqual([]);
    expect(out.problems).toEqual({ node16: [], nodenext: [], bundler: [], node10: [] });
  }, 300000);
});
