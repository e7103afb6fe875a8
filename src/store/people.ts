/**
 * Users, groups, roles and their links. Looking one up by name checks its integrity MAC
 * (integrity.ts); listings for display do not.
 */
import { checked, intactSql } from './integrity.js';
import type { Db } from './open.js';
import { sql } from './statements.js';

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

export function findUser(db: Db, tenantId: string, email: string): UserRow | undefined {
  const row = sql(
    db,
    `SELECT id, tenant_id, email, name, created_at, ${intactSql('users', 'u')} AS intact
       FROM users u WHERE tenant_id = ? AND email = ?`,
  ).get(tenantId, email) as Checked<UserRow> | undefined;
  return checked('users', (u) => u.email, row);
}

export function insertUser(db: Db, tenantId: string, email: string, name: string, at: string): number {
  return Number(
    sql(db, 'INSERT INTO users (tenant_id, email, name, created_at) VALUES (?, ?, ?, ?)').run(tenantId, email, name, at)
      .lastInsertRowid,
  );
}

export function deleteUser(db: Db, id: number): void {
  sql(db, 'DELETE FROM users WHERE id = ?').run(id);
}

export function listUsers(db: Db, tenantId: string): Array<UserRow & { groups: string; key_count: number }> {
  return sql(
    db,
    `SELECT u.*, 
       (SELECT json_group_array(g.name) FROM (SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id
          WHERE m.user_id = u.id ORDER BY g.name) g) AS groups,
       (SELECT count(*) FROM keys k WHERE k.owner_id = u.id) AS key_count
     FROM users u WHERE u.tenant_id = ? ORDER BY u.email`,
  ).all(tenantId) as Array<UserRow & { groups: string; key_count: number }>;
}

export function userGroups(db: Db, userId: number): string[] {
  return (
    sql(
      db,
      'SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name',
    ).all(userId) as Array<{ name: string }>
  ).map((r) => r.name);
}

export function isGroupMember(db: Db, tenantId: string, groupName: string, userId: number): boolean {
  const group = findGroup(db, tenantId, groupName);
  return !!group && !!sql(db, 'SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?').get(group.id, userId);
}

export function groupMemberEmails(db: Db, tenantId: string, groupName: string): string[] {
  const group = findGroup(db, tenantId, groupName);
  return group ? groupMembers(db, group.id) : [];
}

// ---- groups

export function findGroup(db: Db, tenantId: string, name: string): NamedRow | undefined {
  const row = sql(
    db,
    `SELECT id, name, builtin, created_at, ${intactSql('groups', 'g')} AS intact
       FROM groups g WHERE tenant_id = ? AND name = ?`,
  ).get(tenantId, name) as Checked<NamedRow> | undefined;
  return checked('groups', (g) => g.name, row);
}

export function insertGroup(db: Db, tenantId: string, name: string, builtin: boolean, at: string): number {
  return Number(
    sql(db, 'INSERT INTO groups (tenant_id, name, builtin, created_at) VALUES (?, ?, ?, ?)').run(
      tenantId,
      name,
      builtin ? 1 : 0,
      at,
    ).lastInsertRowid,
  );
}

export function deleteGroup(db: Db, id: number): void {
  sql(db, 'DELETE FROM groups WHERE id = ?').run(id);
}

export function listGroups(db: Db, tenantId: string): NamedRow[] {
  return sql(db, 'SELECT id, name, builtin, created_at FROM groups WHERE tenant_id = ? ORDER BY name').all(
    tenantId,
  ) as NamedRow[];
}

export function groupMembers(db: Db, groupId: number): string[] {
  return (
    sql(
      db,
      'SELECT u.email FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.email',
    ).all(groupId) as Array<{ email: string }>
  ).map((r) => r.email);
}

export function groupRoles(db: Db, groupId: number): string[] {
  return (
    sql(
      db,
      'SELECT r.name FROM group_roles gr JOIN roles r ON r.id = gr.role_id WHERE gr.group_id = ? ORDER BY r.name',
    ).all(groupId) as Array<{ name: string }>
  ).map((r) => r.name);
}

export function addGroupMember(db: Db, groupId: number, userId: number): boolean {
  return (
    sql(db, 'INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)').run(groupId, userId).changes > 0
  );
}

