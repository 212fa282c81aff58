/**
 * The command line. Each command is a plain async function in its own file,
 * imported when used. Errors are caught here and only here, and mapped to exit
 * codes by `exitCodeFor` (src/errors.ts); stack traces only with --verbose.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, Sf2Error, exitCodeFor, UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { TOOL_VERSION } from '../version.js';
import { existsSync } from 'node:fs';
import { suggest } from './suggest.js';
import { emitJson, jsonPayloadOf } from './json-out.js';

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export async function main(argv: readonly string[]): Promise<number> {
  let log: Logger = createLogger({});
  let verbose = argv.includes('--verbose');
  let code: number = ExitCode.ok;
  const run = (fn: (log: Logger) => Promise<number>, g: GlobalOpts) => async () => {
    log = createLogger({ json: g.json, quiet: g.quiet, verbose: g.verbose });
    verbose = !!g.verbose;
    code = await fn(log);
  };
  const program = buildProgram(run);
  // --json: exactly one JSON object on stdout, whatever the exit code (a failure included).
  const json = argv.includes('--json');
  try {
    misspeltCommand(argv, program);
    await program.parseAsync(argv as string[], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (json) emitJson(failureJson(ExitCode.usage, 'usage', e.message.replace(/^error: /, '')));
      return ExitCode.usage;
    }
    if (e instanceof Sf2Error) {
      process.stderr.write(`sf2-export: error: ${e.oneLine()}\n`);
      if (verbose && e.stack) process.stderr.write(e.stack + '\n');
      if (json) emitJson({ ...jsonPayloadOf(e), ...failureJson(e.exitCode, e.code, e.message, e.hint) });
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`sf2-export: internal error: ${err?.message ?? String(e)} (this is a bug in sf2-export; rerun with --verbose and report it)\n`);
    if (verbose && err?.stack) process.stderr.write(err.stack + '\n');
    if (json) emitJson(failureJson(exitCodeFor(e), 'internal', err?.message ?? String(e), 'this is a bug in sf2-export; rerun with --verbose and report it'));
    return exitCodeFor(e);
  }
}

/** The --json object of a failure: `ok: false`, the exit code, and the error (what, and how to fix it). */
function failureJson(exitCode: number, code: string, message: string, hint?: string): Record<string, unknown> {
  return { ok: false, exitCode, error: { code, message: message.replace(/\s*\n\s*/g, ' ').trim(), ...(hint ? { hint } : {}) } };
}

/**
 * `sf2-export inspekt model.onnx`: the default command would take "inspekt" for
 * a model path. A first argument that is not a file but is close to a command
 * name is a usage error with a suggestion.
 */
function misspeltCommand(argv: readonly string[], program: Command): void {
  const first = argv[0];
  if (!first || first.startsWith('-') || existsSync(first) || /[./\\]/.test(first)) return; // a path (with a dot or a slash) is a model, never a command
  const names = program.commands.map((c) => c.name());
  if (names.includes(first)) return;
  const hint = suggest(first, names);
  if (hint) throw new UsageError(`unknown command "${first}"${hint}`, `commands: ${names.join(', ')}; sf2-export --help lists them`);
}

export type Runner = (fn: (log: Logger) => Promise<number>, g: GlobalOpts) => () => Promise<void>;

