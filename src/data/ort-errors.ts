/**
 * onnxruntime's refusals of a user's model, as bad input: a model that our
 * reader accepts but onnxruntime will not load or run (a BN parameter too
 * short, missing type information, negative or 2^40 pads, a 2^31 batch) is an
 * InputError (exit 3) naming the model file and, when onnxruntime says it,
 * the node. The message is one line: onnxruntime's text with ANSI escapes,
 * its own log prefixes and temporary file paths removed, cut to 300 chars.
 */
import { InputError } from '../errors.js';

/** onnxruntime's error text, cleaned to one line. */
export function cleanOrtMessage(e: unknown, tempPaths: readonly string[] = []): string {
  let m = String((e as Error)?.message ?? e);
  // eslint-disable-next-line no-control-regex
  m = m.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  for (const p of tempPaths) m = m.split(p).join('<model>');
  m = m.replace(/^\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[[A-Z]\][^\]]*\]\s*/gm, ''); // native log line prefixes
  m = m.replace(/\s*\n\s*/g, ' ').replace(/\s+/g, ' ').trim();
  return m.length > 300 ? `${m.slice(0, 297)}...` : m;
}

/** The node onnxruntime names in its message, if any. */
export function ortNode(message: string): string | undefined {
  const m = /\bName:\s*'([^']+)'/.exec(message) ?? /\bNode \(([^)]*)\)/.exec(message) ?? /\("([^"]+)", [A-Za-z]+,/.exec(message);
  return m?.[1] || undefined;
}

export function ortRefusal(modelPath: string, what: 'load' | 'run', e: unknown, tempPaths: readonly string[] = []): InputError {
  const msg = cleanOrtMessage(e, tempPaths);
  const node = ortNode(msg);
  return new InputError(
    'onnxruntime',
    `${modelPath}: onnxruntime ${what === 'load' ? 'refuses to load' : 'cannot run'} the model${node ? ` (node ${node})` : ''}: ${msg}`,
    'the model is malformed for onnxruntime (check it with `python -m onnx.checker` or onnxruntime); export it again',
    { cause: e },
  );
}