export function removeGroupMember(db: Db, groupId: number, userId: number): boolean {
  return sql(db, 'DELETE FROM group_members WHERE group_id = ? AND user_id = ?').run(groupId, userId).changes > 0;
}

export function countGroupMembers(db: Db, groupId: number): number {
  return (sql(db, 'SELECT count(*) AS n FROM group_members WHERE group_id = ?').get(groupId) as { n: number }).n;
}

export function addGroupRole(db: Db, groupId: number, roleId: number): boolean {
  return (
    sql(db, 'INSERT OR IGNORE INTO group_roles (group_id, role_id) VALUES (?, ?)').run(groupId, roleId).changes > 0
  );
}

export function removeGroupRole(db: Db, groupId: number, roleId: number): boolean {
  return sql(db, 'DELETE FROM group_roles WHERE group_id = ? AND role_id = ?').run(groupId, roleId).changes > 0;
}

export function groupMemberRows(db: Db, groupId: number): UserRow[] {
  return sql(
    db,
    'SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.email',
  ).all(groupId) as UserRow[];
}

/** The keys a group is assigned to, in id order. */
export function keyIdsWithGroup(db: Db, groupId: number): string[] {
  return (
    sql(db, 'SELECT key_id FROM key_groups WHERE group_id = ? ORDER BY key_id').all(groupId) as Array<{
      key_id: string;
    }>
  ).map((r) => r.key_id);
}

/** The keys a role reaches, directly or through a group, in id order. */
export function keyIdsWithRole(db: Db, roleId: number): string[] {
  return (
    sql(
      db,
      `SELECT key_id FROM key_roles WHERE role_id = ?
       UNION
       SELECT kg.key_id FROM key_groups kg JOIN group_roles gr ON gr.group_id = kg.group_id WHERE gr.role_id = ?
       ORDER BY 1`,
    ).all(roleId, roleId) as Array<{ key_id: string }>
  ).map((r) => r.key_id);
}

export function keysUsingGroup(db: Db, groupId: number): number {
  return (sql(db, 'SELECT count(*) AS n FROM key_groups WHERE group_id = ?').get(groupId) as { n: number }).n;
}

// ---- roles

export function findRole(db: Db, tenantId: string, name: string): NamedRow | undefined {
  const row = sql(
    db,
    `SELECT id, name, builtin, created_at, ${intactSql('roles', 'r')} AS intact
       FROM roles r WHERE tenant_id = ? AND name = ?`,
  ).get(tenantId, name) as Checked<NamedRow> | undefined;
  return checked('roles', (r) => r.name, row);
}

export function insertRole(
  db: Db,
  tenantId: string,
  name: string,
  builtin: boolean,
  permissions: string[],
  at: string,
): number {
  const id = Number(
    sql(db, 'INSERT INTO roles (tenant_id, name, builtin, created_at) VALUES (?, ?, ?, ?)').run(
      tenantId,
      name,
      builtin ? 1 : 0,
      at,
    ).lastInsertRowid,
  );
  for (const p of permissions)
    sql(db, 'INSERT OR IGNORE INTO role_permissions (role_id, permission) VALUES (?, ?)').run(id, p);
  return id;
}

export function deleteRole(db: Db, id: number): void {
  sql(db, 'DELETE FROM roles WHERE id = ?').run(id);
}

export function listRoles(db: Db, tenantId: string): NamedRow[] {
  return sql(db, 'SELECT id, name, builtin, created_at FROM roles WHERE tenant_id = ? ORDER BY name').all(
    tenantId,
  ) as NamedRow[];
}

export function rolePermissions(db: Db, roleId: number): string[] {
  return (
    sql(db, 'SELECT permission FROM role_permissions WHERE role_id = ? ORDER BY permission').all(roleId) as Array<{
      permission: string;
    }>
  ).map((r) => r.permission);
}

export function roleUsage(db: Db, roleId: number): number {
  return (
    sql(
      db,
      `SELECT (SELECT count(*) FROM key_roles WHERE role_id = ?)
            + (SELECT count(*) FROM group_roles WHERE role_id = ?) AS n`,
    ).get(roleId, roleId) as {
      n: number;
    }
  ).n;
}
