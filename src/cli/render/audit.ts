/** Audit records and the verification report as text. */
import type { AuditRecord, AuditVerification } from '../../service/types.js';
import { printable, when } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable, type Column } from '../io/table.js';

/** "name=ci roles=ReadOnly,Ingestion to=never": compact, greppable, neutralised. */
export function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}=${detailValue(v)}`)
    .map((pair) => printable(pair, 200))
    .join(' ');
}

function detailValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(',') || '-';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return v === null ? 'null' : (JSON.stringify(v) ?? 'undefined');
}

/** Where a change came from: the OS user and host for the CLI ("cli:bob@laptop"), the address for the server. */
function origin(source: string): string {
  if (source.startsWith('cli:')) return printable(source.slice(4));
  if (source.startsWith('http:')) return `${printable(source.slice(5))} (http)`;
  return printable(source);
}

// A target is most often an access key id (20 characters): cut, it could not be copied or searched
// for: on a narrow terminal the details give way instead.
const AUDIT_COLUMNS: Column[] = [
  { header: 'SEQ', drop: 'early' },
  { header: 'WHEN' },
  { header: 'ACTOR', shrinkTo: 14 },
  { header: 'ACTION' },
  { header: 'TARGET', shrinkTo: 20 },
  { header: 'DETAILS', shrinkTo: 10, drop: 'late' },
  { header: 'FROM', shrinkTo: 12 },
];

export function auditTable(io: Io, records: AuditRecord[], now: Date): string {
  return renderTable(
    io,
    AUDIT_COLUMNS,
    records.map((r) => [
      r.seq === null ? '-' : String(r.seq),
      when(io, r.at, { now, relative: 'never', seconds: true }),
      printable(r.actor),
      r.action,
      r.target === null ? '-' : printable(r.target),
      detailsText(r.details),
      origin(r.source),
    ]),
  );
}

export function verificationText(io: Io, result: AuditVerification): string {
  const summary = renderFields(io, [
    ['status', result.ok ? io.style.green('intact') : io.style.red('TAMPERED')],
    ['tenant', result.tenantId],
    ['records', String(result.records)],
    ['head', result.head ?? '-'],
    ['altered rows', String(result.alteredRows.length)],
  ]);
  if (result.ok) return summary;
  const parts = [summary];
  if (result.problems.length > 0)
    parts.push(
      renderTable(
        io,
        ['KIND', 'RECORD', 'PROBLEM'],
        result.problems.map((p) => [io.style.red(p.kind), `#${p.seq}`, printable(p.message, 300)]),
      ),
    );
  if (result.alteredRows.length > 0)
    parts.push(
      renderTable(
        io,
        ['TABLE', 'ROW', 'PROBLEM'],
        result.alteredRows.map((r) => [io.style.red(r.table), printable(r.row), printable(r.message, 300)]),
      ),
    );
  return parts.join('\n\n');
}
