/**
 * Expiry notices and the mail outbox. Planning (a notice per key and expiry date, a row per
 * recipient) happens in a write transaction of the tenant, so concurrent runs never plan the
 * same mail twice; sending goes through claims (claims.ts), so they never send it twice.
 */
import { claimRows, DUE, settleClaim } from './claims.js';
import type { Params, Queryable } from './types.js';

export interface ExpiringKeyRow {
  id: string;
  name: string;
  expires_at: string;
  created_by: string;
  modified_by: string;
  owner_email: string | null;
  creator_is_user: number;
  modifier_is_user: number;
}

/** Active keys expiring in (now, until] that have no notice yet for their current expiry date. */
export function expiringWithoutNotice(
  q: Queryable,
  tenantId: string,
  now: string,
  until: string,
): Promise<ExpiringKeyRow[]> {
  return q.all<ExpiringKeyRow>(
    `SELECT k.id, k.name, k.expires_at, k.created_by, k.modified_by, u.email AS owner_email,
            CASE WHEN EXISTS (SELECT 1 FROM users x
                               WHERE x.tenant_id = k.tenant_id AND x.email = k.created_by COLLATE NOCASE)
              THEN 1 ELSE 0 END AS creator_is_user,
            CASE WHEN EXISTS (SELECT 1 FROM users x
                               WHERE x.tenant_id = k.tenant_id AND x.email = k.modified_by COLLATE NOCASE)
              THEN 1 ELSE 0 END AS modifier_is_user
       FROM keys k LEFT JOIN users u ON u.id = k.owner_id
      WHERE k.tenant_id = @tenantId AND k.status = 'active'
        AND k.expires_at IS NOT NULL AND k.expires_at > @now AND k.expires_at <= @until
        AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.key_id = k.id AND n.expires_at = k.expires_at)
      ORDER BY k.expires_at, k.id`,
    { tenantId, now, until },
  );
}

/** False when the notice already exists: another run planned this key and date first. */
export async function insertExpiryNotice(
  q: Queryable,
  n: { keyId: string; expiresAt: string; tenantId: string; at: string },
): Promise<boolean> {
  const written = await q.run(
    `INSERT INTO expiry_notices (key_id, expires_at, tenant_id, planned_at) VALUES (@keyId, @expiresAt, @tenantId, @at)
     ON CONFLICT DO NOTHING`,
    { ...n },
  );
  return written > 0;
}

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';

export interface OutboxRow {
  id: number;
  tenant_id: string;
  kind: string;
  /** what the mail is about: a key's id, or for a lifetime policy notice `policy:v<version>:<occasion>` */
  key_id: string;
  expires_at: string;
  recipient: string;
  payload: string;
  state: OutboxState;
  attempts: number;
  created_at: string;
  claim_token: string | null;
  lease_until: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  sent_at: string | null;
  message_id: string | null;
}

export interface NewOutboxRow {
  tenantId: string;
  kind: string;
  keyId: string;
  expiresAt: string;
  recipient: string;
  payload: string;
  at: string;
}

export async function enqueueMail(q: Queryable, row: NewOutboxRow): Promise<number | null> {
  const inserted = await q.get<{ id: number }>(
    `INSERT INTO outbox (tenant_id, kind, key_id, expires_at, recipient, payload, state, created_at)
     VALUES (@tenantId, @kind, @keyId, @expiresAt, @recipient, @payload, 'pending', @at)
     ON CONFLICT DO NOTHING RETURNING id`,
    { ...row },
  );
  return inserted?.id ?? null;
}

const OBSOLETE = `NOT EXISTS (SELECT 1 FROM keys k
                              WHERE k.id = outbox.key_id AND k.status = 'active' AND k.expires_at = outbox.expires_at)`;
/**
 * Rows of a tenant, of the kinds one job sends: expiry and policy notices go out together,
 * canary alerts by a job of their own.
 */
