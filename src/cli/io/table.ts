/**
 * Tables with cli-table3, borderless like `gh` and `kubectl`: easy to read and to grep. On a
 * terminal a table fits its width: the least useful columns go first, then long cells are cut
 * with "…". Words are never split across lines, and piped output (or --wide) is never cut.
 */
import { createRequire } from 'node:module';
import { stripVTControlCharacters } from 'node:util';
import type { Io } from './io.js';

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};
const GAP = 2;

export interface Column {
  header: string;
  /**
   * Left out when the terminal is too narrow, rightmost first: 'early' columns (low value) before
   * any cell is cut, 'late' ones only when cutting cells is not enough. Absent: always shown.
   */
  drop?: 'early' | 'late';
  /** may be cut short with "…", down to this many characters (never below the header) */
  shrinkTo?: number;
}

type TableClass = typeof import('cli-table3');
let Table: TableClass | undefined;

// East Asian wide and fullwidth characters, and most emoji, take two cells of a terminal.
const WIDE = new RegExp(
  '[\\u1100-\\u115f\\u2e80-\\ua4cf\\uac00-\\ud7a3\\uf900-\\ufaff\\ufe30-\\ufe4f\\uff00-\\uff60\\uffe0-\\uffe6' +
    '\\u{1f300}-\\u{1f64f}\\u{1f900}-\\u{1f9ff}\\u{20000}-\\u{3fffd}]',
  'u',
);

/** How many terminal cells a (possibly coloured) string takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(text)) width += WIDE.test(char) ? 2 : 1;
  return width;
}

/** Which columns to show, and the width of those that must be cut, to fit `limit` cells. */
export function fitColumns(columns: Column[], natural: number[], limit: number): { shown: number[]; widths: number[] } {
  let shown = columns.map((_, i) => i);
  const floor = (i: number) =>
    Math.min(natural[i]!, Math.max(columns[i]!.shrinkTo ?? Infinity, columns[i]!.header.length));
  const total = (width: (i: number) => number) =>
    shown.reduce((sum, i) => sum + width(i), 0) + GAP * (shown.length - 1);
  const rightmost = (tier: Column['drop']) => [...shown].reverse().find((i) => columns[i]!.drop === tier);
  for (
    let early = rightmost('early');
    early !== undefined && total((i) => natural[i]!) > limit;
    early = rightmost('early')
  )
    shown = shown.filter((i) => i !== early);
  for (let late = rightmost('late'); late !== undefined && total(floor) > limit; late = rightmost('late'))
    shown = shown.filter((i) => i !== late);
  // Cut the widest cuttable column, one cell at a time, until the table fits (or nothing more can be cut).
  const widths = [...natural];
  for (let excess = total((i) => widths[i]!) - limit; excess > 0; excess--) {
    const widest = shown
      .filter((i) => widths[i]! > floor(i))
      .sort((a, b) => widths[b]! - floor(b) - (widths[a]! - floor(a)))[0];
    if (widest === undefined) break;
    widths[widest]!--;
  }
  return { shown, widths };
}

export function renderTable(io: Io, head: Array<Column | string>, rows: string[][]): string {
  // Loaded on first use: `--json` runs never draw a table and should not pay for it.
  Table ??= createRequire(import.meta.url)('cli-table3') as TableClass;
  const columns = head.map((c) => (typeof c === 'string' ? { header: c } : c));
  const natural = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const limit = io.terminal.stdoutIsTTY && !io.options.wide ? io.terminal.columns : Infinity;
  const { shown, widths } = fitColumns(columns, natural, limit);
  const table = new Table({
    head: shown.map((i) => io.style.bold(columns[i]!.header)),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    // Only cut columns get a fixed width; cli-table3 measures the rest itself.
    colWidths: shown.map((i) => (widths[i]! < natural[i]! ? widths[i]! : null)),
    wordWrap: false,
    truncate: '…',
  });
  table.push(...rows.map((row) => shown.map((i) => row[i] ?? '')));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Two-column "field: value" block for a single object (show, whoami). */
export function renderFields(io: Io, fields: Array<[string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${io.style.dim(label.padEnd(width))}  ${value}`).join('\n');
}
