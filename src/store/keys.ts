/**
 * Access keys and their assignments. The lookups that feed decisions check each row's
 * integrity MAC as they read it (integrity.ts) and refuse an altered one.
 */
import type { RoleGrant } from '../core/permissions.js';
import { checked, intactSql, TamperedRecordError } from './integrity.js';
import type { Db } from './open.js';
import { sql } from './statements.js';

export interface KeyRow {
  id: string;
  tenant_id: string;
  name: string;
  type: 'access' | 'api';
  status: 'active' | 'inactive';
  owner_id: number | null;
  owner_email: string | null;
  secret_sealed: Buffer;
  secret_digest: Buffer;
  previous_sealed: Buffer | null;
  previous_digest: Buffer | null;
  previous_valid_until: string | null;
  expires_at: string | null;
  created_at: string;
  created_by: string;
  modified_at: string;
  modified_by: string;
  last_used_at: string | null;
  /** 1 when an administrator deactivated it (and it has not been activated since) */
  deactivated_by_admin: 0 | 1;
}

/** A key as listed: no secret material, assignments folded into JSON arrays by SQLite. */
export type ListedKeyRow = Omit<KeyRow, 'secret_sealed' | 'secret_digest' | 'previous_sealed' | 'previous_digest'> & {
  groups: string;
  roles: string;
  /** effective permissions as a JSON array, when the query asked for them */
  permissions?: string;
};

/** The key, and its owner's user row (whose email the key reports), checked together. */
const SELECT_KEY = `SELECT k.*, u.email AS owner_email,
    (${intactSql('keys', 'k')} AND (u.id IS NULL OR ${intactSql('users', 'u')})) AS intact
  FROM keys k LEFT JOIN users u ON u.id = k.owner_id`;

type ReadKeyRow = KeyRow & { intact: number | null };
const checkedKey = (row: ReadKeyRow | undefined): KeyRow | undefined => checked('keys', (r) => r.id, row);

export function getKey(db: Db, tenantId: string, id: string): KeyRow | undefined {
  return checkedKey(sql(db, `${SELECT_KEY} WHERE k.tenant_id = ? AND k.id = ?`).get(tenantId, id) as ReadKeyRow);
}

/** Any tenant: for credential checks, where the id arrives before we know the tenant. */
export function getKeyById(db: Db, id: string): KeyRow | undefined {
  return checkedKey(sql(db, `${SELECT_KEY} WHERE k.id = ?`).get(id) as ReadKeyRow);
}

export function findKeysByName(db: Db, tenantId: string, name: string): KeyRow[] {
  const rows = sql(db, `${SELECT_KEY} WHERE k.tenant_id = ? AND k.name = ? COLLATE NOCASE LIMIT 5`).all(
    tenantId,
    name,
  ) as ReadKeyRow[];
  return rows.map((row) => checkedKey(row)!);
}

export function nameTaken(db: Db, tenantId: string, ownerId: number | null, name: string): boolean {
  return !!sql(
    db,
    'SELECT 1 FROM keys WHERE tenant_id = ? AND coalesce(owner_id, 0) = ? AND name = ? COLLATE NOCASE',
  ).get(tenantId, ownerId ?? 0, name);
}

export function countOwnedKeys(db: Db, ownerId: number): number {
  return (sql(db, 'SELECT count(*) AS n FROM keys WHERE owner_id = ?').get(ownerId) as { n: number }).n;
}

export interface NewKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  type: 'access' | 'api';
  owner_id: number | null;
  secret_sealed: Buffer;
  secret_digest: Buffer;
  expires_at: string | null;
  at: string;
  by: string;
}

export function insertKey(db: Db, row: NewKeyRow): void {
  sql(
    db,
    `INSERT INTO keys (id, tenant_id, name, type, status, owner_id, secret_sealed, secret_digest, expires_at,
                       created_at, created_by, modified_at, modified_by)
     VALUES (@id, @tenant_id, @name, @type, 'active', @owner_id, @secret_sealed, @secret_digest, @expires_at,
             @at, @by, @at, @by)`,
  ).run(row);
}

export function updateExpiry(db: Db, id: string, expiresAt: string | null, at: string, by: string): void {
  sql(db, 'UPDATE keys SET expires_at = ?, modified_at = ?, modified_by = ? WHERE id = ?').run(expiresAt, at, by, id);
}

