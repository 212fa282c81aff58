/**
 * The house as drawn in docs/architecture.md: every module of src/ belongs to
 * one layer, and an import (static, dynamic or type-only) may point only at
 * its own layer or at one below it. A new folder or top-level file has to be
 * placed in LAYERS before anything can import it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Bottom to top. A unit is a folder of src/ or a file at src/'s top level (without extension). */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors'],
  ['log', 'limits', 'version', 'file-digests'],
  ['ir'],
  ['onnx'],
  ['pth'],
  ['analysis'],
  ['data'],
  ['metrics'],
  ['passes'],
  ['quantize'],
  ['bundle'],
  ['targets'],
  ['parity'],
  ['pack'],
  ['verify'],
  ['pipeline'],
  ['cli'],
  ['index'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function unitOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0]!.replace(/\.(ts|js)$/, '') : parts[0]!;
}

/** Relative specifiers of every import, export-from, import() and import type in a source text. */
export function importSpecifiers(text: string): string[] {
  const out: string[] = [];
  const re = /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) out.push(spec);
  }
  return out;
}

const rank = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i] as const)));

describe('layering', () => {
  const files = sourceFiles(SRC);

  it('reads the imports it checks (the checker itself)', () => {
    expect(importSpecifiers(`import { a } from './a.js';\nimport type { B } from "../b/c.js";\nexport { x } from './x.js';\nconst m = await import('../d.js');\nimport 'node:fs';`)).toEqual(['./a.js', '../b/c.js', './x.js', '../d.js']);
    expect(files.length).toBeGreaterThan(100);
  });

  it('places every folder and top-level file of src/ in a layer', () => {
    const unplaced = [...new Set(files.map(unitOf))].filter((u) => !rank.has(u));
    expect(unplaced).toEqual([]);
  });

  it('has no import that points up a layer, or sideways into another unit of the same layer', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC + sep)) continue;
        const to = unitOf(target);
        if (to === from) continue;
        if (rank.get(to)! >= rank.get(from)!) wrong.push(`${relative(SRC, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
