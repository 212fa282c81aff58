/** The parity API (docs/parity.md), re-exported by src/index.ts. */
export { runParity, failingRows, type ParityInput } from './engine.js';
export { parityForBundle, paritySummary, limitReferences, type BundleParityOptions, type BundleParityResult } from './run.js';
export { writeReports, readReport, reportJson } from './report-json.js';
export { renderHtml } from './report-html.js';
export { renderMarkdown } from './report-md.js';
export type { ParityReport, ParityResult, SkippedRun } from './report.js';
export { RUNTIMES, type RuntimeEntry } from './runtimes/registry.js';
