/** How keys look to people. The same objects go out as JSON under --json. */
import type { KeyField } from '../../core/keyFields.js';
import { MAX_DESCRIPTION_LENGTH } from '../../core/validate.js';
import type { IssuedKey, KeyDetails, KeyView } from '../../service/types.js';
import { localDateTime, relativeTime } from '../io/dates.js';
import { dateCell, expiryCell, list, printable, styledExpiry, styledStatus, when } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable, type Cell, type Column } from '../io/table.js';
import { describeDuration } from '../../core/duration.js';
import { previousSecretSentence, sourceRows, sourcesTable, whoUsed } from './usage.js';

/** Status, and for a brownout that it ends by itself. */
function statusCell(io: Io, key: KeyView, now: Date, detailed = false): string {
  const status = styledStatus(io, key.status, key.expiresAt, now);
  if (key.inactiveUntil === null || key.status !== 'inactive') return status;
  if (!detailed) return `${status}${io.style.dim(' (brownout)')}`;
  return `${status} until ${when(io, key.inactiveUntil, { now, relative: 'always' })} (brownout), then active again`;
}

interface FieldColumn {
  column: Column;
  cell(io: Io, key: KeyView, now: Date): Cell;
}

const owner = (io: Io, email: string | null) => (email === null ? io.style.dim('(tenant)') : printable(email));

/** Every key field as a table column (`akm list --columns`), with how it gives way on a narrow terminal. */
const FIELD_COLUMNS: Record<KeyField, FieldColumn> = {
  accessKeyId: { column: { header: 'ACCESS KEY ID' }, cell: (_io, k) => k.accessKeyId },
  name: {
    column: { header: 'NAME', shrinkTo: 12 },
    cell: (io, k) => printable(k.name) + (k.canary ? io.style.yellow(' (canary)') : ''),
  },
  description: {
    column: { header: 'DESCRIPTION', shrinkTo: 12, drop: 'early' },
    cell: (io, k) => (k.description ? printable(k.description) : io.style.dim('-')),
  },
  type: { column: { header: 'TYPE', drop: 'early' }, cell: (_io, k) => k.type },
  status: {
    column: { header: 'STATUS' },
    // On a narrow terminal "inactive (brownout)" gives way to "inactive" before a column goes.
    cell: (io, k, now) => ({ text: statusCell(io, k, now), short: styledStatus(io, k.status, k.expiresAt, now) }),
  },
  tenantId: { column: { header: 'TENANT', drop: 'early' }, cell: (_io, k) => k.tenantId },
  owner: { column: { header: 'OWNER', shrinkTo: 12, drop: 'late' }, cell: (io, k) => owner(io, k.owner) },
  groups: { column: { header: 'GROUPS', shrinkTo: 12 }, cell: (_io, k) => list(k.groups) },
  roles: { column: { header: 'ROLES', shrinkTo: 12 }, cell: (_io, k) => list(k.roles) },
  createdAt: { column: { header: 'CREATED' }, cell: (io, k, now) => dateCell(io, k.createdAt, { now }) },
  createdBy: { column: { header: 'CREATED BY', shrinkTo: 12 }, cell: (_io, k) => printable(k.createdBy) },
  modifiedAt: { column: { header: 'MODIFIED' }, cell: (io, k, now) => dateCell(io, k.modifiedAt, { now }) },
  modifiedBy: { column: { header: 'MODIFIED BY', shrinkTo: 12 }, cell: (_io, k) => printable(k.modifiedBy) },
  expiresAt: { column: { header: 'EXPIRES' }, cell: (io, k, now) => expiryCell(io, k.expiresAt, now) },
  lastUsedAt: {
    column: { header: 'LAST USED', drop: 'early' },
    cell: (io, k, now) => dateCell(io, k.lastUsedAt, { now, empty: '-' }),
  },
  secretCreatedAt: {
    column: { header: 'SECRET CREATED' },
    cell: (io, k, now) => dateCell(io, k.secretCreatedAt, { now }),
  },
  inactiveUntil: {
    column: { header: 'BACK ON' },
    cell: (io, k, now) => when(io, k.inactiveUntil, { now, empty: '-' }),
  },
  canary: { column: { header: 'CANARY' }, cell: (io, k) => (k.canary ? io.style.yellow('yes') : io.style.dim('-')) },
};

export const DEFAULT_KEY_FIELDS: KeyField[] = [
  'accessKeyId',
  'name',
  'type',
  'status',
  'owner',
  'expiresAt',
  'lastUsedAt',
];

/** On a narrow terminal LAST USED and TYPE go first, then names and owners are cut, then OWNER goes. */
export const KEY_COLUMNS: Column[] = DEFAULT_KEY_FIELDS.map((field) => FIELD_COLUMNS[field].column);

/**
 * Keys as a table: the usual columns, or the fields asked for with `--columns` (those are never
 * left out for want of width, only cut).
 */
export function keyTable(io: Io, keys: KeyView[], now: Date, fields?: KeyField[]): string {
  const chosen = fields ?? DEFAULT_KEY_FIELDS;
  const columns = chosen.map((field) =>
    fields ? { ...FIELD_COLUMNS[field].column, drop: undefined } : FIELD_COLUMNS[field].column,
  );
  return renderTable(
    io,
    columns,
    keys.map((key) => chosen.map((field) => FIELD_COLUMNS[field].cell(io, key, now))),
  );
}

