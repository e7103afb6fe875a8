/**
 * Users, groups, roles and their links. Looking one up by name checks its integrity MAC
 * (integrity.ts); listings for display do not.
 */
import { checked, intactSql } from './integrity.js';
import type { Queryable } from './types.js';

export interface UserRow {
  id: number;
  tenant_id: string;
  email: string;
  name: string;
  created_at: string;
}
export interface NamedRow {
  id: number;
  name: string;
  builtin: number;
  created_at: string;
}

type Checked<T> = T & { intact: number | null };

async function column(q: Queryable, sql: string, params: Record<string, string | number>): Promise<string[]> {
  return (await q.all<{ v: string }>(sql, params)).map((r) => r.v);
}

async function count(q: Queryable, sql: string, params: Record<string, string | number>): Promise<number> {
  return (await q.get<{ n: number }>(sql, params))!.n;
}

async function insertedId(q: Queryable, sql: string, params: Record<string, string | number>): Promise<number> {
  return (await q.get<{ id: number }>(`${sql} RETURNING id`, params))!.id;
}

export async function findUser(q: Queryable, tenantId: string, email: string): Promise<UserRow | undefined> {
  const row = await q.get<Checked<UserRow>>(
    `SELECT id, tenant_id, email, name, created_at, ${intactSql(q.dialect, ['users', 'u'])} AS intact
       FROM users u WHERE tenant_id = @tenantId AND email = @email`,
    { tenantId, email },
  );
  return checked('users', (u) => u.email, row);
}

export function insertUser(q: Queryable, tenantId: string, email: string, name: string, at: string): Promise<number> {
  return insertedId(
    q,
    'INSERT INTO users (tenant_id, email, name, created_at) VALUES (@tenantId, @email, @name, @at)',
    { tenantId, email, name, at },
  );
}

export async function deleteUser(q: Queryable, id: number): Promise<void> {
  await q.run('DELETE FROM users WHERE id = @id', { id });
}

export function listUsers(
  q: Queryable,
  tenantId: string,
): Promise<Array<UserRow & { groups: string; key_count: number }>> {
  const groups = q.dialect.jsonList(
    'SELECT g.name AS v FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id ORDER BY g.name',
  );
  return q.all(
    `SELECT u.*, ${groups} AS groups, (SELECT count(*) FROM keys k WHERE k.owner_id = u.id) AS key_count
     FROM users u WHERE u.tenant_id = @tenantId ORDER BY u.email`,
    { tenantId },
  );
}

export function userGroups(q: Queryable, userId: number): Promise<string[]> {
  return column(
    q,
    `SELECT g.name AS v FROM group_members m JOIN groups g ON g.id = m.group_id
      WHERE m.user_id = @userId ORDER BY g.name`,
    { userId },
  );
}

export async function isGroupMember(
  q: Queryable,
  tenantId: string,
  groupName: string,
  userId: number,
): Promise<boolean> {
  const group = await findGroup(q, tenantId, groupName);
  if (!group) return false;
  const row = await q.get('SELECT 1 AS member FROM group_members WHERE group_id = @groupId AND user_id = @userId', {
    groupId: group.id,
    userId,
  });
  return row !== undefined;
}

export async function groupMemberEmails(q: Queryable, tenantId: string, groupName: string): Promise<string[]> {
  const group = await findGroup(q, tenantId, groupName);
  return group ? groupMembers(q, group.id) : [];
}

// ---- groups

export async function findGroup(q: Queryable, tenantId: string, name: string): Promise<NamedRow | undefined> {
  const row = await q.get<Checked<NamedRow>>(
    `SELECT id, name, builtin, created_at, ${intactSql(q.dialect, ['groups', 'g'])} AS intact
       FROM groups g WHERE tenant_id = @tenantId AND name = @name`,
    { tenantId, name },
  );
  return checked('groups', (g) => g.name, row);
}

export function insertGroup(
  q: Queryable,
  tenantId: string,
  name: string,
  builtin: boolean,
  at: string,
): Promise<number> {
  return insertedId(
    q,
    'INSERT INTO groups (tenant_id, name, builtin, created_at) VALUES (@tenantId, @name, @builtin, @at)',
    { tenantId, name, builtin: builtin ? 1 : 0, at },
  );
}

export async function deleteGroup(q: Queryable, id: number): Promise<void> {
  await q.run('DELETE FROM groups WHERE id = @id', { id });
}

export function listGroups(q: Queryable, tenantId: string): Promise<NamedRow[]> {
  return q.all<NamedRow>('SELECT id, name, builtin, created_at FROM groups WHERE tenant_id = @tenantId ORDER BY name', {
    tenantId,
  });
}

export function groupMembers(q: Queryable, groupId: number): Promise<string[]> {
  return column(
    q,
    `SELECT u.email AS v FROM group_members m JOIN users u ON u.id = m.user_id
      WHERE m.group_id = @groupId ORDER BY u.email`,
    { groupId },
  );
}

export function groupRoles(q: Queryable, groupId: number): Promise<string[]> {
  return column(
    q,
    `SELECT r.name AS v FROM group_roles gr JOIN roles r ON r.id = gr.role_id
      WHERE gr.group_id = @groupId ORDER BY r.name`,
    { groupId },
  );
}

