/**
 * A key's groups and roles: assigning them, their names, and what they grant (core/permissions).
 * Every role and group read for a decision is checked against its integrity MAC.
 */
import type { RoleGrant } from '../core/permissions.js';
import { checked, intactSql, TamperedRecordError } from './integrity.js';
import type { Queryable } from './types.js';

type NamedCheck = { name: string; intact: number | null };

export async function keyGroupNames(q: Queryable, keyId: string): Promise<string[]> {
  const rows = await q.all<NamedCheck>(
    `SELECT g.name, ${intactSql(q.dialect, ['groups', 'g'])} AS intact
       FROM key_groups kg JOIN groups g ON g.id = kg.group_id WHERE kg.key_id = @keyId ORDER BY g.name`,
    { keyId },
  );
  return rows.map((r) => checked('groups', (g) => g.name, r)!.name);
}

export async function keyRoleNames(q: Queryable, keyId: string): Promise<string[]> {
  const rows = await q.all<NamedCheck>(
    `SELECT r.name, ${intactSql(q.dialect, ['roles', 'r'])} AS intact
       FROM key_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = @keyId ORDER BY r.name`,
    { keyId },
  );
  return rows.map((r) => checked('roles', (x) => x.name, r)!.name);
}

export async function addKeyGroup(q: Queryable, keyId: string, groupId: number): Promise<boolean> {
  return (
    (await q.run('INSERT INTO key_groups (key_id, group_id) VALUES (@keyId, @groupId) ON CONFLICT DO NOTHING', {
      keyId,
      groupId,
    })) > 0
  );
}
export async function removeKeyGroup(q: Queryable, keyId: string, groupId: number): Promise<boolean> {
  return (await q.run('DELETE FROM key_groups WHERE key_id = @keyId AND group_id = @groupId', { keyId, groupId })) > 0;
}
export async function addKeyRole(q: Queryable, keyId: string, roleId: number): Promise<boolean> {
  return (
    (await q.run('INSERT INTO key_roles (key_id, role_id) VALUES (@keyId, @roleId) ON CONFLICT DO NOTHING', {
      keyId,
      roleId,
    })) > 0
  );
}
export async function removeKeyRole(q: Queryable, keyId: string, roleId: number): Promise<boolean> {
  return (await q.run('DELETE FROM key_roles WHERE key_id = @keyId AND role_id = @roleId', { keyId, roleId })) > 0;
}

/**
 * Direct roles and roles through groups, each with its permissions: the input of
 * core/permissions. Every role and group on the way is checked (the key's own row, which
 * covers which roles and groups it has, is checked where it is read).
 */
export async function keyRoleGrants(q: Queryable, keyId: string): Promise<RoleGrant[]> {
  const permissions = q.dialect.jsonList(
    'SELECT permission AS v FROM role_permissions WHERE role_id = r.id ORDER BY permission',
  );
  const roleOk = intactSql(q.dialect, ['roles', 'r']);
  const rows = await q.all<{
    role: string;
    via: string | null;
    perms: string;
    role_ok: number | null;
    group_ok: number | null;
  }>(
    `SELECT r.name AS role, NULL AS via, ${permissions} AS perms, ${roleOk} AS role_ok, NULL AS group_ok
       FROM key_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = @keyId
     UNION ALL
     SELECT r.name, g.name, ${permissions}, ${roleOk}, ${intactSql(q.dialect, ['groups', 'g'])}
       FROM key_groups kg
       JOIN groups g ON g.id = kg.group_id
       JOIN group_roles gr ON gr.group_id = g.id
       JOIN roles r ON r.id = gr.role_id
      WHERE kg.key_id = @keyId`,
    { keyId },
  );
  return rows.map((r) => {
    if (r.group_ok === 0) throw new TamperedRecordError('groups', r.via ?? '');
    if (r.role_ok === 0) throw new TamperedRecordError('roles', r.role);
    return { role: r.role, viaGroup: r.via, permissions: JSON.parse(r.perms) as string[] };
  });
}