/** `byAdmin`: an administrator deactivated it (only one re-activates it); activating clears it. */
export function updateStatus(
  db: Db,
  id: string,
  status: 'active' | 'inactive',
  byAdmin: boolean,
  at: string,
  by: string,
): void {
  sql(db, 'UPDATE keys SET status = ?, deactivated_by_admin = ?, modified_at = ?, modified_by = ? WHERE id = ?').run(
    status,
    status === 'inactive' && byAdmin ? 1 : 0,
    at,
    by,
    id,
  );
}

export function touchKey(db: Db, id: string, at: string, by: string): void {
  sql(db, 'UPDATE keys SET modified_at = ?, modified_by = ? WHERE id = ?').run(at, by, id);
}

/**
 * The new secret replaces the current one. The current one stays usable until
 * `previousValidUntil` (null: not at all); its digest is kept either way, so `verify --explain`
 * can recognise an old secret (a digest cannot authenticate anything by itself).
 */
export function replaceSecret(
  db: Db,
  id: string,
  next: { sealed: Buffer; digest: Buffer },
  previousValidUntil: string | null,
  at: string,
  by: string,
): void {
  sql(
    db,
    `UPDATE keys SET
       previous_sealed      = CASE WHEN @until IS NULL THEN NULL ELSE secret_sealed END,
       previous_digest      = secret_digest,
       previous_valid_until = @until,
       secret_sealed = @sealed, secret_digest = @digest, modified_at = @at, modified_by = @by
     WHERE id = @id`,
  ).run({ id, sealed: next.sealed, digest: next.digest, until: previousValidUntil, at, by });
}

export function deleteKey(db: Db, id: string): void {
  sql(db, 'DELETE FROM keys WHERE id = ?').run(id);
}

export function setLastUsed(db: Db, id: string, at: string): void {
  sql(db, 'UPDATE keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(
    at,
    id,
    at,
  );
}

type NamedCheck = { name: string; intact: number | null };

export function keyGroupNames(db: Db, keyId: string): string[] {
  return (
    sql(
      db,
      `SELECT g.name, ${intactSql('groups', 'g')} AS intact
         FROM key_groups kg JOIN groups g ON g.id = kg.group_id WHERE kg.key_id = ? ORDER BY g.name`,
    ).all(keyId) as NamedCheck[]
  ).map((r) => checked('groups', (g) => g.name, r)!.name);
}

export function keyRoleNames(db: Db, keyId: string): string[] {
  return (
    sql(
      db,
      `SELECT r.name, ${intactSql('roles', 'r')} AS intact
         FROM key_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = ? ORDER BY r.name`,
    ).all(keyId) as NamedCheck[]
  ).map((r) => checked('roles', (x) => x.name, r)!.name);
}

export function addKeyGroup(db: Db, keyId: string, groupId: number): boolean {
  return sql(db, 'INSERT OR IGNORE INTO key_groups (key_id, group_id) VALUES (?, ?)').run(keyId, groupId).changes > 0;
}
export function removeKeyGroup(db: Db, keyId: string, groupId: number): boolean {
  return sql(db, 'DELETE FROM key_groups WHERE key_id = ? AND group_id = ?').run(keyId, groupId).changes > 0;
}
export function addKeyRole(db: Db, keyId: string, roleId: number): boolean {
  return sql(db, 'INSERT OR IGNORE INTO key_roles (key_id, role_id) VALUES (?, ?)').run(keyId, roleId).changes > 0;
}
export function removeKeyRole(db: Db, keyId: string, roleId: number): boolean {
  return sql(db, 'DELETE FROM key_roles WHERE key_id = ? AND role_id = ?').run(keyId, roleId).changes > 0;
}

/**
 * Direct roles and roles through groups, each with its permissions: the input of
 * core/permissions. Every role and group on the way is checked (the key's own row, which
 * covers which roles and groups it has, is checked where it is read).
 */
