/** Users, groups and roles as tables. */
import type { Group, Role, User } from '../../service/types.js';
import { list, printable } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderTable } from '../io/table.js';

export function usersTable(io: Io, users: User[]): string {
  return renderTable(
    io,
    [{ header: 'EMAIL', shrinkTo: 16 }, { header: 'NAME', shrinkTo: 10 }, { header: 'GROUPS', shrinkTo: 12 }, 'KEYS'],
    users.map((u) => [printable(u.email), printable(u.name) || '-', list(u.groups), `${u.keyCount}/2`]),
  );
}

export function groupsTable(io: Io, groups: Group[]): string {
  return renderTable(
    io,
    [
      { header: 'GROUP', shrinkTo: 14 },
      { header: 'ROLES', shrinkTo: 14 },
      { header: 'MEMBERS', shrinkTo: 14 },
    ],
    groups.map((g) => [
      printable(g.name) + (g.builtin ? io.style.dim(' (built-in)') : ''),
      list(g.roles),
      list(g.members),
    ]),
  );
}

export function rolesTable(io: Io, roles: Role[]): string {
  return renderTable(
    io,
    [
      { header: 'ROLE', shrinkTo: 14 },
      { header: 'PERMISSIONS', shrinkTo: 14 },
    ],
    roles.map((r) => [printable(r.name) + (r.builtin ? io.style.dim(' (built-in)') : ''), list(r.permissions)]),
  );
}

/** Print a list: the array under --json, else the table. */
export function printList<T>(io: Io, rows: T[], table: (io: Io, rows: T[]) => string): void {
  if (io.json) return io.outJson(rows);
  io.out(table(io, rows));
}

/** After a removal: `{removed: true, …}` under --json (the key names the verb), else one line. */
export function printRemoval<T extends object>(io: Io, verb: 'deleted' | 'removed', value: T, message: string): void {
  if (io.json) return io.outJson({ [verb]: true, ...value });
  io.info(message);
}

/** Print one result (JSON) or a one-line confirmation plus the table. */
export function printChange<T>(io: Io, value: T, message: string, table: (io: Io, rows: T[]) => string): void {
  if (io.json) return io.outJson(value);
  io.info(message);
  io.out(table(io, [value]));
}