export async function addGroupMember(q: Queryable, groupId: number, userId: number): Promise<boolean> {
  const sql = 'INSERT INTO group_members (group_id, user_id) VALUES (@groupId, @userId) ON CONFLICT DO NOTHING';
  return (await q.run(sql, { groupId, userId })) > 0;
}

export async function removeGroupMember(q: Queryable, groupId: number, userId: number): Promise<boolean> {
  const sql = 'DELETE FROM group_members WHERE group_id = @groupId AND user_id = @userId';
  return (await q.run(sql, { groupId, userId })) > 0;
}

export function countGroupMembers(q: Queryable, groupId: number): Promise<number> {
  return count(q, 'SELECT count(*) AS n FROM group_members WHERE group_id = @groupId', { groupId });
}

export async function addGroupRole(q: Queryable, groupId: number, roleId: number): Promise<boolean> {
  const sql = 'INSERT INTO group_roles (group_id, role_id) VALUES (@groupId, @roleId) ON CONFLICT DO NOTHING';
  return (await q.run(sql, { groupId, roleId })) > 0;
}

export async function removeGroupRole(q: Queryable, groupId: number, roleId: number): Promise<boolean> {
  const sql = 'DELETE FROM group_roles WHERE group_id = @groupId AND role_id = @roleId';
  return (await q.run(sql, { groupId, roleId })) > 0;
}

export function groupMemberRows(q: Queryable, groupId: number): Promise<UserRow[]> {
  return q.all<UserRow>(
    'SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = @groupId ORDER BY u.email',
    { groupId },
  );
}

/** The keys a group is assigned to, in id order. */
export async function keyIdsWithGroup(q: Queryable, groupId: number): Promise<string[]> {
  const rows = await q.all<{ key_id: string }>(
    'SELECT key_id FROM key_groups WHERE group_id = @groupId ORDER BY key_id',
    { groupId },
  );
  return rows.map((r) => r.key_id);
}

/** The keys a role reaches, directly or through a group, in id order. */
export async function keyIdsWithRole(q: Queryable, roleId: number): Promise<string[]> {
  const rows = await q.all<{ key_id: string }>(
    `SELECT key_id FROM key_roles WHERE role_id = @roleId
     UNION
     SELECT kg.key_id FROM key_groups kg JOIN group_roles gr ON gr.group_id = kg.group_id WHERE gr.role_id = @roleId
     ORDER BY 1`,
    { roleId },
  );
  return rows.map((r) => r.key_id);
}

/**
 * Takes a group or role off the canary keys that have it directly: for someone to whom canaries
 * do not exist, deleting it must go as if they had never had it.
 */
export async function detachFromCanaries(q: Queryable, link: 'group' | 'role', id: number): Promise<void> {
  const table = link === 'group' ? 'key_groups' : 'key_roles';
  await q.run(`DELETE FROM ${table} WHERE ${link}_id = @id AND key_id IN (SELECT id FROM keys WHERE canary = 1)`, {
    id,
  });
}

export function keysUsingGroup(q: Queryable, groupId: number): Promise<number> {
  return count(q, 'SELECT count(*) AS n FROM key_groups WHERE group_id = @groupId', { groupId });
}

// ---- roles

export async function findRole(q: Queryable, tenantId: string, name: string): Promise<NamedRow | undefined> {
  const row = await q.get<Checked<NamedRow>>(
    `SELECT id, name, builtin, created_at, ${intactSql(q.dialect, ['roles', 'r'])} AS intact
       FROM roles r WHERE tenant_id = @tenantId AND name = @name`,
    { tenantId, name },
  );
  return checked('roles', (r) => r.name, row);
}

export async function insertRole(
  q: Queryable,
  tenantId: string,
  name: string,
  builtin: boolean,
  permissions: string[],
  at: string,
): Promise<number> {
  const id = await insertedId(
    q,
    'INSERT INTO roles (tenant_id, name, builtin, created_at) VALUES (@tenantId, @name, @builtin, @at)',
    { tenantId, name, builtin: builtin ? 1 : 0, at },
  );
  for (const permission of permissions)
    await q.run('INSERT INTO role_permissions (role_id, permission) VALUES (@id, @permission) ON CONFLICT DO NOTHING', {
      id,
      permission,
    });
  return id;
}

export async function deleteRole(q: Queryable, id: number): Promise<void> {
  await q.run('DELETE FROM roles WHERE id = @id', { id });
}

export function listRoles(q: Queryable, tenantId: string): Promise<NamedRow[]> {
  return q.all<NamedRow>('SELECT id, name, builtin, created_at FROM roles WHERE tenant_id = @tenantId ORDER BY name', {
    tenantId,
  });
}

export function rolePermissions(q: Queryable, roleId: number): Promise<string[]> {
  return column(q, 'SELECT permission AS v FROM role_permissions WHERE role_id = @roleId ORDER BY permission', {
    roleId,
  });
}

export function roleUsage(q: Queryable, roleId: number): Promise<number> {
  return count(
    q,
    `SELECT (SELECT count(*) FROM key_roles WHERE role_id = @roleId)
          + (SELECT count(*) FROM group_roles WHERE role_id = @roleId) AS n`,
    { roleId },
  );
}