export function keyRoleGrants(db: Db, keyId: string): RoleGrant[] {
  const rows = sql(
    db,
    `SELECT r.name AS role, NULL AS via,
            (SELECT json_group_array(permission) FROM role_permissions WHERE role_id = r.id) AS perms,
            ${intactSql('roles', 'r')} AS role_ok, 1 AS group_ok
       FROM key_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = ?
     UNION ALL
     SELECT r.name, g.name, (SELECT json_group_array(permission) FROM role_permissions WHERE role_id = r.id),
            ${intactSql('roles', 'r')}, ${intactSql('groups', 'g')}
       FROM key_groups kg
       JOIN groups g ON g.id = kg.group_id
       JOIN group_roles gr ON gr.group_id = g.id
       JOIN roles r ON r.id = gr.role_id
      WHERE kg.key_id = ?`,
  ).all(keyId, keyId) as Array<{
    role: string;
    via: string | null;
    perms: string;
    role_ok: number | null;
    group_ok: number | null;
  }>;
  return rows.map((r) => {
    if (r.group_ok === 0) throw new TamperedRecordError('groups', r.via ?? '');
    if (r.role_ok === 0) throw new TamperedRecordError('roles', r.role);
    return { role: r.role, viaGroup: r.via, permissions: JSON.parse(r.perms) as string[] };
  });
}

export interface ListQuery {
  tenantId: string;
  now: string;
  status?: 'active' | 'inactive' | 'expired';
  type?: 'access' | 'api';
  ownerId?: number;
  expiringBefore?: string;
  /** keyset cursor: (created_at, id) of the last row of the previous page */
  after?: { createdAt: string; id: string };
  limit: number;
  /** add each key's effective permissions (what keyRoleGrants resolves, as one JSON array) */
  withPermissions?: boolean;
}

const EFFECTIVE_PERMISSIONS = `(SELECT json_group_array(permission) FROM (
          SELECT rp.permission FROM key_roles kr JOIN role_permissions rp ON rp.role_id = kr.role_id
            WHERE kr.key_id = k.id
          UNION
          SELECT rp.permission FROM key_groups kg JOIN group_roles gr ON gr.group_id = kg.group_id
            JOIN role_permissions rp ON rp.role_id = gr.role_id WHERE kg.key_id = k.id)) AS permissions,`;

/**
 * One page of keys in (created_at, id) order. Keyset paging keeps each page an index range
 * scan, so listing 100,000 keys costs the same per page as listing 100.
 */
export function listKeys(db: Db, q: ListQuery): ListedKeyRow[] {
  const where = ['k.tenant_id = @tenantId'];
  if (q.status === 'expired') where.push('k.expires_at IS NOT NULL AND k.expires_at <= @now');
  else if (q.status) where.push('k.status = @status AND (k.expires_at IS NULL OR k.expires_at > @now)');
  if (q.type) where.push('k.type = @type');
  if (q.ownerId !== undefined) where.push('k.owner_id = @ownerId');
  if (q.expiringBefore)
    where.push('k.expires_at IS NOT NULL AND k.expires_at > @now AND k.expires_at <= @expiringBefore');
  if (q.after) where.push('(k.created_at, k.id) > (@afterAt, @afterId)');
  const text = `SELECT k.id, k.tenant_id, k.name, k.type, k.status, k.owner_id, u.email AS owner_email,
        k.previous_valid_until, k.expires_at, k.created_at, k.created_by, k.modified_at, k.modified_by, k.last_used_at,
        k.deactivated_by_admin,
        ${q.withPermissions ? EFFECTIVE_PERMISSIONS : ''}
        CASE WHEN EXISTS (SELECT 1 FROM key_groups WHERE key_id = k.id)
          THEN (SELECT json_group_array(name) FROM (
                  SELECT g.name FROM key_groups kg JOIN groups g ON g.id = kg.group_id
                   WHERE kg.key_id = k.id ORDER BY g.name))
          ELSE '[]' END AS groups,
        CASE WHEN EXISTS (SELECT 1 FROM key_roles WHERE key_id = k.id)
          THEN (SELECT json_group_array(name) FROM (
                  SELECT r.name FROM key_roles kr JOIN roles r ON r.id = kr.role_id
                   WHERE kr.key_id = k.id ORDER BY r.name))
          ELSE '[]' END AS roles
     FROM keys k LEFT JOIN users u ON u.id = k.owner_id
     WHERE ${where.join(' AND ')}
     ORDER BY k.created_at, k.id
     LIMIT @limit`;
  return sql(db, text).all({
    tenantId: q.tenantId,
    now: q.now,
    status: q.status,
    type: q.type,
    ownerId: q.ownerId,
    expiringBefore: q.expiringBefore,
    afterAt: q.after?.createdAt,
    afterId: q.after?.id,
    limit: q.limit,
  }) as ListedKeyRow[];
}
