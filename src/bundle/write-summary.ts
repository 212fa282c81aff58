/**
 * The log line of a bundle writer's step ("writing onnx fp32: ..."): what a
 * reader of a CI log looks for first is the model file(s) a target wrote (role
 * model or weights, in the writer's order), so those are named in full; the
 * golden set beside them and the helper files (runtime, types, page,
 * package.json) are said apart, briefly, by kind and count:
 *
 *   onnx/model.fp32.onnx; + golden set, 3 helper files
 *
 * Weight files are named in full up to two; more (tfjs shards of a large model)
 * are counted, with the first and the last named:
 *
 *   tfjs/fp32/model.json, 63 weight files (tfjs/fp32/group1-shard1of63.bin … group1-shard63of63.bin); + golden set
 *
 * The full list of every file is in manifest.json (and --json).
 */
import type { BundleFile } from './bundle-file.js';

export function writtenSummary(files: readonly BundleFile[]): string {
  const models = files.filter((f) => f.role === 'model').map((f) => f.path);
  const weights = files.filter((f) => f.role === 'weights').map((f) => f.path);
  const golden = files.filter((f) => f.role === 'golden').length;
  const helpers = files.length - models.length - weights.length - golden;
  const last = weights[weights.length - 1] ?? '';
  if (weights.length > 2) models.push(`${weights.length} weight files (${weights[0]} … ${last.slice(last.lastIndexOf('/') + 1)})`);
  else models.push(...weights);
  const also = [golden && (golden === 1 ? 'golden set' : `${golden} golden sets`), helpers && `${helpers} helper file${helpers === 1 ? '' : 's'}`].filter(Boolean);
  return [models.join(', ') || 'no model file', ...(also.length ? [`+ ${also.join(', ')}`] : [])].join('; ');
}
