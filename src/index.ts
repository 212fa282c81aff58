/**
 * The library API: everything the CLI does is available here. Documented in
 * docs/api.md.
 */
export { loadOnnx, decodeOnnx, type LoadOptions } from './onnx/import.js';
export { saveOnnx, encodeOnnx, type SaveOptions } from './onnx/export.js';
export { inspect, formatInspect, type InspectReport, type InspectOptions } from './pipeline/inspect.js';
export { findHead, type HeadInfo } from './analysis/head.js';
export { classifyBatchNorms, type BnFinding, type BnPattern } from './analysis/batchnorm.js';
export { Model } from './ir/model.js';
export { Graph } from './ir/graph.js';
export { Node } from './ir/node.js';
export { Value, type Dim } from './ir/value.js';
export { TensorData } from './ir/tensor.js';
export { DType } from './ir/dtype.js';
export { attr, type Attribute } from './ir/attribute.js';
export { inferShapes } from './ir/shape-infer.js';
export { GraphBuilder } from './ir/builder.js';
export { Sf2Error, ExitCode, UsageError, InputError, UnsupportedError, ParityError, VerifyError } from './errors.js';
export { TOOL_VERSION } from './version.js';
export { optimize, PASSES, runPasses, type Pass, type PassReport, type PassOptions, type PassContext } from './passes/index.js';
export { PIPELINE, sequence, fixpoint, runPipeline, mergeReports, stepPasses, RunRecord, detailsOf } from './passes/index.js';
export type { Step, Sequence, Fixpoint, Manager, RunOptions, RunnerReport, PassRun, FixpointRun, DetailsOf, PassDetails, PassDetailsByName, StripHeadDetails, FoldBatchNormDetails, ShapesDetails, ShapeSubgraphsDetails, Skip } from './passes/index.js';
export { runParity, parityForBundle, type ParityReport } from './parity/index.js';
export { loadReferences, type ReferenceSet } from './data/references.js';
export { readNpy, readNpz, writeNpy, writeNpz } from './data/npy.js';
export { DEFAULT_THRESHOLDS } from './metrics/thresholds.js';
export { verifyBundle, signBundle } from './verify/verify.js';
export { quantizeFloat16, quantizeInt8, quantizeWeightPerChannel, dequantizePerChannel, toFloat16, fromFloat16, type QuantizeDetails, type QuantizeOptions, type MeasureInputs } from './quantize/index.js';
export { exportModel, defaultOutDir, contractOf, type ExportOptions, type ExportResult } from './pipeline/export.js';
export { packBundle, type PackOptions, type PackResult } from './pack/pack.js';
export { unpackBundle } from './pack/unpack.js';
export type { Manifest, ManifestFile, ManifestHead, ManifestCheckpoint, ManifestTargets, ManifestTargetKey, ManifestTargetDetails } from './bundle/manifest.js';
export type { GoldenSetDetails } from './bundle/golden-set.js';
export type { ModelContract, InputContract } from './analysis/contract.js';
export type { Precision } from './ir/precision.js';
export type { TargetName, BundleFile } from './bundle/bundle-file.js';
