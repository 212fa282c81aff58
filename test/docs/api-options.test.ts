import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The field names of `export interface NAME ... { ... }` in a source file (one level of braces). */
function fields(file: string, name: string): string[] {
  const src = readFileSync(file, 'utf8');
  const start = src.indexOf(`export interface ${name}`);
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
  const body = src.slice(src.indexOf('{', start) + 1, src.indexOf('\n}', start));
  return [...body.matchAll(/^\s+(?:readonly\s+)?(\w+)\??:/gm)].map((m) => m[1]!);
}

describe('docs/api.md', () => {
  it('lists every ExportOptions field, the parity ones included', () => {
    const doc = readFileSync('docs/api.md', 'utf8');
    const table = doc.slice(doc.indexOf('`ExportOptions`'), doc.indexOf('## Packing'));
    const all = [...fields('src/pipeline/export.ts', 'ExportOptions'), ...fields('src/pipeline/parity-step.ts', 'ParityOptions'), ...fields('src/targets/target.ts', 'TargetOptions')];
    expect(all.length).toBeGreaterThan(20);
    expect(all.filter((f) => !table.includes(`\`${f}\``))).toEqual([]);
  });
});
