/** `sf2-export inspect <model.onnx> [--json] [--embedding NAME]` */
import { UsageError } from '../errors.js';
import { formatInspect, inspect } from '../analysis/inspect.js';
import { loadOnnx } from '../onnx/import.js';
import type { Logger } from './log.js';
import { emitJson } from './json-out.js';

export interface InspectCommandOptions {
  json?: boolean;
  embedding?: string;
}

export async function inspectCommand(path: string, opts: InspectCommandOptions, log: Logger): Promise<number> {
  const model = loadOnnx(path, { onWarning: (w) => log.warn(w) });
  if (opts.embedding && !model.graph.value(opts.embedding)) {
    throw new UsageError(`--embedding ${opts.embedding}: ${path} has no tensor of that name`, 'run inspect without --embedding to see the detected embedding');
  }
  const report = inspect(model, { embedding: opts.embedding });
  if (opts.json) emitJson({ ok: true, ...report, warnings: undefined });
  else process.stdout.write(formatInspect({ ...report, warnings: [] }) + '\n');
  return 0;
}
