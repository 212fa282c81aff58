/**
 * A small JSON Schema checker for the subset our schemas use (draft 2020-12
 * keywords): type (one or a list), properties, required,
 * additionalProperties (false or a schema), items, enum, const, minimum,
 * maximum, minLength, pattern, minItems, maxItems, anyOf, and $ref to
 * "#/$defs/NAME". Unknown keywords are an error here, so a schema can never
 * silently check less than it says. Returns every problem as "path: what".
 */

export type Schema = { readonly [k: string]: unknown };

const KNOWN = new Set(['$schema', '$id', '$defs', '$ref', 'title', 'description', 'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'minimum', 'maximum', 'minLength', 'pattern', 'minItems', 'maxItems', 'anyOf', 'examples']);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const a = typeOf(v);
  return a === t || (t === 'number' && a === 'integer');
}

export function checkSchema(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  const out: string[] = [];
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`schema at ${path} uses unsupported keyword ${k}`);
  if (typeof schema.$ref === 'string') {
    const m = /^#\/\$defs\/([\w-]+)$/.exec(schema.$ref);
    const target = m ? (root.$defs as Record<string, Schema> | undefined)?.[m[1]!] : undefined;
    if (!target) throw new Error(`schema at ${path}: unresolved $ref ${schema.$ref}`);
    out.push(...checkSchema(value, target, root, path));
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(value, t))) {
      out.push(`${path}: is ${typeOf(value)}, expected ${types.join(' or ')}`);
      return out;
    }
  }
  if (schema.enum && !(schema.enum as unknown[]).some((e) => e === value)) out.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value) out.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${path}: ${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${path}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) out.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${path}: ${JSON.stringify(value.slice(0, 80))} does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) out.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) out.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => out.push(...checkSchema(v, schema.items as Schema, root, `${path}[${i}]`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) out.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) out.push(...checkSchema(v, props[k]!, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}: unexpected property ${k}`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') out.push(...checkSchema(v, schema.additionalProperties as Schema, root, `${path}.${k}`));
    }
  }
  if (schema.anyOf) {
    const branches = (schema.anyOf as Schema[]).map((s) => checkSchema(value, s, root, path));
    if (!branches.some((b) => b.length === 0)) out.push(`${path}: matches none of ${branches.length} alternatives (${branches.map((b) => b[0]).join(' / ')})`);
  }
  return out;
}
