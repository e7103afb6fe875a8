/** How the credential report looks to people: the rows as a table, then the totals and the chart. */
import { FINDINGS, type ReportRow } from '../../core/findings.js';
import type { ReportSummary } from '../../core/reportSummary.js';
import { dateCell, expiryCell, plural, printable, styledStatus } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderTable, type Cell, type Column } from '../io/table.js';
import { displayWidth } from '../io/width.js';
import { barChart } from './chart.js';

// The findings say what is wrong with a key: on a narrow terminal they outstay its status and dates.
const REPORT_COLUMNS: Column[] = [
  { header: 'ACCESS KEY ID' },
  { header: 'NAME', shrinkTo: 12 },
  { header: 'DESCRIPTION', shrinkTo: 12, drop: 'early' },
  { header: 'OWNER', shrinkTo: 12, drop: 'late' },
  { header: 'TYPE', drop: 'early' },
  { header: 'STATUS', drop: 'late' },
  { header: 'AGE', drop: 'early' },
  { header: 'EXPIRES', drop: 'late' },
  { header: 'LAST USED', drop: 'early' },
  { header: 'FROM', shrinkTo: 8, drop: 'early' },
  { header: 'SECRET AGE', drop: 'late' },
  { header: 'FINDINGS', shrinkTo: 12 },
];

function days(n: number): string {
  return `${n}d`;
}

function reportCells(io: Io, row: ReportRow, now: Date): Cell[] {
  return [
    row.accessKeyId,
    printable(row.name),
    row.description ? printable(row.description) : io.style.dim('-'),
    row.owner === null ? io.style.dim('(tenant)') : printable(row.owner),
    row.type,
    styledStatus(io, row.status, row.expiresAt, now),
    days(row.ageDays),
    expiryCell(io, row.expiresAt, now),
    dateCell(io, row.lastUsedAt, { now, empty: 'never' }),
    row.lastUsedFrom === null ? io.style.dim('-') : printable(row.lastUsedFrom),
    days(row.secretAgeDays),
    row.findings.length === 0 ? io.style.dim('-') : io.style.yellow(row.findings.join(' ')),
  ];
}

export function reportTable(io: Io, rows: ReportRow[], now: Date): string {
  return renderTable(
    io,
    REPORT_COLUMNS,
    rows.map((row) => reportCells(io, row, now)),
  );
}

/** Below the table on a terminal: how many keys have each finding, and what expires when. */
export function reportSummary(io: Io, summary: ReportSummary): string {
  const counts = renderTable(
    io,
    ['FINDING', 'KEYS'],
    FINDINGS.map((f) => [summary.findings[f] > 0 ? f : io.style.dim(f), String(summary.findings[f])]),
  );
  const width = Math.min(io.terminal.columns, 100);
  const weeks = summary.expiriesPerWeek.length;
  const title =
    `active keys expiring per week from 00:00 UTC, next ${weeks} weeks ` +
    `(${plural(summary.keys, 'key')} in the report)`;
  const chart = barChart(
    // The weeks are UTC days: labelled with the UTC date, which a local date could put a day early.
    summary.expiriesPerWeek.map((w) => ({ label: w.weekStart.slice(0, 10), value: w.count })),
    width,
  );
  const heading = displayWidth(title) > width ? `${title.slice(0, width - 1)}…` : title;
  return `${counts}\n\n${io.style.bold(heading)}\n${chart.join('\n')}`;
}
