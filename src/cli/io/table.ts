/**
 * Tables with cli-table3, borderless like `gh` and `kubectl`: easy to read and to grep. On a
 * terminal a table fits its width: the least useful columns go first, then long cells are cut
 * with "…". Words are never split across lines, and piped output (or --wide) is never cut.
 */
import { createRequire } from 'node:module';
import type { Io } from './io.js';
import { displayWidth } from './width.js';
import { wrapText } from './wrap.js';

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

/**
 * A cell, or a cell with a shorter form for a narrow terminal: a date without "(in 3 days)"
 * beside it. The short form is used in every row of its column, or in none.
 */
export type Cell = string | { text: string; short: string };

const full = (cell: Cell) => (typeof cell === 'string' ? cell : cell.text);
const short = (cell: Cell) => (typeof cell === 'string' ? cell : cell.short);

export interface Fit {
  /** the columns shown, in order */
  shown: number[];
  /** each column's width (cut columns are narrower than their cells) */
  widths: number[];
  /** the columns drawn in their short form */
  short: Set<number>;
}

/**
 * Which columns to show, in which form and how wide, to fit `limit` cells. In order, until the
 * table fits: leave out 'early' columns; cut long cells down to `shrinkTo`; use short forms;
 * leave out 'late' columns; and, on a very narrow terminal, leave out any column from the right
 * but the first, which is cut instead.
 */
export function fitColumns(columns: Column[], natural: number[], limit: number, compact: number[] = natural): Fit {
  let shown = columns.map((_, i) => i);
  const shortened = new Set<number>();
  const width = (i: number) => (shortened.has(i) ? compact[i]! : natural[i]!);
  const floor = (i: number) =>
    shown.length === 1
      ? Math.min(width(i), limit)
      : Math.min(width(i), Math.max(columns[i]!.shrinkTo ?? Infinity, columns[i]!.header.length));
  const total = (w: (i: number) => number) => shown.reduce((sum, i) => sum + w(i), 0) + GAP * (shown.length - 1);
  const rightmost = (tier: Column['drop'] | 'any') =>
    [...shown].reverse().find((i) => (tier === 'any' ? i !== shown[0] : columns[i]!.drop === tier));
  const dropWhile = (tier: Column['drop'] | 'any', tooWide: () => boolean) => {
    for (let i = rightmost(tier); i !== undefined && tooWide(); i = rightmost(tier))
      shown = shown.filter((s) => s !== i);
  };
  dropWhile('early', () => total(width) > limit);
  if (total(floor) > limit) shown.forEach((i) => compact[i]! < natural[i]! && shortened.add(i));
  dropWhile('late', () => total(floor) > limit);
  dropWhile('any', () => total(floor) > limit);
  // Cut the widest cuttable column, one cell at a time, until the table fits (or nothing more can be cut).
  const widths = columns.map((_, i) => width(i));
  for (let excess = total((i) => widths[i]!) - limit; excess > 0; excess--) {
    const widest = shown
      .filter((i) => widths[i]! > floor(i))
      .sort((a, b) => widths[b]! - floor(b) - (widths[a]! - floor(a)))[0];
    if (widest === undefined) break;
    widths[widest]!--;
  }
  return { shown, widths, short: shortened };
}

export function renderTable(io: Io, head: Array<Column | string>, rows: Cell[][]): string {
  // Loaded on first use: `--json` runs never draw a table and should not pay for it.
  Table ??= createRequire(import.meta.url)('cli-table3') as TableClass;
  const columns = head.map((c) => (typeof c === 'string' ? { header: c } : c));
  const widest = (form: (cell: Cell) => string, i: number) =>
    Math.max(columns[i]!.header.length, ...rows.map((r) => displayWidth(form(r[i] ?? ''))));
  const natural = columns.map((_, i) => widest(full, i));
  const compact = columns.map((_, i) => widest(short, i));
  const limit = io.terminal.stdoutIsTTY && !io.options.wide ? io.terminal.columns : Infinity;
  const fit = fitColumns(columns, natural, limit, compact);
  const table = new Table({
    head: fit.shown.map((i) => io.style.bold(columns[i]!.header)),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    // Only cut columns get a fixed width; cli-table3 measures the rest itself.
    colWidths: fit.shown.map((i) =>
      fit.widths[i]! < (fit.short.has(i) ? compact : natural)[i]! ? fit.widths[i]! : null,
    ),
    wordWrap: false,
    truncate: '…',
  });
  table.push(...rows.map((row) => fit.shown.map((i) => (fit.short.has(i) ? short : full)(row[i] ?? ''))));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/**
 * Two-column "field: value" block for a single object (show, whoami). On a terminal a long value
 * wraps at word boundaries and goes on under itself, not under the labels; a value marked 'whole'
 * (a key string, which has a space, and is copied by people) is never broken by akm.
 */
export function renderFields(io: Io, fields: Array<[string, string] | [string, string, 'whole']>): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  const room = io.terminal.stdoutIsTTY && !io.options.wide ? io.terminal.columns - width - GAP : Infinity;
  const indent = ' '.repeat(width + GAP);
  const wrap = (value: string) => (room === Infinity ? value : wrapText(value, room).split('\n').join(`\n${indent}`));
  return fields
    .map(([label, value, whole]) => `${io.style.dim(label.padEnd(width))}  ${whole ? value : wrap(value)}`)
    .join('\n');
}
