/**
 * Access keys. The lookups that feed decisions check each row's integrity MAC as they read it
 * (integrity.ts) and refuse an altered one. Listing: keyListing.ts; groups and roles: keyAssignments.ts.
 */
import { checked, intactSql } from './integrity.js';
import type { Dialect, Queryable } from './types.js';

export interface KeyRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
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
  /** when the current secret was made; null only for a row written by an akm from before it was kept */
  secret_created_at: string | null;
  /** 1 when an administrator deactivated it (and it has not been activated since) */
  deactivated_by_admin: 0 | 1;
  /** 1: a canary key, which never authenticates; null: an ordinary key */
  canary: 1 | null;
  /** with status inactive: the end of a brownout (active again from then on); null: until activated */
  inactive_until: string | null;
  /** which secret this is: 1 at creation, +1 per rotation */
  secret_generation: number;
  /** who made the last rotation (when: secret_created_at) */
  rotated_by: string | null;
  /** an automatic grace: the quiet period, and when it runs out unless the old secret is used */
  grace_quiet_ms: number | null;
  previous_quiet_until: string | null;
}

/** A key as listed: no secret material, assignments folded into JSON arrays (as text) by the query. */
export type ListedKeyRow = Omit<KeyRow, 'secret_sealed' | 'secret_digest' | 'previous_sealed' | 'previous_digest'> & {
  groups: string;
  roles: string;
  /** effective permissions as a JSON array, when the query asked for them */
  permissions?: string;
  /** 1 when the key holds any permission, when the query asked (cheaper than the list) */
  any_permission?: number;
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

/** Names are unique per owner, and canaries (tenant-level) have names of their own. */
export async function nameTaken(
  q: Queryable,
  tenantId: string,
  owner: { ownerId: number | null; canary: boolean },
  name: string,
): Promise<boolean> {
  const row = await q.get(
    `SELECT 1 AS taken FROM keys
      WHERE tenant_id = @tenantId AND coalesce(owner_id, 0) = @ownerId AND coalesce(canary, 0) = @canary
        AND name = @name COLLATE NOCASE`,
    { tenantId, ownerId: owner.ownerId ?? 0, canary: owner.canary ? 1 : 0, name },
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
  description: string;
  type: 'access' | 'api';
  owner_id: number | null;
  secret_sealed: Buffer;
  secret_digest: Buffer;
  expires_at: string | null;
  /** 1 for a canary key */
  canary: 1 | null;
  at: string;
  by: string;
}

export async function insertKey(q: Queryable, row: NewKeyRow): Promise<void> {
  await q.run(
    `INSERT INTO keys (id, tenant_id, name, description, type, status, owner_id, secret_sealed, secret_digest,
                       expires_at, canary, created_at, created_by, modified_at, modified_by, secret_created_at)
     VALUES (@id, @tenant_id, @name, @description, @type, 'active', @owner_id, @secret_sealed, @secret_digest,
             @expires_at, @canary, @at, @by, @at, @by, @at)`,
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

/** A new name or description (each for people only): what is absent stays. */
export async function updateLabels(
  q: Queryable,
  id: string,
  labels: { name: string; description: string },
  at: string,
  by: string,
): Promise<void> {
  await q.run(
    `UPDATE keys SET name = @name, description = @description, modified_at = @at, modified_by = @by
      WHERE id = @id`,
    { ...labels, at, by, id },
  );
}

/**
 * `byAdmin`: an administrator deactivated it (only one re-activates it); activating clears it.
 * `inactiveUntil`: a brownout's end (inactive only until then); null: until activated.
 */
export async function updateStatus(
  q: Queryable,
  id: string,
  change: { status: 'active' | 'inactive'; byAdmin: boolean; inactiveUntil: string | null },
  at: string,
  by: string,
): Promise<void> {
  const inactive = change.status === 'inactive';
  await q.run(
    `UPDATE keys SET status = @status, deactivated_by_admin = @byAdmin, inactive_until = @until,
                     modified_at = @at, modified_by = @by
      WHERE id = @id`,
    {
      status: change.status,
      byAdmin: inactive && change.byAdmin ? 1 : 0,
      until: inactive ? change.inactiveUntil : null,
      at,
      by,
      id,
    },
  );
}

export async function touchKey(q: Queryable, id: string, at: string, by: string): Promise<void> {
  await q.run('UPDATE keys SET modified_at = @at, modified_by = @by WHERE id = @id', { at, by, id });
}

/** The previous secret's grace as a rotation starts it (core/grace.ts): all null for none. */
export interface GraceColumns {
  validUntil: string | null;
  quietForMs: number | null;
  quietUntil: string | null;
}

/**
 * The new secret replaces the current one. The current one stays usable during the grace
 * (none: not at all); its digest is kept either way, so `verify --explain` can recognise an old
 * secret (a digest cannot authenticate anything by itself). The secret's generation moves on,
 * so uses recorded later stay attached to the secret they were made with.
 */
export async function replaceSecret(
  q: Queryable,
  id: string,
  next: { sealed: Buffer; digest: Buffer },
  grace: GraceColumns,
  at: string,
  by: string,
): Promise<void> {
  await q.run(
    `UPDATE keys SET
       previous_sealed      = CASE WHEN CAST(@until AS TEXT) IS NULL THEN NULL ELSE secret_sealed END,
       previous_digest      = secret_digest,
       previous_valid_until = @until,
       grace_quiet_ms       = @quietMs,
       previous_quiet_until = @quietUntil,
       secret_sealed = @sealed, secret_digest = @digest, secret_created_at = @at,
       secret_generation = secret_generation + 1, rotated_by = @by, modified_at = @at, modified_by = @by
     WHERE id = @id`,
    {
      id,
      sealed: next.sealed,
      digest: next.digest,
      until: grace.validUntil,
      quietMs: grace.quietForMs,
      quietUntil: grace.quietUntil,
      at,
      by,
    },
  );
}

/** `rotate --finish`: the previous secret stops now (erased as an ended grace is: the digest stays for --explain). */
export async function endGrace(q: Queryable, id: string, at: string, by: string): Promise<void> {
  await q.run(
    `UPDATE keys SET previous_sealed = NULL, previous_valid_until = NULL, grace_quiet_ms = NULL,
                     previous_quiet_until = NULL, modified_at = @at, modified_by = @by
      WHERE id = @id`,
    { id, at, by },
  );
}

/**
 * A use of the previous secret moves its quiet period on: a new end, only ever later, and only
 * while the grace lasts (`usedAt` before both ends). False when nothing changed.
 */
export async function extendQuiet(
  q: Queryable,
  id: string,
  generation: number,
  usedAt: string,
  quietUntil: string,
): Promise<boolean> {
  const changed = await q.run(
    `UPDATE keys SET previous_quiet_until = @quietUntil
      WHERE id = @id AND secret_generation = @generation
        AND previous_quiet_until IS NOT NULL AND previous_quiet_until > @usedAt AND previous_quiet_until < @quietUntil
        AND previous_valid_until IS NOT NULL AND previous_valid_until > @usedAt`,
    { id, generation, usedAt, quietUntil },
  );
  return changed > 0;
}

/** What a notice about a key names, read without its integrity check (it decides nothing). */
export function keyLabels(
  q: Queryable,
  id: string,
): Promise<Pick<KeyRow, 'id' | 'tenant_id' | 'name' | 'owner_email' | 'rotated_by'> | undefined> {
  return q.get(
    `SELECT k.id, k.tenant_id, k.name, u.email AS owner_email, k.rotated_by
       FROM keys k LEFT JOIN users u ON u.id = k.owner_id WHERE k.id = @id`,
    { id },
  );
}

/** Keys whose brownout has ended (of a tenant; null: every tenant), with their integrity check. */
export function lapsedBrownouts(
  q: Queryable,
  tenantId: string | null,
  now: string,
): Promise<
  Array<Pick<KeyRow, 'id' | 'tenant_id' | 'name' | 'owner_email' | 'inactive_until'> & { intact: number | null }>
> {
  return q.all(
    `SELECT k.id, k.tenant_id, k.name, (SELECT u.email FROM users u WHERE u.id = k.owner_id) AS owner_email,
            k.inactive_until, ${intactSql(q.dialect, ['keys', 'k'])} AS intact
       FROM keys k
      WHERE k.status = 'inactive' AND k.inactive_until IS NOT NULL AND k.inactive_until <= @now
        AND (CAST(@tenantId AS TEXT) IS NULL OR k.tenant_id = @tenantId)
      ORDER BY k.id ${q.dialect.forUpdate}`,
    { tenantId, now },
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
