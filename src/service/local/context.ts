/**
 * What every local operation needs: the open store, the tenant, the actor, the clock and the
 * keys derived from the master key (loaded on first use: listing needs no key at all).
 */
import { UsageError } from '../../core/errors.js';
import { isExpired } from '../../core/expiry.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import type { KeyRow, ListedKeyRow } from '../../store/keys.js';
import type { Db } from '../../store/open.js';
import { writeTransaction } from '../../store/statements.js';
import type { TenantRow } from '../../store/tenants.js';
import type { KeyView } from '../types.js';
import type { Actor } from './actor.js';

export interface LocalContext {
  db: Db;
  storePath: string;
  tenant: TenantRow;
  actor: Actor;
  now: () => Date;
  keys: () => DerivedKeys;
  /** recorded in the audit trail: "cli:<os user>@<host>" or "http:<address>" */
  source: string;
  /** how a successful verification stamps lastUsedAt; the server batches these */
  recordUse: (accessKeyId: string, at: string) => void;
}

/**
 * A change: the keys are loaded first, so every row the change reads or writes is checked
 * against its integrity MAC (store/integrity.ts) before anything is decided.
 */
export function inTransaction<T>(ctx: LocalContext, work: () => T): T {
  ctx.keys();
  return writeTransaction(ctx.db, work, ctx.now());
}

/**
 * Whose key it is when the caller did not say: a user who is not an administrator creates keys
 * for themselves. Anyone else (an administrator, a tenant-level key) must say, since the owner
 * decides the limit and who may act on the key.
 */
export function defaultOwner(ctx: LocalContext): string {
  if (!ctx.actor.admin && ctx.actor.userId !== null) return ctx.actor.label;
  throw new UsageError('missing --owner <email> or --tenant-level', {
    hint: 'say who owns the key: a user (at most 2 keys each), or nobody for a tenant-level key',
    code: 'missing_flag',
  });
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/** A caller's page size for the inbox and the audit trail: a whole number from 1 to 1,000. */
export function pageLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_LIMIT)
    throw new UsageError(`the limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  return value;
}

export function keyStatus(row: Pick<KeyRow, 'status' | 'expires_at'>, now: Date): KeyView['status'] {
  if (isExpired(row.expires_at, now)) return 'expired';
  return row.status;
}

export function toKeyView(row: KeyRow | ListedKeyRow, groups: string[], roles: string[], now: Date): KeyView {
  return {
    accessKeyId: row.id,
    name: row.name,
    // Phase 1 of the governance work: the store has no description or secret date yet.
    description: '',
    type: row.type,
    status: keyStatus(row, now),
    tenantId: row.tenant_id,
    owner: row.owner_email,
    groups,
    roles,
    createdAt: row.created_at,
    createdBy: row.created_by,
    modifiedAt: row.modified_at,
    modifiedBy: row.modified_by,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    secretCreatedAt: row.created_at,
  };
}
