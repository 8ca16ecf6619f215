/**
 * Errors of `modelship eval` in the terms of its command line: positions in the data file as
 * its line numbers (the library counts data rows from 0, which a person reading the file does
 * not see), and the library's option names as the flags that set them.
 */
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { ModelshipError, parseCsv, parseJsonl } from '@modelship/core';

/** The library option each flag sets, where a message names the option. */
const FLAGS: Record<string, string> = {
  label: '--label',
  features: '--features',
  classes: '--classes',
  task: '--task',
  positiveLabel: '--positive-label',
  threshold: '--threshold',
  output: '--output',
  labelOutput: '--label-output',
  metrics: '--metrics',
};

/**
 * The same error with a message a CLI user can act on; anything but a ModelshipError is
 * returned as it is.
 */
export async function inCliTerms(e: unknown, dataPath: string): Promise<unknown> {
  if (!ModelshipError.isInstance(e)) return e;
  let message = e.message.replace(
    /\b(with|pass|give|set) (label|features|classes|task|positiveLabel|threshold|output|labelOutput|metrics)\b/g,
    (_m, verb: string, option: string) => `${verb} ${FLAGS[option]}`,
  );
  const file = basename(dataPath);
  // The CSV and JSONL readers already count physical lines (1-based): say in which file.
  message = message.replace(/^line (\d+)/, `${file} line $1`);
  const rows = [...message.matchAll(/\b(?:row|record) (\d+)\b/g)].map((m) => Number(m[1]));
  if (rows.length > 0) {
    const lines = await linesOfRows(dataPath, new Set(rows));
    message = message.replace(/\b(?:row|record) (\d+)\b/g, (whole, n: string) => {
      const line = lines.get(Number(n));
      return line === undefined ? whole : `${file} line ${line}`;
    });
  }
  if (message === e.message) return e;
  return new ModelshipError(e.code, message, { cause: e });
}

/**
 * The physical line (1-based) where each wanted data row (0-based, as the library counts them)
 * starts. Read again from the file, on the error path only: the data file is fed to the same
 * parser one line at a time, so a row is known to end on the line just fed when it appears.
 */
async function linesOfRows(path: string, wanted: Set<number>): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  const max = Math.max(...wanted);
  const jsonl = ['.jsonl', '.ndjson'].includes(extname(path).toLowerCase());
  let line = 0;
  let start: number | undefined; // first non-blank line of the record being read
  let header = !jsonl; // CSV's first record names the columns and makes no row
  async function* lines(): AsyncGenerator<string> {
    let rest = '';
    for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
      rest += chunk as string;
      let at = rest.indexOf('\n');
      while (at >= 0) {
        yield next(rest.slice(0, at + 1));
        rest = rest.slice(at + 1);
        at = rest.indexOf('\n');
      }
    }
    if (rest !== '') yield next(rest);
  }
  function next(text: string): string {
    line++;
    if (start === undefined && text.trim() !== '') start = line;
    if (header && start !== undefined) {
      header = false;
      start = undefined;
    }
    return text;
  }
  try {
    const delimiter = extname(path).toLowerCase() === '.tsv' ? '\t' : ',';
    const rows = jsonl ? parseJsonl(lines()) : parseCsv(lines(), { delimiter });
    let index = 0;
    for await (const _ of rows) {
      if (wanted.has(index) && start !== undefined) found.set(index, start);
      start = undefined;
      if (++index > max) break;
    }
  } catch {
    // The rows before a malformed one are still found.
  }
  return found;
}
