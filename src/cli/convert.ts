/**
 * `sf2-export convert model.pth --out model.onnx`: the graph imported from a
 * PyTorch checkpoint (src/pth/import.ts) written as a plain ONNX file (opset
 * 13, IR 7, every BN kept, head left out), for users who want the
 * torch.onnx.export result without Python. Written through a temporary file
 * and a rename; an existing file is replaced only with --force; the input is
 * never touched.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { saveOnnx } from '../onnx/export.js';
import { importCheckpoint, formatCheckpointInfo } from '../pth/import.js';
import { isCheckpointPath } from '../pth/load-model.js';
import type { Logger } from '../log.js';
import type { OptionsOf } from './flags.js';
import { emitJson } from './json-out.js';

/** The flags of `sf2-export convert` (the flag table, flags.ts). */
export type ConvertCommandOptions = OptionsOf<'convert'>;

export async function convertCommand(path: string, opts: ConvertCommandOptions, log: Logger): Promise<number> {
  if (!isCheckpointPath(path)) throw new UsageError(`convert reads PyTorch checkpoints; ${path} is not one`, 'an .onnx file needs no conversion: pass it to sf2-export directly');
  if (!opts.out) throw new UsageError('convert needs --out FILE.onnx');
  if (resolve(opts.out) === resolve(path)) throw new UsageError('--out is the input checkpoint itself', 'choose another file name');
  if (existsSync(opts.out)) {
    if (statSync(opts.out).isDirectory()) throw new UsageError(`--out ${opts.out} is a folder`, 'pass a file name such as model.onnx');
    if (!opts.force) throw new UsageError(`--out ${opts.out} exists`, 'pass --force to replace it');
  }
  const end = log.step(`importing ${path}`);
  const { model, info } = importCheckpoint(path, { arch: opts.arch, head: opts.head });
  end(`${info.arch.name}, ${model.graph.nodes.length} nodes`);
  const files = saveOnnx(model, opts.out);
  if (opts.json) emitJson({ ok: true, out: opts.out, files, checkpoint: info, opset: 13 });
  else {
    // the summary without the per-BN lines (inspect lists them)
    log.info(formatCheckpointInfo(info).split('\n').filter((l) => !l.startsWith('  ')).join('\n'));
    log.info(`wrote ${files.join(', ')} (opset 13, ${model.graph.nodes.length} nodes, input ${model.graph.inputs[0]!.name}, output ${model.graph.outputs[0]!.name})`);
  }
  return 0;
}
