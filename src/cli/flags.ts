/**
 * The flag table: every command's argument, help text, examples and flags, in
 * one place. From it come
 *   - the commander options (main.ts: `fromTable`),
 *   - the options type each command function takes (`OptionsOf<'export'>`,
 *     mapped from this table, so a flag added here is a field there),
 *   - the config-file keys (config.ts: a flag with `config: false` is one run's,
 *     every other flag of a command that reads the file is a key),
 *   - and the option tables of docs/cli.md (flags-doc.ts; test/docs/cli-flags.test.ts
 *     fails when the doc differs from what this table renders).
 *
 * A flag, keyed by commander's attribute name (camelCase of the long flag, `no-`
 * dropped: `--no-parity` is `parity`):
 *   flags        commander's spelling, e.g. '-t, --target <list>'
 *   description  the --help line
 *   value        how its value is read: 'switch' (a boolean), 'string', 'path' (a
 *                string; in a config file, relative to the file's folder), or
 *                'thresholds' (a path, or in a config file the object such a file holds)
 *   default      commander's default (shown by --help)
 *   required     commander's requiredOption
 *   config       false: never a config key (the output mode, --force, --config itself)
 *   doc, docArg  the docs/cli.md meaning and argument, where they say more than --help
 * The values are checked and turned into numbers, lists and enums by the command
 * that uses them (export.ts, parity.ts, flag-values.ts), as before.
 */

/** The config file looked up when no --config is given. */
export const CONFIG_FILE = 'sf2-export.config.json';

export interface FlagSpec {
  readonly flags: string;
  readonly description: string;
  readonly value: 'switch' | 'string' | 'path' | 'thresholds';
  readonly default?: string;
  readonly required?: true;
  readonly config?: false;
  readonly doc?: string;
  readonly docArg?: string;
}

