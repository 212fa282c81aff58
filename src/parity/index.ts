/** The parity API (docs/parity.md), re-exported by src/index.ts. */
export { runParity, failingRows, type ParityInput } from './engine.js';
export { parityForBundle, paritySummary, limitReferences, type BundleParityOptions, type BundleParityResult } from './run.js';
export { loadReferences, openOriginal, cutAtEmbedding, syntheticInputs, type ReferenceSet, type ReferenceOptions } from './references.js';
export { verifyBundle, verifyBundleDir, signBundle, sealManifest, manifestIntegrity, type VerifyResult, type VerifyOptions } from './verify.js';
export { readNpy, readNpz, writeNpy, writeNpz, encodeNpy, encodeNpz, type NpyArray, type NpyDType } from './npy.js';
export { DEFAULT_THRESHOLDS, resolveThresholds, type Thresholds, type ThresholdOverrides } from './thresholds.js';
export { writeReports, readReport, reportJson } from './report-json.js';
export { renderHtml } from './report-html.js';
export { renderMarkdown } from './report-md.js';
export type { ParityReport, ParityResult, SkippedRun } from './report.js';
export type { ParityMetrics, RowMetrics, PairMetrics } from './metrics.js';
export { RUNTIMES, type RuntimeEntry } from './runtimes/registry.js';
