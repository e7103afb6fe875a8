/** How keys look to people. The same objects go out as JSON under --json. */
import type { IssuedKey, KeyDetails, KeyView } from '../../service/types.js';
import { localDateTime, relativeTime } from '../io/dates.js';
import { list, printable, styledExpiry, styledStatus, when } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable, type Column } from '../io/table.js';

/** On a narrow terminal LAST USED and TYPE go first, then names and owners are cut, then OWNER goes. */
export const KEY_COLUMNS: Column[] = [
  { header: 'ACCESS KEY ID' },
  { header: 'NAME', shrinkTo: 12 },
  { header: 'TYPE', drop: 'early' },
  { header: 'STATUS' },
  { header: 'OWNER', shrinkTo: 12, drop: 'late' },
  { header: 'EXPIRES' },
  { header: 'LAST USED', drop: 'early' },
];

function keyRow(io: Io, key: KeyView, now: Date): string[] {
  return [
    key.accessKeyId,
    printable(key.name),
    key.type,
    styledStatus(io, key.status, key.expiresAt, now),
    key.owner === null ? io.style.dim('(tenant)') : printable(key.owner),
    styledExpiry(io, key.expiresAt, now),
    when(io, key.lastUsedAt, { now, empty: '-' }),
  ];
}

export function keyTable(io: Io, keys: KeyView[], now: Date): string {
  return renderTable(
    io,
    KEY_COLUMNS,
    keys.map((k) => keyRow(io, k, now)),
  );
}

function keyFields(io: Io, key: KeyView, now: Date): Array<[string, string]> {
  const at = (iso: string | null, empty = '-') => when(io, iso, { now, empty, relative: 'always' });
  return [
    ['access key id', key.accessKeyId],
    ['name', printable(key.name)],
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
