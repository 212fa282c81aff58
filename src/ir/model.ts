/**
 * A model: the graph plus the ModelProto fields around it. Fields sf2-export
 * does not edit (functions, training info) are kept as decoded and written back.
 */
import type { onnx } from 'onnx-proto';
import { Graph } from './graph.js';

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

export class Model {
  irVersion = 8;
  opsetImports: OpsetImport[] = [{ domain: '', version: 17 }];
  producerName = '';
  producerVersion = '';
  domain = '';
  modelVersion = 0n;
  docString = '';
  metadataProps: { key: string; value: string }[] = [];
  graph: Graph;
  functions: onnx.IFunctionProto[] = [];
  trainingInfo: onnx.ITrainingInfoProto[] = [];
  /** Where it was loaded from (absolute), if from a file. */
  path: string | undefined;
  /** Size of the .onnx file (without external data). */
  fileBytes = 0;
  /** Warnings raised while loading (unknown fields that will be dropped, ...). */
  warnings: string[] = [];

  constructor(graph = new Graph()) {
    this.graph = graph;
  }

  /** The opset version imported for a domain ('' and 'ai.onnx' are the default domain). */
  opset(domain = ''): number | undefined {
    const want = domain === 'ai.onnx' ? '' : domain;
    return this.opsetImports.find((o) => (o.domain === 'ai.onnx' ? '' : o.domain) === want)?.version;
  }
}
