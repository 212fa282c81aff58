/**
 * parity-report.json, and writing all three reports into a bundle.
 * JSON with sorted keys (stableStringify), so the same report is the same
 * bytes; every file goes through a temporary file and a rename.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { stableStringify } from '../bundle/stable-json.js';
import { readText, writeAtomic } from '../bundle/text-files.js';
import { PARITY_REPORT_SCHEMA_VERSION, REPORT_HTML, REPORT_JSON, REPORT_MD, type ParityReport } from './report.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';

export function reportJson(report: ParityReport): string {
  return stableStringify(report);
}

export { writeAtomic };

/** Write parity-report.json, .html and .md into `dir`; returns their bundle-relative paths. */
export function writeReports(dir: string, report: ParityReport): string[] {
  writeAtomic(join(dir, REPORT_JSON), reportJson(report));
  writeAtomic(join(dir, REPORT_HTML), renderHtml(report));
  writeAtomic(join(dir, REPORT_MD), renderMarkdown(report));
  return [REPORT_JSON, REPORT_HTML, REPORT_MD];
}

/** Read a bundle's parity-report.json (shape checked loosely here; verify checks it against the schema). */
export function readReport(dir: string): ParityReport {
  const path = join(dir, REPORT_JSON);
  const text = readText(path, 'report', 'run `sf2-export parity DIR` to write it');
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (e) {
    throw new InputError('report', `${path} is not valid JSON (${(e as Error).message})`, 'run `sf2-export parity DIR` to rewrite it');
  }
  const o = r as Partial<ParityReport>;
  if (!o || typeof o !== 'object' || o.schemaVersion !== PARITY_REPORT_SCHEMA_VERSION || !Array.isArray(o.results)) {
    throw new InputError('report', `${path} is not a parity report of schema version ${PARITY_REPORT_SCHEMA_VERSION}`, 'run `sf2-export parity DIR` to rewrite it');
  }
  return r as ParityReport;
}