function ofKinds(tenantId: string, kinds: readonly string[]): { where: string; params: Params } {
  const names = kinds.map((_, i) => `@kind${i}`);
  return {
    where: `tenant_id = @tenantId AND kind IN (${names.join(', ')})`,
    params: { tenantId, ...Object.fromEntries(kinds.map((kind, i) => [`kind${i}`, kind])) },
  };
}

/** Due rows of a tenant, of some kinds. */
function tenantDue(tenantId: string, kinds: readonly string[]): { sql: string; params: Params } {
  const { where, params } = ofKinds(tenantId, kinds);
  return { sql: `${where} AND ${DUE}`, params };
}

/** Expiry mail whose key was deleted, deactivated or given another date since it was queued goes nowhere. */
export function cancelObsolete(q: Queryable, tenantId: string, now: string): Promise<OutboxRow[]> {
  const due = tenantDue(tenantId, ['key.expiring']);
  return q.all<OutboxRow>(
    `UPDATE outbox SET state = 'cancelled', lease_until = NULL,
            last_error = 'not sent: the key was deleted, deactivated or given another expiry date'
      WHERE ${due.sql} AND ${OBSOLETE}
     RETURNING *`,
    { ...due.params, now },
  );
}

export async function countDue(q: Queryable, tenantId: string, now: string, kinds: readonly string[]): Promise<number> {
  const due = tenantDue(tenantId, kinds);
  return (await q.get<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE ${due.sql}`, { ...due.params, now }))!.n;
}

/** What a dry run would (re)try, with whether the key still warrants the mail. */
export function listDue(
  q: Queryable,
  tenantId: string,
  now: string,
  kinds: readonly string[],
): Promise<Array<OutboxRow & { obsolete: number }>> {
  const due = tenantDue(tenantId, kinds);
  const obsolete = `kind = 'key.expiring' AND ${OBSOLETE}`;
  return q.all(
    `SELECT *, CASE WHEN ${obsolete} THEN 1 ELSE 0 END AS obsolete FROM outbox WHERE ${due.sql} ORDER BY id`,
    { ...due.params, now },
  );
}

/**
 * Rows of every tenant waiting to be sent, by kind (for the server's /metrics, which anyone who
 * reaches the port may read). Canary alerts are left out: whoever just tried a canary key would
 * otherwise see its alarm go off there, and learn that the key was bait.
 */
export function depthByKind(q: Queryable, now: string): Promise<Array<{ kind: string; n: number }>> {
  return q.all(
    `SELECT kind, count(*) AS n FROM outbox WHERE ${DUE} AND kind <> 'key.canary_tripped' GROUP BY kind ORDER BY kind`,
    { now },
  );
}

/**
 * Hand up to `limit` due rows of the tenant to the run holding `token` until `leaseUntil`
 * (claims.ts). A row this run already tried is not handed back to it: a failure waits for the
 * next run.
 */
export function claimDue(
  q: Queryable,
  claim: { tenantId: string; kinds: readonly string[]; token: string; now: string; leaseUntil: string; limit: number },
): Promise<OutboxRow[]> {
  const { tenantId, kinds, ...rest } = claim;
  return claimRows<OutboxRow>(q, { table: 'outbox', ...ofKinds(tenantId, kinds) }, rest);
}

/** Only the run that holds the claim may settle it (a run whose lease lapsed changes nothing). */
export function markSent(q: Queryable, id: number, token: string, at: string, messageId: string): Promise<boolean> {
  return settleClaim(
    q,
    'outbox',
    { id, token },
    { state: 'sent', sent_at: at, message_id: messageId, last_error: null },
  );
}

export function markFailed(q: Queryable, id: number, token: string, error: string): Promise<boolean> {
  return settleClaim(q, 'outbox', { id, token }, { state: 'failed', last_error: error });
}

export function getOutboxRow(q: Queryable, id: number): Promise<OutboxRow | undefined> {
  return q.get<OutboxRow>('SELECT * FROM outbox WHERE id = @id', { id });
}