function keyFields(io: Io, key: KeyView, now: Date): Array<[string, string]> {
  const at = (iso: string | null, empty = '-') => when(io, iso, { now, empty, relative: 'always' });
  return [
    ['access key id', key.accessKeyId],
    ['name', printable(key.name)],
    ...(key.description
      ? [['description', printable(key.description, MAX_DESCRIPTION_LENGTH)] as [string, string]]
      : []),
    ['type', key.type],
    ['status', statusCell(io, key, now, true)],
    ['tenant', key.tenantId],
    ['owner', key.owner === null ? '(tenant-level)' : printable(key.owner)],
    ['groups', list(key.groups)],
    ['roles', list(key.roles)],
    ['expires', styledExpiry(io, key.expiresAt, now, 'always')],
    ['created', `${at(key.createdAt)} by ${printable(key.createdBy)}`],
    ['modified', `${at(key.modifiedAt)} by ${printable(key.modifiedBy)}`],
    ['last used', at(key.lastUsedAt, 'never')],
    ['secret created', at(key.secretCreatedAt)],
  ];
}

/** How the previous secret's grace ends: "until 14:30 (in 2 hours)", or, automatic, when it goes quiet. */
function graceText(io: Io, key: KeyDetails, now: Date): string | null {
  const grace = key.grace;
  if (!grace) return null;
  const at = (iso: string) => when(io, iso, { now, relative: 'always', seconds: true });
  if (grace.mode === 'fixed') return `valid until ${at(grace.endsAt)}`;
  const quiet = `works until unused for ${describeDuration(grace.quietForMs ?? 0)}`;
  return `${quiet}: ends ${at(grace.endsAt)} unless used again, ${at(grace.endsBy)} at the latest`;
}

function usageFields(io: Io, key: KeyDetails, now: Date): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  const current = key.secrets.find((s) => s.version === 'current');
  if (current && current.sources.length > 0)
    fields.push(['current secret', `used by ${whoUsed(current.sources, now)}`]);
  const grace = graceText(io, key, now);
  if (grace) fields.push(['previous secret', grace]);
  const old = previousSecretSentence(key, now);
  if (old) fields.push(['', io.style.yellow(old)]);
  if (key.brownoutAttempts.length > 0) {
    const count = key.brownoutAttempts.reduce((n, s) => n + s.count, 0);
    fields.push([
      'refused',
      `${count} attempt${count === 1 ? '' : 's'} during the brownout: ${whoUsed(key.brownoutAttempts, now)}`,
    ]);
  }
  const alarm = key.canaryAlarm;
  if (alarm) {
    const tried =
      alarm.attempts === 0
        ? 'never tried'
        : `tried ${alarm.attempts} time${alarm.attempts === 1 ? '' : 's'}, ` +
          `last ${when(io, alarm.lastAttemptAt, { now, relative: 'always' })}`;
    fields.push(['canary', `${io.style.yellow('yes')}: never authenticates; any attempt alerts the administrators`]);
    fields.push(['attempts', alarm.sources.length > 0 ? `${tried} by ${whoUsed(alarm.sources, now)}` : tried]);
  }
  return fields;
}

export function keyDetails(io: Io, key: KeyDetails, now: Date): string {
  const fields = keyFields(io, key, now);
  fields.push(['permissions', list(key.permissions)]);
  fields.push(...usageFields(io, key, now));
  const rows = sourceRows(key);
  const details = renderFields(io, fields);
  return rows.length === 0 ? details : `${details}\n\n${sourcesTable(io, rows, now)}`;
}

/**
 * The one moment the secret is shown: data on stdout, the warning on stderr, so
 * `akm create … > key.txt` stores the key and still tells the person.
 */
export function printIssuedKey(io: Io, key: IssuedKey, now: Date): void {
  if (io.json) {
    io.outJson(key);
  } else {
    io.out(
      renderFields(io, [
        ['access key id', key.accessKeyId],
        ['secret key', io.style.bold(key.secretKey), 'whole'],
        ['tenant id', key.tenantId],
        ['key string', key.keyString, 'whole'],
        ['name', printable(key.name)],
        ['owner', key.owner === null ? '(tenant-level)' : printable(key.owner)],
        ['expires', styledExpiry(io, key.expiresAt, now, 'always')],
      ]),
    );
  }
  io.shownOnce(
    io.errStyle.bold.yellow('! This is the only time the secret key is shown.') +
      ' Store it now; akm keeps it encrypted and cannot show it again (rotate to issue a new one).',
  );
  // stderr may be a terminal while stdout is piped: these lines are for the person, in local time.
  const local = (iso: string) => `${localDateTime(new Date(iso), true)} (${relativeTime(new Date(iso), now)})`;
  if (key.grace?.mode === 'auto') {
    io.notice(
      `the previous secret keeps working until nothing has used it for ` +
        `${describeDuration(key.grace.quietForMs ?? 0)}, ` +
        `at the latest until ${local(key.grace.endsBy)}; akm show ${key.accessKeyId} tells who still uses it`,
    );
  } else if (key.previousSecretValidUntil) {
    io.notice(`the previous secret keeps working until ${local(key.previousSecretValidUntil)}`);
  }
}
