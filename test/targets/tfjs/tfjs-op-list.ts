/**
 * The op list of the installed @tensorflow/tfjs-converter (its
 * dist/operations/op_list/*.js): every TF op name tfjs can execute, with the
 * attributes it reads. This is the schema the tfjs target's output is held to.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TfjsOpDef {
  readonly tfOpName: string;
  readonly inputs?: readonly { readonly start: number; readonly end?: number; readonly name: string; readonly type: string }[];
  readonly attrs?: readonly { readonly tfName?: string; readonly tfDeprecatedName?: string; readonly name: string; readonly type: string; readonly notSupported?: boolean }[];
}

let cache: Promise<Map<string, TfjsOpDef>> | undefined;

export function tfjsOpList(): Promise<Map<string, TfjsOpDef>> {
  cache ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('@tensorflow/tfjs-converter/package.json')), 'dist/operations/op_list');
    const out = new Map<string, TfjsOpDef>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.js')).sort()) {
      const m = (await import(pathToFileURL(join(dir, f)).href)) as { json: TfjsOpDef[] };
      for (const op of m.json) out.set(op.tfOpName, op);
    }
    return out;
  })();
  return cache;
}

/** Attribute names tfjs reads for an op (plus the ones every TF node may carry). */
export function knownAttrs(def: TfjsOpDef): Set<string> {
  const s = new Set<string>(['T', 'dtype', 'value']);
  for (const a of def.attrs ?? []) {
    if (a.tfName) s.add(a.tfName);
    if (a.tfDeprecatedName) s.add(a.tfDeprecatedName);
  }
  return s;
}
