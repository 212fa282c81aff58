/** `sf2-export inspect <model.onnx | model.pth> [--json] [--embedding NAME] [--arch NAME] [--head FILE]` */
import { UsageError, namingFile } from '../errors.js';
import { formatInspect, inspect } from '../pipeline/inspect.js';
import { loadModel } from '../pth/load-model.js';
import { checkpointInfoOf, formatCheckpointInfo } from '../pth/import.js';
import type { Logger } from '../log.js';
import type { OptionsOf } from './flags.js';
import { emitJson } from './json-out.js';

/** The flags of `sf2-export inspect` (the flag table, flags.ts). */
export type InspectCommandOptions = OptionsOf<'inspect'>;

export async function inspectCommand(path: string, opts: InspectCommandOptions, log: Logger): Promise<number> {
  const model = loadModel(path, { onWarning: (w) => log.warn(w), arch: opts.arch, head: opts.head });
  // A checkpoint: its own summary first (layout, architecture, head, every BN), then the imported graph's.
  const checkpoint = checkpointInfoOf(model);
  if (opts.embedding && !model.graph.value(opts.embedding)) {
    throw new UsageError(`--embedding ${opts.embedding}: ${path} has no tensor of that name`, 'run inspect without --embedding to see the detected embedding');
  }
  const report = namingFile(path, () => inspect(model, { embedding: opts.embedding }));
  if (opts.json) emitJson({ ok: true, ...(checkpoint ? { checkpoint } : {}), ...report, warnings: undefined });
  else process.stdout.write((checkpoint ? formatCheckpointInfo(checkpoint) + '\n\nimported graph:\n' : '') + formatInspect({ ...report, warnings: [] }) + '\n');
  return 0;
}
