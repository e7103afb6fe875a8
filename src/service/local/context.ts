/**
 * What every local operation needs: the store, the tenant, the actor, the clock and the keys
 * derived from the master key (loaded on first use: listing needs no key at all).
 *
 * Every query runs inside `reading` or `writing`, through the scope they hand over: a
 * transaction's queries all go through its `q`, and nothing inside one opens another.
 */
import { inBrownout, statusAt } from '../../core/brownout.js';
import { UsageError } from '../../core/errors.js';
import { isExpired } from '../../core/expiry.js';
import type { UseSource } from '../../core/source.js';
import type { Use } from '../../core/usage.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import type { MasterKeyOptions } from '../../crypto/masterKey.js';
import type { KeyRow, ListedKeyRow } from '../../store/keys.js';
import type { TenantRow } from '../../store/tenants.js';
import type { Queryable, Store } from '../../store/types.js';
import type { KeyView } from '../types.js';
import type { Actor } from './actor.js';
import { settleLapses } from './lapses.js';

export interface LocalContext {
  store: Store;
  tenant: TenantRow;
  actor: Actor;
  now: () => Date;
  /** where the master key comes from (keychain, AKM_MASTER_KEY, a file) */
  masterKey: MasterKeyOptions;
  /** the keys derived from the master key, checked against the store (loaded once, on first use) */
  loadKeys: () => Promise<DerivedKeys>;
  /** recorded in the audit trail: "cli:<os user>@<host>" or "http:<address>" */
  source: string;
  /**
   * A use of a secret (or an attempt refused during a brownout) seen by a verification or a
   * sign-in: the server tallies these in memory and writes them once a second. The CLI's own
   * `verify` is a check, not a use: it records nothing.
   */
  recordUse: (use: Use) => void | Promise<void>;
  /** Someone tried a canary key: the alarm (service/local/canary.ts), never on the answer's path. */
  onCanary: (trip: CanaryTrip) => void | Promise<void>;
}

/** An attempt on a canary key: where it came from, and whether it held the canary's own secret. */
export interface CanaryTrip {
  accessKeyId: string;
  tenantId: string;
  at: string;
  source: UseSource;
  /** signin: a signed request to akm serve; verify: POST /v1/verify; local: akm verify on the store */
  path: 'signin' | 'verify' | 'local';
  secretMatched: boolean;
}

/** Inside one transaction: every query goes through `q`. */
export interface Scope extends LocalContext {
  q: Queryable;
}

/**
 * With the keys loaded before the transaction began: every covered row read through `q` is
 * checked against its integrity MAC (store/integrity.ts). The lookups that feed decisions
 * (lookups.ts) take only this.
 */
export interface CheckedScope extends Scope {
  keys: DerivedKeys;
}

/** A write transaction: checked, and recording a change needs the keys too. */
export interface WriteScope extends CheckedScope {
  readonly writable: true;
}

/** One consistent snapshot of the store, unchecked: listings for display, which need no master key. */
export function reading<T>(ctx: LocalContext, work: (s: Scope) => Promise<T>): Promise<T> {
  return ctx.store.read((q) => work({ ...ctx, q }));
}

/** One consistent snapshot, with the keys loaded first so that what is read is checked. */
export async function checking<T>(ctx: LocalContext, work: (s: CheckedScope) => Promise<T>): Promise<T> {
  const keys = await ctx.loadKeys();
  return ctx.store.read((q) => work({ ...ctx, q, keys }));
}

/**
 * One write transaction of the tenant: no other writer of the tenant runs until it ends. The
 * keys are loaded first, so every row the change reads or writes is checked against its
 * integrity MAC before anything is decided.
 */
export async function writing<T>(ctx: LocalContext, work: (s: WriteScope) => Promise<T>): Promise<T> {
  const keys = await ctx.loadKeys();
  return ctx.store.write(
    ctx.tenant.id,
    async (q) => {
      const s: WriteScope = { ...ctx, q, keys, writable: true };
      // What ended by itself since the last write (graces, brownouts) is recorded first.
      await settleLapses(s, ctx.tenant.id);
      return work(s);
    },
    { now: ctx.now() },
  );
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

/** Expired, else the status at `now` (a brownout that has ended is active again). */
export function keyStatus(row: Pick<KeyRow, 'status' | 'expires_at' | 'inactive_until'>, now: Date): KeyView['status'] {
  if (isExpired(row.expires_at, now)) return 'expired';
  return statusAt(row.status, row.inactive_until, now);
}

export function toKeyView(row: KeyRow | ListedKeyRow, groups: string[], roles: string[], now: Date): KeyView {
  return {
    accessKeyId: row.id,
    name: row.name,
    description: row.description,
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
    secretCreatedAt: row.secret_created_at ?? row.created_at,
    canary: row.canary === 1,
    inactiveUntil: inBrownout(row.status, row.inactive_until, now) ? row.inactive_until : null,
  };
}
