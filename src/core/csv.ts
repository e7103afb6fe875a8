/**
 * CSV as RFC 4180 writes it: a header row, CRLF line ends, and a field quoted when it holds a
 * comma, a quote, CR or LF (its quotes doubled). Names and descriptions are typed by people and
 * a report is often opened in a spreadsheet, so a text cell that a spreadsheet would run as a
 * formula (one starting with = + - @, a tab or CR) gets a leading apostrophe.
 */
export type CsvValue = string | number | boolean | null | readonly string[];

/** Lists (groups, roles, findings) go into one cell, joined with this. */
export const CSV_LIST_SEPARATOR = ';';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvValue): string {
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : value.join(CSV_LIST_SEPARATOR);
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One record, with its CRLF. */
export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** The rows of objects, as the named columns (the header line is csvLine(columns)). */
export function csvRecord<T extends object>(row: T, columns: ReadonlyArray<keyof T & string>): string {
  return csvLine(columns.map((column) => (row[column] ?? null) as CsvValue));
}
