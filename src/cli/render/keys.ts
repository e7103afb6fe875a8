/** How keys look to people. The same objects go out as JSON under --json. */
import type { KeyField } from '../../core/keyFields.js';
import { MAX_DESCRIPTION_LENGTH } from '../../core/validate.js';
import type { IssuedKey, KeyDetails, KeyView } from '../../service/types.js';
import { localDateTime, relativeTime } from '../io/dates.js';
import { list, printable, styledExpiry, styledStatus, when } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable, type Column } from '../io/table.js';

interface FieldColumn {
  column: Column;
  cell(io: Io, key: KeyView, now: Date): string;
}

const owner = (io: Io, email: string | null) => (email === null ? io.style.dim('(tenant)') : printable(email));

/** Every key field as a table column (`akm list --columns`), with how it gives way on a narrow terminal. */
const FIELD_COLUMNS: Record<KeyField, FieldColumn> = {
  accessKeyId: { column: { header: 'ACCESS KEY ID' }, cell: (_io, k) => k.accessKeyId },
  name: { column: { header: 'NAME', shrinkTo: 12 }, cell: (_io, k) => printable(k.name) },
  description: {
    column: { header: 'DESCRIPTION', shrinkTo: 12, drop: 'early' },
    cell: (io, k) => (k.description ? printable(k.description) : io.style.dim('-')),
  },
  type: { column: { header: 'TYPE', drop: 'early' }, cell: (_io, k) => k.type },
  status: { column: { header: 'STATUS' }, cell: (io, k, now) => styledStatus(io, k.status, k.expiresAt, now) },
  tenantId: { column: { header: 'TENANT', drop: 'early' }, cell: (_io, k) => k.tenantId },
  owner: { column: { header: 'OWNER', shrinkTo: 12, drop: 'late' }, cell: (io, k) => owner(io, k.owner) },
  groups: { column: { header: 'GROUPS', shrinkTo: 12 }, cell: (_io, k) => list(k.groups) },
  roles: { column: { header: 'ROLES', shrinkTo: 12 }, cell: (_io, k) => list(k.roles) },
  createdAt: { column: { header: 'CREATED' }, cell: (io, k, now) => when(io, k.createdAt, { now }) },
  createdBy: { column: { header: 'CREATED BY', shrinkTo: 12 }, cell: (_io, k) => printable(k.createdBy) },
  modifiedAt: { column: { header: 'MODIFIED' }, cell: (io, k, now) => when(io, k.modifiedAt, { now }) },
  modifiedBy: { column: { header: 'MODIFIED BY', shrinkTo: 12 }, cell: (_io, k) => printable(k.modifiedBy) },
  expiresAt: { column: { header: 'EXPIRES' }, cell: (io, k, now) => styledExpiry(io, k.expiresAt, now) },
  lastUsedAt: {
    column: { header: 'LAST USED', drop: 'early' },
    cell: (io, k, now) => when(io, k.lastUsedAt, { now, empty: '-' }),
  },
  secretCreatedAt: {
    column: { header: 'SECRET CREATED' },
    cell: (io, k, now) => when(io, k.secretCreatedAt, { now }),
  },
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
    ['status', styledStatus(io, key.status, key.expiresAt, now)],
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

export function keyDetails(io: Io, key: KeyDetails, now: Date): string {
  const fields = keyFields(io, key, now);
  fields.push(['permissions', list(key.permissions)]);
  if (key.previousSecretValidUntil)
    fields.push([
      'previous secret',
      `valid until ${when(io, key.previousSecretValidUntil, { now, relative: 'always', seconds: true })}`,
    ]);
  return renderFields(io, fields);
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
        ['secret key', io.style.bold(key.secretKey)],
        ['tenant id', key.tenantId],
        ['key string', key.keyString],
        ['name', printable(key.name)],
        ['owner', key.owner === null ? '(tenant-level)' : printable(key.owner)],
        ['expires', styledExpiry(io, key.expiresAt, now, 'always')],
      ]),
    );
  }
  io.notice(
    io.errStyle.bold.yellow('! This is the only time the secret key is shown.') +
      ' Store it now; akm keeps it encrypted and cannot show it again (rotate to issue a new one).',
  );
  if (key.previousSecretValidUntil) {
    // stderr may be a terminal while stdout is piped: this line is for the person, in local time.
    const until = new Date(key.previousSecretValidUntil);
    io.notice(`the previous secret keeps working until ${localDateTime(until, true)} (${relativeTime(until, now)})`);
  }
}
