/** How keys look to people. The same objects go out as JSON under --json. */
import type { IssuedKey, KeyDetails, KeyView } from '../../service/types.js';
import { list, printable, styledExpiry, styledStatus, when } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable } from '../io/table.js';

export const KEY_COLUMNS = ['ACCESS KEY ID', 'NAME', 'TYPE', 'STATUS', 'OWNER', 'EXPIRES', 'LAST USED'];

export function keyRow(io: Io, key: KeyView, now = new Date()): string[] {
  return [
    key.accessKeyId,
    printable(key.name, 40),
    key.type,
    styledStatus(io, key.status, key.expiresAt, now),
    key.owner === null ? io.style.dim('(tenant)') : printable(key.owner),
    styledExpiry(io, key.expiresAt, now),
    when(io, key.lastUsedAt, '-', now),
  ];
}

export function keyTable(io: Io, keys: KeyView[], now = new Date()): string {
  return renderTable(
    io,
    KEY_COLUMNS,
    keys.map((k) => keyRow(io, k, now)),
  );
}

export function keyFields(io: Io, key: KeyView, now = new Date()): Array<[string, string]> {
  return [
    ['access key id', key.accessKeyId],
    ['name', printable(key.name)],
    ['type', key.type],
    ['status', styledStatus(io, key.status, key.expiresAt, now)],
    ['tenant', key.tenantId],
    ['owner', key.owner === null ? '(tenant-level)' : printable(key.owner)],
    ['groups', list(key.groups)],
    ['roles', list(key.roles)],
    ['expires', styledExpiry(io, key.expiresAt, now)],
    ['created', `${when(io, key.createdAt, '-', now)} by ${printable(key.createdBy)}`],
    ['modified', `${when(io, key.modifiedAt, '-', now)} by ${printable(key.modifiedBy)}`],
    ['last used', when(io, key.lastUsedAt, 'never', now)],
  ];
}

export function keyDetails(io: Io, key: KeyDetails, now = new Date()): string {
  const fields = keyFields(io, key, now);
  fields.push(['permissions', list(key.permissions)]);
  if (key.previousSecretValidUntil)
    fields.push(['previous secret', `valid until ${when(io, key.previousSecretValidUntil, '-', now)}`]);
  return renderFields(io, fields);
}

/**
 * The one moment the secret is shown: data on stdout, the warning on stderr, so
 * `akm create … > key.txt` stores the key and still tells the person.
 */
export function printIssuedKey(io: Io, key: IssuedKey, copied: boolean): void {
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
        ['expires', styledExpiry(io, key.expiresAt)],
      ]),
    );
  }
  io.notice(
    io.errStyle.bold.yellow('! This is the only time the secret key is shown.') +
      ' Store it now; akm keeps it encrypted and cannot show it again (rotate to issue a new one).',
  );
  if (copied) io.notice(io.errStyle.green('✓ key string copied to the clipboard'));
  if (key.previousSecretValidUntil)
    io.notice(`the previous secret keeps working until ${key.previousSecretValidUntil}`);
}
