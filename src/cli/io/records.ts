/**
 * Long outputs, written page by page as the service hands them out, so memory stays flat
 * however many records there are: one JSON document (`--json`), one JSON object per line
 * (`--ndjson`), or CSV with a header row. Tables are drawn by the commands themselves.
 */
import { csvLine, csvRecord } from '../../core/csv.js';
import { UsageError } from '../../core/errors.js';
import type { Page } from '../../service/types.js';
import type { Io } from './io.js';

export const FORMATS = ['table', 'json', 'ndjson', 'csv'] as const;
export type OutputFormat = (typeof FORMATS)[number];

/** The format asked for: `--format`, or the global `--json`, or `--ndjson`; at most one of them. */
export function chooseFormat(io: Io, flags: { format?: OutputFormat; ndjson?: boolean }): OutputFormat {
  const asked = [flags.format && `--format ${flags.format}`, io.json && '--json', flags.ndjson && '--ndjson'].filter(
    (a): a is string => typeof a === 'string',
  );
  if (asked.length > 1 && !(asked.length === 2 && flags.format === 'json' && io.json))
    throw new UsageError(`${asked.join(' and ')} ask for different outputs; give one`, { code: 'conflicting_option' });
  if (flags.format) return flags.format;
  if (io.json) return 'json';
  return flags.ndjson ? 'ndjson' : 'table';
}

/** Every page of a paged listing, in order, each fetched when the previous one has been written. */
export async function* pages<T>(fetch: (after: string | undefined) => Promise<Page<T>>): AsyncGenerator<T[]> {
  let after: string | undefined;
  do {
    const page = await fetch(after);
    yield page.items;
    after = page.next;
  } while (after);
}

/** The chosen fields of a record, in the order asked for. */
export function project<T extends object>(record: T, fields: ReadonlyArray<keyof T & string>): Partial<T> {
  return Object.fromEntries(fields.map((f) => [f, record[f]])) as Partial<T>;
}

/**
 * A JSON array written a page at a time: `[`, the records one per line, `]`. `indent` places it
 * inside an enclosing document.
 */
export class JsonArrayWriter {
  private first = true;
  constructor(
    private readonly io: Io,
    private readonly indent = '',
  ) {}

  async write(records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return;
    const body = records.map((r) => JSON.stringify(r)).join(`,\n  ${this.indent}`);
    await this.io.stream(`${this.first ? `[\n  ${this.indent}` : `,\n  ${this.indent}`}${body}`);
    this.first = false;
  }

  /** The closing bracket (after an empty array, right after the opening one). */
  async end(): Promise<void> {
    await this.io.stream(this.first ? '[]' : `\n${this.indent}]`);
  }
}

/** Writes records in a machine format: the JSON array, NDJSON or CSV with its header row. */
export async function writeRecords<T extends object>(
  io: Io,
  format: Exclude<OutputFormat, 'table'>,
  source: AsyncIterable<T[]>,
  columns: ReadonlyArray<keyof T & string>,
  allFields: boolean,
): Promise<number> {
  let count = 0;
  const shape = (record: T) => (allFields ? record : project(record, columns));
  const json = new JsonArrayWriter(io);
  if (format === 'csv') await io.stream(csvLine(columns));
  for await (const records of source) {
    count += records.length;
    if (format === 'json') await json.write(records.map(shape));
    else if (format === 'ndjson') {
      if (records.length > 0) await io.stream(`${records.map((r) => JSON.stringify(shape(r))).join('\n')}\n`);
    } else await io.stream(records.map((r) => csvRecord(r, columns)).join(''));
  }
  if (format === 'json') {
    await json.end();
    await io.stream('\n');
  }
  return count;
}
