/**
 * Preprocessing options: how an aligned face's pixels become the network input.
 *
 *     x[c] = (pixel[order[c]] - mean[c]) / std[c]      pixel in [0, 255]
 *
 * with order = RGB (channel 0 is red) or BGR (channel 0 is blue: OpenCV-trained
 * models). SphereFace2 backbones: RGB, mean = std = 127.5. Others: (x - 127.5) / 128
 * (insightface), 0..255 (mean 0, std 1), or ImageNet statistics in pixel units.
 *
 * Given as --color-order rgb|bgr, --mean A[,B,C], --std A[,B,C] (one number for all
 * three channels, or three), or one --preprocess spec that names the same things:
 *     --preprocess "bgr,mean=127.5,std=128"      --preprocess "rgb,mean=0,std=1"
 * (comma or space separated; mean/std lists inside a spec use "/": mean=123.7/116.3/103.5).
 * Config keys: colorOrder, mean, std, preprocess (numbers or arrays allowed there).
 * A separate flag overrides the same item of --preprocess. Bad values: UsageError (exit 2).
 */
import { UsageError } from '../errors.js';
import { SPHEREFACE2_MEAN, SPHEREFACE2_STD } from '../analysis/contract.js';

export type ColorOrder = 'RGB' | 'BGR';

export interface Preprocess {
  readonly colorOrder: ColorOrder;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export const DEFAULT_PREPROCESS: Preprocess = { colorOrder: 'RGB', mean: [...SPHEREFACE2_MEAN], std: [...SPHEREFACE2_STD] };

type Raw = string | number | readonly (string | number)[] | undefined;

function triple(what: string, v: Raw, sep: RegExp, positive: boolean): [number, number, number] {
  const parts = Array.isArray(v) ? v.map(String) : String(v).split(sep).map((s) => s.trim()).filter(Boolean);
  const xs = parts.map(Number);
  if ((xs.length !== 1 && xs.length !== 3) || xs.some((x) => !Number.isFinite(x)) || (positive && xs.some((x) => x <= 0))) {
    throw new UsageError(`${what} ${Array.isArray(v) ? `[${v.join(', ')}]` : v}: expected one number or three (R, G, B order of the model's channels)${positive ? ', each > 0' : ''}`, `e.g. ${what} 127.5 or ${what} 123.675,116.28,103.53`);
  }
  return (xs.length === 1 ? [xs[0]!, xs[0]!, xs[0]!] : xs) as [number, number, number];
}

function order(what: string, v: string): ColorOrder {
  const o = v.trim().toUpperCase();
  if (o !== 'RGB' && o !== 'BGR') throw new UsageError(`${what} ${v}: expected rgb or bgr`);
  return o;
}

export interface PreprocessFlags {
  readonly colorOrder?: Raw;
  readonly mean?: Raw;
  readonly std?: Raw;
  readonly preprocess?: Raw;
}

/** The preprocessing the flags ask for; undefined when none is given (the SphereFace2 default applies). */
export function parsePreprocess(f: PreprocessFlags): Preprocess | undefined {
  if (f.colorOrder === undefined && f.mean === undefined && f.std === undefined && f.preprocess === undefined) return undefined;
  let p: { colorOrder: ColorOrder; mean: [number, number, number]; std: [number, number, number] } = { colorOrder: 'RGB', mean: [...SPHEREFACE2_MEAN], std: [...SPHEREFACE2_STD] };
  if (f.preprocess !== undefined) {
    for (const tok of String(f.preprocess).split(/[\s,]+/).filter(Boolean)) {
      const [k, v] = tok.includes('=') ? [tok.slice(0, tok.indexOf('=')).toLowerCase(), tok.slice(tok.indexOf('=') + 1)] : ['order', tok];
      if (k === 'order' || k === 'color' || k === 'color-order') p = { ...p, colorOrder: order('--preprocess', v) };
      else if (k === 'mean') p = { ...p, mean: triple('--preprocess mean=', v, /\//, false) };
      else if (k === 'std') p = { ...p, std: triple('--preprocess std=', v, /\//, true) };
      else throw new UsageError(`--preprocess: unknown item "${tok}"`, 'items: rgb or bgr, mean=A[/B/C], std=A[/B/C], e.g. --preprocess "bgr,mean=127.5,std=128"');
    }
  }
  if (f.colorOrder !== undefined) p = { ...p, colorOrder: order('--color-order', String(f.colorOrder)) };
  if (f.mean !== undefined) p = { ...p, mean: triple('--mean', f.mean, /[,\s/]+/, false) };
  if (f.std !== undefined) p = { ...p, std: triple('--std', f.std, /[,\s/]+/, true) };
  return p;
}

/** One line: "RGB, (x - 127.5) / 127.5" or with per-channel lists. */
export function describePreprocess(p: Preprocess): string {
  const one = (t: readonly number[]) => (t.every((x) => x === t[0]) ? String(t[0]) : `[${t.join(', ')}]`);
  return `${p.colorOrder}, (x - ${one(p.mean)}) / ${one(p.std)}`;
}
