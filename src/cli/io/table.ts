/** Tables with cli-table3, borderless like `gh` and `kubectl`: easy to read and to grep. */
import { createRequire } from 'node:module';
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

type TableClass = typeof import('cli-table3');
let Table: TableClass | undefined;

export function renderTable(io: Io, head: string[], rows: string[][]): string {
  // Loaded on first use: `--json` runs never draw a table and should not pay for it.
  Table ??= createRequire(import.meta.url)('cli-table3') as TableClass;
  const table = new Table({
    head: head.map((h) => io.style.bold(h)),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    wordWrap: false,
  });
  table.push(...rows);
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
