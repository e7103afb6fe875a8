/**
 * Access keys and their assignments. The lookups that feed decisions check each row's
 * integrity MAC as they read it (integrity.ts) and refuse an altered one.
 */
import type { RoleGrant } from '../core/permissions.js';
import { checked, intactSql, TamperedRecordError } from './integrity.js';
import type { Dialect, Queryable } from './types.js';

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

/** A key as listed: no secret material, assignments folded into JSON arrays (as text) by the query. */
export type ListedKeyRow = Omit<KeyRow, 'secret_sealed' | 'secret_digest' | 'previous_sealed' | 'previous_digest'> & {
  groups: string;
  roles: string;
  /** effective permissions as a JSON array, when the query asked for them */
  permissions?: string;
};

/** The key, and its owner's user row (whose email the key reports), checked together. */
const selectKey = (d: Dialect) => `SELECT k.*, u.email AS owner_email,
    ${intactSql(d, ['keys', 'k'], ['users', 'u', 'u.id IS NOT NULL'])} AS intact
  FROM keys k LEFT JOIN users u ON u.id = k.owner_id`;

type ReadKeyRow = KeyRow & { intact: number | null };
const checkedKey = (row: ReadKeyRow | undefined): KeyRow | undefined => checked('keys', (r) => r.id, row);

export async function getKey(q: Queryable, tenantId: string, id: string): Promise<KeyRow | undefined> {
  return checkedKey(
    await q.get<ReadKeyRow>(`${selectKey(q.dialect)} WHERE k.tenant_id = @tenantId AND k.id = @id`, { tenantId, id }),
  );
}

/** Any tenant: for credential checks, where the id arrives before we know the tenant. */
export async function getKeyById(q: Queryable, id: string): Promise<KeyRow | undefined> {
  return checkedKey(await q.get<ReadKeyRow>(`${selectKey(q.dialect)} WHERE k.id = @id`, { id }));
}

export async function findKeysByName(q: Queryable, tenantId: string, name: string): Promise<KeyRow[]> {
  const rows = await q.all<ReadKeyRow>(
    `${selectKey(q.dialect)} WHERE k.tenant_id = @tenantId AND k.name = @name COLLATE NOCASE LIMIT 5`,
    { tenantId, name },
  );
  return rows.map((row) => checkedKey(row)!);
}

export async function nameTaken(
  q: Queryable,
  tenantId: string,
  ownerId: number | null,
  name: string,
): Promise<boolean> {
  const row = await q.get(
    `SELECT 1 AS taken FROM keys
      WHERE tenant_id = @tenantId AND coalesce(owner_id, 0) = @ownerId AND name = @name COLLATE NOCASE`,
    { tenantId, ownerId: ownerId ?? 0, name },
  );
  return row !== undefined;
}

