/**
 * What a backbone builder returns, and the table of builders (one file per
 * family under src/pth/arch/).
 */
import type { GraphBuilder } from '../../ir/builder.js';
import type { Value } from '../../ir/value.js';
import type { StateDictView } from './common.js';

export interface ArchResult {
  /** Family: sfnet_deprecated | sfnet_bn | sfnet | iresnet. */
  readonly family: string;
  /** A name with the depth, e.g. iresnet18, sfnet20_deprecated (the depth table of opensphere, or the family when none fits). */
  readonly name: string;
  /** Blocks per stage after its first layer (opensphere's `layers` argument). */
  readonly depths: readonly number[];
  /** Output channels per stage. */
  readonly widths: readonly number[];
  readonly block: 'basic' | 'bottleneck' | 'ibasic';
  readonly embeddingDim: number;
  readonly inputSize: readonly [number, number];
  readonly output: Value;
}

export interface ArchBuilder {
  readonly family: string;
  /** One line for --help and docs. */
  readonly summary: string;
  /** Build into `b` from `sd`; throw ArchMismatch when the keys do not fit. */
  build(b: GraphBuilder, sd: StateDictView): ArchResult;
}

export function depthName(family: string, depths: readonly number[], table: Readonly<Record<string, readonly number[]>>): string | undefined {
  for (const [name, d] of Object.entries(table)) if (d.length === depths.length && d.every((x, i) => x === depths[i])) return name;
  void family;
  return undefined;
}
