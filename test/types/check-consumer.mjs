// node check-consumer.mjs ROOT PKG APP: emit the package's .d.ts from ROOT/src into PKG/dist
// (tsconfig.build.json), then type-check APP/consumer.{mts,ts} under four resolutions.
// Prints {"emit": [...], "problems": {mode: [...]}} on stdout. Used by consumer.test.ts.
import { join } from 'node:path';
import ts from 'typescript';

const [root, pkg, app] = process.argv.slice(2);
const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} };
const cfg = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), { outDir: join(pkg, 'dist'), declaration: true, emitDeclarationOnly: true, sourceMap: false, declarationMap: false }, host);
const emitted = ts.createProgram(cfg.fileNames, cfg.options).emit(undefined, undefined, undefined, true);
const text = (d) => `${d.file ? `${d.file.fileName.replace(/.*node_modules\//, '')}: ` : ''}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;

const base = { strict: true, noEmit: true, skipLibCheck: false, esModuleInterop: false, allowSyntheticDefaultImports: false, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: ['node'] };
const modes = {
  node16: ['consumer.mts', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }],
  nodenext: ['consumer.mts', { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }],
  bundler: ['consumer.ts', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }],
  node10: ['consumer.ts', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }],
};
const problems = {};
for (const [name, [file, o]] of Object.entries(modes)) {
  const p = ts.createProgram([join(app, file)], { ...base, ...o });
  problems[name] = [...new Set(ts.getPreEmitDiagnostics(p).map(text))];
}
process.stdout.write(JSON.stringify({ emit: emitted.diagnostics.map(text), problems }) + '\n');