export async function countOwnedKeys(q: Queryable, ownerId: number): Promise<number> {
  return (await q.get<{ n: number }>('SELECT count(*) AS n FROM keys WHERE owner_id = @ownerId', { ownerId }))!.n;
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

export async function insertKey(q: Queryable, row: NewKeyRow): Promise<void> {
  await q.run(
    `INSERT INTO keys (id, tenant_id, name, type, status, owner_id, secret_sealed, secret_digest, expires_at,
                       created_at, created_by, modified_at, modified_by)
     VALUES (@id, @tenant_id, @name, @type, 'active', @owner_id, @secret_sealed, @secret_digest, @expires_at,
             @at, @by, @at, @by)`,
    { ...row },
  );
}

export async function updateExpiry(
  q: Queryable,
  id: string,
  expiresAt: string | null,
  at: string,
  by: string,
): Promise<void> {
  await q.run('UPDATE keys SET expires_at = @expiresAt, modified_at = @at, modified_by = @by WHERE id = @id', {
    expiresAt,
    at,
    by,
    id,
  });
}

/** `byAdmin`: an administrator deactivated it (only one re-activates it); activating clears it. */
export async function updateStatus(
  q: Queryable,
  id: string,
  status: 'active' | 'inactive',
  byAdmin: boolean,
  at: string,
  by: string,
): Promise<void> {
  await q.run(
    `UPDATE keys SET status = @status, deactivated_by_admin = @byAdmin, modified_at = @at, modified_by = @by
      WHERE id = @id`,
    { status, byAdmin: status === 'inactive' && byAdmin ? 1 : 0, at, by, id },
  );
}

export async function touchKey(q: Queryable, id: string, at: string, by: string): Promise<void> {
  await q.run('UPDATE keys SET modified_at = @at, modified_by = @by WHERE id = @id', { at, by, id });
}

/**
 * The new secret replaces the current one. The current one stays usable until
 * `previousValidUntil` (null: not at all); its digest is kept either way, so `verify --explain`
 * can recognise an old secret (a digest cannot authenticate anything by itself).
 */
export async function replaceSecret(
  q: Queryable,
  id: string,
  next: { sealed: Buffer; digest: Buffer },
  previousValidUntil: string | null,
  at: string,
  by: string,
): Promise<void> {
  await q.run(
    `UPDATE keys SET
       previous_sealed      = CASE WHEN CAST(@until AS TEXT) IS NULL THEN NULL ELSE secret_sealed END,
       previous_digest      = secret_digest,
       previous_valid_until = @until,
       secret_sealed = @sealed, secret_digest = @digest, modified_at = @at, modified_by = @by
     WHERE id = @id`,
    { id, sealed: next.sealed, digest: next.digest, until: previousValidUntil, at, by },
  );
}

/**
 * What a master key rotation re-seals: every tenant's keys in id order, a batch at a time. (No
 * row locks: the rotation holds the master key's check value, which every writer waits for.)
 */
export interface SealedSecretsRow {
  id: string;
  tenant_id: string;
  secret_sealed: Buffer;
  previous_sealed: Buffer | null;
}

export function sealedSecrets(q: Queryable, afterId: string, limit: number): Promise<SealedSecretsRow[]> {
  return q.all<SealedSecretsRow>(
    'SELECT id, tenant_id, secret_sealed, previous_sealed FROM keys WHERE id > @afterId ORDER BY id LIMIT @limit',
    { afterId, limit },
  );
}

/** The same secrets sealed and digested under another master key. */
export async function resealSecrets(
  q: Queryable,
  id: string,
  sealed: {
    secret_sealed: Buffer;
    secret_digest: Buffer;
    previous_sealed: Buffer | null;
    previous_digest: Buffer | null;
  },
): Promise<void> {
  await q.run(
    `UPDATE keys SET secret_sealed = @secret_sealed, secret_digest = @secret_digest,
                     previous_sealed = @previous_sealed, previous_digest = @previous_digest
      WHERE id = @id`,
    { id, ...sealed },
  );
}

export async function deleteKey(q: Queryable, id: string): Promise<void> {
  await q.run('DELETE FROM keys WHERE id = @id', { id });
}

export async function setLastUsed(q: Queryable, id: string, at: string): Promise<void> {
  await q.run('UPDATE keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)', {
    at,
    id,
  });
}

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

/** Every permission a key holds, directly or through a group, as the column `v` ordered: for jsonList. */
const EFFECTIVE_PERMISSIONS = `SELECT v FROM (
          SELECT rp.permission AS v FROM key_roles kr JOIN role_permissions rp ON rp.role_id = kr.role_id
            WHERE kr.key_id = k.id
          UNION
          SELECT rp.permission FROM key_groups kg JOIN group_roles gr ON gr.group_id = kg.group_id
            JOIN role_permissions rp ON rp.role_id = gr.role_id WHERE kg.key_id = k.id) p ORDER BY v`;

/**
 * One page of keys in (created_at, id) order. Keyset paging keeps each page an index range
 * scan, so listing 100,000 keys costs the same per page as listing 100.
 */
export function listKeys(q: Queryable, query: ListQuery): Promise<ListedKeyRow[]> {
  const where = ['k.tenant_id = @tenantId'];
  if (query.status === 'expired') where.push('k.expires_at IS NOT NULL AND k.expires_at <= @now');
  else if (query.status) where.push('k.status = @status AND (k.expires_at IS NULL OR k.expires_at > @now)');
  if (query.type) where.push('k.type = @type');
  if (query.ownerId !== undefined) where.push('k.owner_id = @ownerId');
  if (query.expiringBefore)
    where.push('k.expires_at IS NOT NULL AND k.expires_at > @now AND k.expires_at <= @expiringBefore');
  if (query.after) where.push('(k.created_at, k.id) > (@afterAt, @afterId)');
  const groups = q.dialect.jsonList(
    'SELECT g.name AS v FROM key_groups kg JOIN groups g ON g.id = kg.group_id WHERE kg.key_id = k.id ORDER BY g.name',
  );
  const roles = q.dialect.jsonList(
    'SELECT r.name AS v FROM key_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = k.id ORDER BY r.name',
  );
  const permissions = query.withPermissions ? `${q.dialect.jsonList(EFFECTIVE_PERMISSIONS)} AS permissions,` : '';
  const text = `SELECT k.id, k.tenant_id, k.name, k.type, k.status, k.owner_id, u.email AS owner_email,
        k.previous_valid_until, k.expires_at, k.created_at, k.created_by, k.modified_at, k.modified_by, k.last_used_at,
        k.deactivated_by_admin, ${permissions}
        CASE WHEN EXISTS (SELECT 1 FROM key_groups WHERE key_id = k.id) THEN ${groups} ELSE '[]' END AS groups,
        CASE WHEN EXISTS (SELECT 1 FROM key_roles WHERE key_id = k.id) THEN ${roles} ELSE '[]' END AS roles
     FROM keys k LEFT JOIN users u ON u.id = k.owner_id
     WHERE ${where.join(' AND ')}
     ORDER BY k.created_at, k.id
     LIMIT @limit`;
  return q.all<ListedKeyRow>(text, {
    tenantId: query.tenantId,
    now: query.now,
    status: query.status,
    type: query.type,
    ownerId: query.ownerId,
    expiringBefore: query.expiringBefore,
    afterAt: query.after?.createdAt,
    afterId: query.after?.id,
    limit: query.limit,
  });
}
