/** What a bulk command or `policy apply --cap` changed (or, in a dry run, would change), key by key. */
import type { BulkResult, KeyChange } from '../../service/types.js';
import { printable, styledExpiry, styledStatus, type WhenOptions } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderTable, type Column } from '../io/table.js';

const COLUMNS: Column[] = [
  { header: 'ACCESS KEY ID' },
  { header: 'NAME', shrinkTo: 12 },
  { header: 'OWNER', shrinkTo: 12, drop: 'late' },
  { header: 'CHANGE' },
];

const DONE: Record<BulkResult['action'], string> = {
  activate: 'activated',
  deactivate: 'deactivated',
  delete: 'deleted',
  extend: 'extended',
  cap: 'capped',
};

function describe(
  io: Io,
  action: BulkResult['action'],
  change: KeyChange,
  now: Date,
  relative: WhenOptions['relative'],
): string {
  const { from, to } = change;
  if (to === null) return io.style.red('deleted');
  if (!change.changed) return io.style.dim('unchanged');
  const parts: string[] = [];
  if (from.status !== to.status)
    parts.push(
      `${styledStatus(io, from.status, from.expiresAt, now)} → ${styledStatus(io, to.status, to.expiresAt, now)}`,
    );
  if (from.expiresAt !== to.expiresAt)
    parts.push(
      `expires ${styledExpiry(io, from.expiresAt, now, relative)} → ${styledExpiry(io, to.expiresAt, now, relative)}`,
    );
  // e.g. an expired key deactivated: it shows as expired before and after.
  return parts.length > 0 ? parts.join(', ') : DONE[action];
}

export function renderBulkResult(io: Io, result: BulkResult, now: Date): string {
  return renderTable(
    io,
    COLUMNS,
    result.keys.map((change) => [
      change.accessKeyId,
      printable(change.name),
      change.owner === null ? io.style.dim('(tenant)') : printable(change.owner),
      {
        text: describe(io, result.action, change, now, 'near'),
        short: describe(io, result.action, change, now, 'never'),
      },
    ]),
  );
}