/** The command tree (exported for the tests that derive the config keys from it). */
export function buildProgram(run: Runner = () => async () => {}): Command {
  const program = new Command('sf2-export')
    .description('Turn a SphereFace2 ONNX export into verified web bundles (ONNX, TensorFlow.js, WebGPU).')
    .version(TOOL_VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    // Set before the commands are added, so every subcommand inherits them: commander's
    // own errors (a missing argument, an unknown option) then come back here as exit 2
    // instead of a process.exit(1), and carry the same "sf2-export:" prefix as ours.
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
      outputError: (s, write) => write(`sf2-export: ${s}`),
    });

  program
    .argument('[model]', 'the .onnx file to export (the default command)')
    .option('-t, --target <list>', 'comma list of onnx, tfjs, webgpu, or web for all three', 'onnx')
    .option('-p, --precision <list>', 'comma list of fp32, fp16, int8 (default fp32,fp16)')
    .option('-o, --out <dir>', 'bundle folder (default ./sf2-dist/<model name>)')
    .option('--reference <file>', 'PyTorch reference: .npz with inputs and embeddings (or a .npy of embeddings with --inputs)')
    .option('--inputs <file>', '.npy of preprocessed inputs [N,3,H,W] (with --reference Y.npy)')
    .option('--images <dir>', 'folder of aligned 112x112 face images; references come from the original model')
    .option('--embedding <name>', 'cut at this tensor instead of the detected embedding')
    .option('--arch <name>', 'PyTorch checkpoints: force the backbone (sfnet_deprecated, iresnet, sfnet_bn, sfnet; or with a depth: iresnet100)')
    .option('--head <file>', 'PyTorch checkpoints, 2022 layout: the separate head_<iter>.pth, recorded as stripped')
    .option('--device <which>', 'parity runtimes to use: cpu, gpu or all', 'all')
    .option('--runtime <list>', 'only these parity runtimes: comma list of ids or engines (e.g. onnxruntime-node, dawn-node/webgpu)')
    .option('--rows <n>', 'use N reference rows for parity, keeping pairs of both kinds (default: all; 4 on GPU runtimes with a software adapter)')
    .option('--allow-unverified', 'exit 0, not 7, when some bundle file was run by no runtime (the manifest, reports and verify list it)')
    .option('--min-cosine <v>', 'parity minimum cosine: a number for every precision, or fp16=0.999,int8=0.98')
    .option('--max-flips <v>', 'largest fraction of pair decisions allowed to flip: a number, or int8=0.02')
    .option('--thresholds <file>', 'JSON file {"fp16": {"minCosine": 0.999, "maxFlipFraction": 0}}')
    .option('--tfjs-input <layout>', 'tfjs bundle input layout: nchw (default) or nhwc')
    .option('--color-order <order>', 'input channel order: rgb (default) or bgr')
    .option('--mean <v>', 'pixel mean subtracted per channel: one number or three (default 127.5)')
    .option('--std <v>', 'pixel std divided by per channel: one number or three (default 127.5)')
    .option('--preprocess <spec>', 'all three at once, e.g. "bgr,mean=127.5,std=128" (docs/cli.md)')
    .option('--calibration <path>', 'int8 calibration inputs: a .npy [N,3,H,W] or a folder of aligned faces (default: the reference inputs)')
    .option('--calibration-method <m>', 'int8 activation ranges: minmax, percentile or entropy')
    .option('--int8-scheme <s>', 'ONNX int8: weight-only (default, most accurate) or qdq (static, faster on cpu)')
    .option('--sensitivity <when>', 'keep the worst layers in higher precision: auto (when a threshold fails), always, off', 'auto')
    .option('--sign-key <file>', 'ed25519 private key (PEM) to sign the bundle')
    .option('-f, --force', 'replace an existing output folder')
    .option('--no-parity', 'skip the parity check (the bundle then has no report and does not verify)')
    .option('--json', 'print one JSON object on stdout, logs on stderr')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export model.onnx --target web\n  sf2-export model.onnx --target onnx --reference ref.npz --out dist/model --json\n  sf2-export inspect model.onnx\n')
    .option('--config <file>', `options file (default ./${'sf2-export.config.json'} when present); flags override it`)
    .action(async (model: string | undefined, opts: Record<string, unknown> & GlobalOpts, cmd: Command) => {
      if (!model) {
        // No model (`sf2-export`, or `sf2-export "$MODEL"` with MODEL empty) is a usage error: exit 2, not a help page that exits 0.
        program.outputHelp({ error: true });
        throw new UsageError(model === '' ? 'the model path is empty' : 'no model given', 'usage: sf2-export <model.onnx> [options]; sf2-export --help lists the commands');
      }
      await run(async (log) => {
        const { applyConfig } = await import('./apply-config.js');
        const merged = applyConfig(opts, cmd, log, cmd.commands.find((c) => c.name() === 'parity'));
        return (await import('./export.js')).exportCommand(model, merged, log);
      }, opts)();
    });

  program
    .command('inspect')
    .description('summarize a model: inputs, outputs, ops, parameters, the SphereFace2 head and every batch-norm')
    .argument('<model>', 'the .onnx file')
    .option('--json', 'print one JSON object on stdout')
    .option('--embedding <name>', 'treat this tensor as the embedding instead of detecting the head')
    .option('--arch <name>', 'PyTorch checkpoints: force the backbone architecture (docs/pth.md)')
    .option('--head <file>', 'PyTorch checkpoints, 2022 layout: the separate head_<iter>.pth to summarize')
    .option('-q, --quiet', 'print nothing but the result')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export inspect fixtures/iresnet18.eval.onnx\n  sf2-export inspect model.onnx --json | jq .head\n')
    .action(async (model: string, opts: { json?: boolean; embedding?: string; arch?: string; head?: string } & GlobalOpts) => {
      await run(async (log) => (await import('./inspect.js')).inspectCommand(model, opts, log), opts)();
    });

  program
    .command('convert')
    .description('write a PyTorch checkpoint (.pth) as a plain ONNX file (opset 13), without Python')
    .argument('<model>', 'the .pth checkpoint (torch.save zip or legacy format)')
    .requiredOption('-o, --out <file>', 'the .onnx file to write')
    .option('--arch <name>', 'force the backbone architecture (docs/pth.md)')
    .option('--head <file>', '2022 layout: the separate head_<iter>.pth, reported as left out')
    .option('-f, --force', 'replace an existing output file')
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export convert backbone_200.pth --out backbone.onnx\n  sf2-export convert model_20000.pth --out model.onnx --arch iresnet100\n')
    .action(async (model: string, opts: { out: string; arch?: string; head?: string; force?: boolean; json?: boolean } & GlobalOpts) => {
      await run(async (log) => (await import('./convert.js')).convertCommand(model, opts, log), opts)();
    });

  program
    .command('pack')
    .description('make a deterministic release tarball of a bundle (with MODEL_CARD.md and SHA256SUMS)')
    .argument('<dir>', 'the bundle folder')
    .option('-o, --out <file>', 'the tarball (default <dir>.tgz)')
    .option('-f, --force', 'replace an existing tarball')
    .option('--allow-failed', 'pack a bundle whose parity failed (refused otherwise, exit 5); MODEL_CARD.md says so')
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export pack sf2-dist/iresnet18\n  sf2-export pack sf2-dist/iresnet18 --out release/iresnet18-1.0.tgz\n')
    .action(async (dir: string, opts: { out?: string; force?: boolean; allowFailed?: boolean; json?: boolean } & GlobalOpts) => {
      await run(async (log) => (await import('./pack.js')).packCommand(dir, opts, log), opts)();
    });

  program
    .command('parity')
    .description('re-run parity on an existing bundle and rewrite its reports (parity-report.json/.html/.md)')
    .argument('<dir>', 'the bundle folder')
    .option('--reference <file>', 'PyTorch reference: .npz with inputs and embeddings (or a .npy of embeddings with --inputs)')
    .option('--inputs <file>', '.npy of preprocessed inputs [N,3,H,W] (with --reference Y.npy)')
    .option('--images <dir>', 'folder of aligned 112x112 face images; references come from --model')
    .option('--model <file>', 'the original .onnx the bundle came from: references for --images or synthetic inputs, and for the flip-TTA metric')
    .option('--embedding <name>', 'the embedding tensor of --model instead of the detected one')
    .option('--arch <name>', '--model x.pth: force the backbone architecture, as at export (docs/pth.md)')
    .option('--head <file>', '--model x.pth, 2022 layout: the separate head_<iter>.pth, as at export')
    .option('--device <which>', 'parity runtimes to use: cpu, gpu or all', 'all')
    .option('-p, --precision <list>', 'only these precisions (comma list of fp32, fp16, int8)')
    .option('--runtime <list>', 'only these runtimes: comma list of ids or engines (e.g. onnxruntime-node, onnxruntime-web/wasm)')
    .option('--rows <n>', 'use N reference rows, keeping pairs of both kinds (default: all; 4 on GPU runtimes with a software adapter)')
    .option('--allow-unverified', 'exit 0, not 7, when some model file was run by no runtime (the manifest, reports and verify list it)')
    .option('--batch <n>', 'rows per run (default 8)')
    .option('--min-cosine <v>', 'minimum cosine: a number for every precision, or fp16=0.999,int8=0.98')
    .option('--max-flips <v>', 'largest fraction of pair decisions allowed to flip: a number, or int8=0.02')
    .option('--thresholds <file>', 'JSON file {"fp16": {"minCosine": 0.999, "maxFlipFraction": 0}}')
    .option('--sign-key <file>', 'ed25519 private key (PEM) to sign the bundle again')
    .option('--json', 'print one JSON object on stdout, logs on stderr')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export parity sf2-dist/iresnet18 --reference ref.npz\n  sf2-export parity sf2-dist/iresnet18 --model iresnet18.onnx --images faces/ --device cpu\n')
    .option('--config <file>', `options file (default ./${'sf2-export.config.json'} when present, shared with the export); flags override it`)
    .action(async (dir: string, opts: Record<string, string | boolean | undefined> & GlobalOpts, cmd: Command) => {
      await run(async (log) => {
        const { applyConfig } = await import('./apply-config.js');
        const merged = applyConfig(opts, cmd, log, program);
        return (await import('./parity.js')).parityCommand(dir, merged, log);
      }, opts)();
    });

  program
    .command('verify')
    .description('check a bundle against its manifest and parity report (and signature); exit 6 listing every problem')
    .argument('<path>', 'the bundle folder, or its .tgz from pack')
    .option('--public-key <file>', 'ed25519 public key (PEM) that must verify the bundle SIGNATURE')
    .option('--allow-loose-thresholds', 'accept parity results measured with thresholds looser than the defaults')
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export verify sf2-dist/iresnet18\n  sf2-export verify release/iresnet18.tgz --public-key release.pub\n')
    .action(async (path: string, opts: { publicKey?: string; allowLooseThresholds?: boolean; json?: boolean } & GlobalOpts) => {
      await run(async (log) => (await import('./verify.js')).verifyCommand(path, opts, log), opts)();
    });

  program
    .command('serve')
    .description('serve a bundle folder on 127.0.0.1 (the WebGPU demo page: DIR/webgpu/index.html compares two faces)')
    .argument('<dir>', 'the bundle folder (--out of an export)')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--verbose', 'print details and stack traces')
    .addHelpText('after', '\nExamples:\n  sf2-export serve sf2-dist/iresnet18\n  sf2-export serve out --port 0\n')
    .action(async (dir: string, opts: { port?: string; host?: string } & GlobalOpts) => {
      await run(async (log) => (await import('./serve.js')).serveCommand(dir, opts, log), opts)();
    });

  // more commands register here

  void Option;
  void UsageError;
  return program;
}