export interface CommandSpec {
  /** commander's name when it is not the table's key: the default command is the program itself. */
  readonly name?: string;
  readonly description?: string;
  readonly argument: readonly [name: string, description: string];
  readonly examples: readonly string[];
  /** true: the command reads sf2-export.config.json (--config). */
  readonly readsConfig?: true;
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

const json = { flags: '--json', description: 'print one JSON object on stdout', value: 'switch', config: false } as const;
const jsonLogs = { ...json, description: 'print one JSON object on stdout, logs on stderr' } as const;
const quietErrors = { flags: '-q, --quiet', description: 'print nothing but errors', value: 'switch', config: false } as const;
const verbose = { flags: '--verbose', description: 'print details and stack traces', value: 'switch', config: false } as const;
/** The output flags of the commands that print a result: --json, --quiet, --verbose, in that order. */
const output = { json, quiet: quietErrors, verbose } as const;
const thresholdsFile = { flags: '--thresholds <file>', description: 'JSON file {"fp16": {"minCosine": 0.999, "maxFlipFraction": 0}}', value: 'thresholds', doc: 'JSON `{"fp16": {"minCosine": 0.999, "maxFlipFraction": 0}}`' } as const;
const reference = { flags: '--reference <file>', description: 'PyTorch reference: .npz with inputs and embeddings (or a .npy of embeddings with --inputs)', value: 'path' } as const;
const inputs = { flags: '--inputs <file>', description: '.npy of preprocessed inputs [N,3,H,W] (with --reference Y.npy)', value: 'path' } as const;
const device = { flags: '--device <which>', description: 'parity runtimes to use: cpu, gpu or all', value: 'string', default: 'all', docArg: 'cpu|gpu|all' } as const;
const maxFlips = { flags: '--max-flips <v>', description: 'largest fraction of pair decisions allowed to flip: a number, or int8=0.02', value: 'string' } as const;

export const COMMANDS = {
  export: {
    name: 'sf2-export',
    argument: ['[model]', 'the .onnx file to export (the default command)'], examples: ['sf2-export model.onnx --target web', 'sf2-export model.onnx --target onnx --reference ref.npz --out dist/model --json', 'sf2-export inspect model.onnx'],
    readsConfig: true,
    flags: {
      target: { flags: '-t, --target <list>', description: 'comma list of onnx, tfjs, webgpu, or web for all three', value: 'string', default: 'onnx', doc: 'comma list of `onnx`, `tfjs`, `webgpu`, or `web` for all three (default `onnx`). A misspelt target is refused with a suggestion.' },
      precision: { flags: '-p, --precision <list>', description: 'comma list of fp32, fp16, int8 (default fp32,fp16)', value: 'string', doc: 'comma list of `fp32`, `fp16`, `int8` (default `fp32,fp16`), for every target' },
      out: { flags: '-o, --out <dir>', description: 'bundle folder (default ./sf2-dist/<model name>)', value: 'path', doc: 'the bundle folder (default `./sf2-dist/<model name>`). Written into a temporary folder beside it and renamed at the end.' },
      reference: { ...reference, docArg: 'REF.npz', doc: 'PyTorch references: `inputs` [N,3,H,W] float32, `embeddings` [N,D] float32, optional `pairs` [M,2] and `issame` [M]' },
      inputs: { ...inputs, docArg: 'X.npy', doc: 'with `--reference Y.npy`: the same as two .npy files (inputs [N,3,H,W], embeddings [N,D])' },
      images: { flags: '--images <dir>', description: 'folder of aligned 112x112 face images; references come from the original model', value: 'path', doc: 'aligned 112x112 PNG/JPEG faces; references are computed from the original model' },
      embedding: { flags: '--embedding <name>', description: 'cut at this tensor instead of the detected embedding', value: 'string' },
      arch: { flags: '--arch <name>', description: 'PyTorch checkpoints: force the backbone (sfnet_deprecated, iresnet, sfnet_bn, sfnet; or with a depth: iresnet100)', value: 'string', doc: 'PyTorch checkpoints: force the backbone: `sfnet_deprecated`, `iresnet`, `sfnet_bn`, `sfnet`, or with a depth (`iresnet100`, `sfnet20_deprecated`, `sfnet20bn`). Default: the family whose build uses every key.' },
      // Not a 'path': a config file's "head" is not resolved against its folder (as before).
      head: { flags: '--head <file>', description: 'PyTorch checkpoints, 2022 layout: the separate head_<iter>.pth, recorded as stripped', value: 'string', doc: 'PyTorch checkpoints, 2022 layout: the separate `head_<iter>.pth`; its classes and bytes are reported as stripped (inspect, manifest `source.checkpoint`).' },
      device: { ...device, doc: 'which parity runtimes run (default all that are available)' },
      runtime: { flags: '--runtime <list>', description: 'only these parity runtimes: comma list of ids or engines (e.g. onnxruntime-node, dawn-node/webgpu)', value: 'string', doc: 'only these parity runtimes: ids or engines, e.g. `onnxruntime-node,dawn-node/webgpu`; also selects the opt-in browser runtimes (docs/parity.md)' },
      rows: { flags: '--rows <n>', description: 'use N reference rows for parity, keeping pairs of both kinds (default: all; at most 4 on GPU runtimes with a software adapter)', value: 'string', doc: 'parity on N reference rows only, keeping pairs of both kinds, on every runtime. Default: every row, except that GPU runtimes on a software (fallback) adapter such as SwiftShader run 4 rows (with their flips, a pair of each kind), or fewer for a model that costs over ~6 GFLOPs an image; the report records which rows (docs/parity.md)' },
      allowUnverified: { flags: '--allow-unverified', description: 'exit 0, not 7, when some bundle file was run by no runtime (the manifest, reports and verify list it)', value: 'switch', doc: 'exit 0 instead of 7 when some bundle file was run by no runtime; the manifest (`parity.unverified`), the reports and `verify` still name those files' },
      minCosine: { flags: '--min-cosine <v>', description: 'parity minimum cosine: a number for every precision, or fp16=0.999,int8=0.98', value: 'string', doc: 'parity minimum cosine: one number, or per precision `fp16=0.999,int8=0.98`' },
      maxFlips: { ...maxFlips, doc: 'largest fraction of pair decisions allowed to flip, same forms' },
      thresholds: thresholdsFile,
      tfjsInput: { flags: '--tfjs-input <layout>', description: 'tfjs bundle input layout: nchw (default) or nhwc', value: 'string', docArg: 'nchw|nhwc', doc: 'input layout of the tfjs bundle (default NCHW, the ONNX contract)' },
      colorOrder: { flags: '--color-order <order>', description: 'input channel order: rgb (default) or bgr', value: 'string', docArg: 'rgb|bgr', doc: "the model's input channel order (default `rgb`; `bgr`: channel 0 is blue, as OpenCV-trained models take)" },
      mean: { flags: '--mean <v>', description: 'pixel mean subtracted per channel: one number or three (default 127.5)', value: 'string', doc: 'pixel mean per channel, one number or three (`123.675,116.28,103.53`), pixels in 0..255: x = (pixel - mean) / std. Default 127.5 (SphereFace2); 0..255 input: `--mean 0 --std 1`' },
      std: { flags: '--std <v>', description: 'pixel std divided by per channel: one number or three (default 127.5)', value: 'string', doc: 'pixel std per channel, one number or three, as `--mean`. Default 127.5 (SphereFace2); insightface: `--std 128`' },
      preprocess: { flags: '--preprocess <spec>', description: 'all three at once, e.g. "bgr,mean=127.5,std=128" (docs/cli.md)', value: 'string', doc: 'the three at once: `"bgr,mean=127.5,std=128"` (items `rgb`/`bgr`, `mean=A[/B/C]`, `std=A[/B/C]`, comma or space separated); a separate flag overrides its item. Config keys `colorOrder`, `mean`, `std` (numbers or arrays), `preprocess`. Bad values are exit 2' },
      calibration: { flags: '--calibration <path>', description: 'int8 calibration inputs: a .npy [N,3,H,W] or a folder of aligned faces (default: the reference inputs)', value: 'path', doc: 'int8 calibration inputs: `.npy` [N,3,H,W] or a folder of aligned faces (default: the reference inputs)' },
      calibrationMethod: { flags: '--calibration-method <m>', description: 'int8 activation ranges: minmax, percentile or entropy', value: 'string', doc: 'int8 activation ranges: `minmax`, `percentile` or `entropy`' },
      int8Scheme: { flags: '--int8-scheme <s>', description: 'ONNX int8: weight-only (default, most accurate) or qdq (static, faster on cpu)', value: 'string', doc: 'ONNX int8: `weight-only` (default: per-channel int8 weights, most accurate) or `qdq` (static, calibrated activations, faster on cpu)' },
      sensitivity: { flags: '--sensitivity <when>', description: 'keep the worst layers in higher precision: auto (when a threshold fails), always, off', value: 'string', default: 'auto', doc: '`auto` (default: when a threshold fails, keep the worst layers in higher precision), `always`, `off`' },
      signKey: { flags: '--sign-key <file>', description: 'ed25519 private key (PEM) to sign the bundle', value: 'path', docArg: 'KEY.pem', doc: 'sign the bundle with an ed25519 private key' },
      force: { flags: '-f, --force', description: 'replace an existing output folder', value: 'switch', config: false, doc: 'replace a previous sf2-export bundle at `--out` (anything else is refused; `--out` is never the working directory, the model\'s folder or a parent of them; see docs/security.md)' },
      parity: { flags: '--no-parity', description: 'skip the parity check (the bundle then has no report and does not verify)', value: 'switch', doc: 'skip parity; the bundle then has no report, and `verify` fails on it' },
      json: { ...jsonLogs, doc: 'one JSON object on stdout: `{"ok", "out", "files", "parity": {"pass", "results": [...]}}`' },
      quiet: { ...quietErrors, doc: 'print only warnings and errors' },
      verbose,
      config: { flags: '--config <file>', description: `options file (default ./${CONFIG_FILE} when present); flags override it`, value: 'path', config: false, doc: `options file (default \`./${CONFIG_FILE}\` when present); flags override it (Config file, below)` },
    },
  },
  inspect: {
    description: 'summarize a model: inputs, outputs, ops, parameters, the SphereFace2 head and every batch-norm',
    argument: ['<model>', 'the .onnx file'], examples: ['sf2-export inspect fixtures/iresnet18.eval.onnx', 'sf2-export inspect model.onnx --json | jq .head'],
    flags: {
      json,
      embedding: { flags: '--embedding <name>', description: 'treat this tensor as the embedding instead of detecting the head', value: 'string' },
      arch: { flags: '--arch <name>', description: 'PyTorch checkpoints: force the backbone architecture (docs/pth.md)', value: 'string' },
      head: { flags: '--head <file>', description: 'PyTorch checkpoints, 2022 layout: the separate head_<iter>.pth to summarize', value: 'string' },
      quiet: { ...quietErrors, description: 'print nothing but the result' },
      verbose,
    },
  },
  convert: {
    description: 'write a PyTorch checkpoint (.pth) as a plain ONNX file (opset 13), without Python',
    argument: ['<model>', 'the .pth checkpoint (torch.save zip or legacy format)'], examples: ['sf2-export convert backbone_200.pth --out backbone.onnx', 'sf2-export convert model_20000.pth --out model.onnx --arch iresnet100'],
    flags: {
      out: { flags: '-o, --out <file>', description: 'the .onnx file to write', value: 'path', required: true },
      arch: { flags: '--arch <name>', description: 'force the backbone architecture (docs/pth.md)', value: 'string' },
      head: { flags: '--head <file>', description: '2022 layout: the separate head_<iter>.pth, reported as left out', value: 'string' },
      force: { flags: '-f, --force', description: 'replace an existing output file', value: 'switch', config: false },
      ...output,
    },
  },
  pack: {
    description: 'make a deterministic release tarball of a bundle (with MODEL_CARD.md and SHA256SUMS)',
    argument: ['<dir>', 'the bundle folder'], examples: ['sf2-export pack sf2-dist/iresnet18', 'sf2-export pack sf2-dist/iresnet18 --out release/iresnet18-1.0.tgz'],
    flags: {
      out: { flags: '-o, --out <file>', description: 'the tarball (default <dir>.tgz)', value: 'path' },
      force: { flags: '-f, --force', description: 'replace an existing tarball', value: 'switch', config: false },
      allowFailed: { flags: '--allow-failed', description: 'pack a bundle whose parity failed (refused otherwise, exit 5); MODEL_CARD.md says so', value: 'switch' },
      ...output,
    },
  },
  parity: {
    description: 're-run parity on an existing bundle and rewrite its reports (parity-report.json/.html/.md)',
    argument: ['<dir>', 'the bundle folder'], examples: ['sf2-export parity sf2-dist/iresnet18 --reference ref.npz', 'sf2-export parity sf2-dist/iresnet18 --model iresnet18.onnx --images faces/ --device cpu'],
    readsConfig: true,
    flags: {
      reference,
      inputs,
      images: { flags: '--images <dir>', description: 'folder of aligned 112x112 face images; references come from --model', value: 'path' },
      model: { flags: '--model <file>', description: 'the original .onnx the bundle came from: references for --images or synthetic inputs, and for the flip-TTA metric', value: 'path', doc: 'the original model the bundle came from (.onnx, or .pth with `--arch` / `--head` as at export; refused when its sha256 is not the manifest\'s): references for `--images` or synthetic inputs, and for the flip-TTA metric' },
      embedding: { flags: '--embedding <name>', description: 'the embedding tensor of --model instead of the detected one', value: 'string', doc: 'the embedding tensor of `--model` instead of the one the export cut at (`manifest.json` `head.embeddingTensor`)' },
      arch: { flags: '--arch <name>', description: '--model x.pth: force the backbone architecture, as at export (docs/pth.md)', value: 'string' },
      head: { flags: '--head <file>', description: '--model x.pth, 2022 layout: the separate head_<iter>.pth, as at export', value: 'string' },
      device,
      precision: { flags: '-p, --precision <list>', description: 'only these precisions (comma list of fp32, fp16, int8)', value: 'string' },
      runtime: { flags: '--runtime <list>', description: 'only these runtimes: comma list of ids or engines (e.g. onnxruntime-node, onnxruntime-web/wasm)', value: 'string' },
      rows: { flags: '--rows <n>', description: 'use N reference rows, keeping pairs of both kinds (default: all; at most 4 on GPU runtimes with a software adapter)', value: 'string' },
      allowUnverified: { flags: '--allow-unverified', description: 'exit 0, not 7, when some model file was run by no runtime (the manifest, reports and verify list it)', value: 'switch' },
      batch: { flags: '--batch <n>', description: 'rows per run (default 8)', value: 'string' },
      minCosine: { flags: '--min-cosine <v>', description: 'minimum cosine: a number for every precision, or fp16=0.999,int8=0.98', value: 'string' },
      maxFlips,
      thresholds: thresholdsFile,
      signKey: { flags: '--sign-key <file>', description: 'ed25519 private key (PEM) to sign the bundle again', value: 'path', docArg: 'KEY.pem' },
      json: jsonLogs,
      quiet: quietErrors,
      verbose,
      config: { flags: '--config <file>', description: `options file (default ./${CONFIG_FILE} when present, shared with the export); flags override it`, value: 'path', config: false },
    },
  },
  verify: {
    description: 'check a bundle against its manifest and parity report (and signature); exit 6 listing every problem',
    argument: ['<path>', 'the bundle folder, or its .tgz from pack'], examples: ['sf2-export verify sf2-dist/iresnet18', 'sf2-export verify release/iresnet18.tgz --public-key release.pub'],
    flags: {
      publicKey: { flags: '--public-key <file>', description: 'ed25519 public key (PEM) that must verify the bundle SIGNATURE', value: 'path', docArg: 'KEY.pem' },
      allowLooseThresholds: { flags: '--allow-loose-thresholds', description: 'accept parity results measured with thresholds looser than the defaults', value: 'switch' },
      ...output,
    },
  },
  serve: {
    description: 'serve a bundle folder on 127.0.0.1 (the WebGPU demo page: DIR/webgpu/index.html compares two faces)',
    argument: ['<dir>', 'the bundle folder (--out of an export)'], examples: ['sf2-export serve sf2-dist/iresnet18', 'sf2-export serve out --port 0'],
    flags: {
      port: { flags: '--port <n>', description: 'port (0: any free port)', value: 'string', default: '8080' },
      host: { flags: '--host <addr>', description: 'address to listen on', value: 'string', default: '127.0.0.1' },
      quiet: quietErrors,
      verbose,
    },
  },
} as const satisfies Readonly<Record<string, CommandSpec>>;

export type CommandName = keyof typeof COMMANDS;
/** The commands after the default one, in the order --help lists them. */
export const SUBCOMMANDS = ['inspect', 'convert', 'pack', 'parity', 'verify', 'serve'] as const satisfies readonly Exclude<CommandName, 'export'>[];

type FlagsOf<C extends CommandName> = (typeof COMMANDS)[C]['flags'];
/** What a flag's value is once commander (or a config file) has read it. */
type ValueOf<F> = F extends { readonly value: 'switch' } ? boolean : F extends { readonly value: 'thresholds' } ? string | object : string;
type IsRequired<F> = F extends { readonly required: true } ? true : false;

/**
 * The options a command function takes: one field per flag of the table, by its
 * attribute name, required only for a requiredOption.
 */
export type OptionsOf<C extends CommandName> = {
  -readonly [K in keyof FlagsOf<C> as IsRequired<FlagsOf<C>[K]> extends true ? K : never]: ValueOf<FlagsOf<C>[K]>;
} & {
  -readonly [K in keyof FlagsOf<C> as IsRequired<FlagsOf<C>[K]> extends true ? never : K]?: ValueOf<FlagsOf<C>[K]>;
};

/** A command's flags as [attribute name, spec] pairs, in table (= --help) order. */
export function flagEntries(command: CommandName): Array<[string, FlagSpec]> {
  return Object.entries(COMMANDS[command].flags);
}

/** A command's commander name. */
export function commandName(command: CommandName): string {
  const spec: CommandSpec = COMMANDS[command];
  return spec.name ?? command;
}

/** Whether a command reads sf2-export.config.json. */
export function readsConfig(command: CommandName): boolean {
  const spec: CommandSpec = COMMANDS[command];
  return spec.readsConfig === true;
}

/** The table entry of a commander command, by its name ('sf2-export' is the default command). */
export function commandOf(name: string): CommandName | undefined {
  return (Object.keys(COMMANDS) as CommandName[]).find((c) => commandName(c) === name);
}

/** Flags that are never config keys: those the table marks `config: false`, and commander's own. */
export const NOT_CONFIG: readonly string[] = [
  ...new Set([...(Object.keys(COMMANDS) as CommandName[]).flatMap((c) => flagEntries(c).filter(([, f]) => f.config === false).map(([k]) => k)), 'version', 'help']),
];
