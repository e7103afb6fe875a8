/**
 * Expiry notices and the mail outbox. Planning (a notice per key and expiry date, a row per
 * recipient) and claiming (rows handed to one sender under a lease) each happen in a
 * BEGIN IMMEDIATE transaction, so concurrent runs never plan or send the same mail twice.
 */
import type { Db } from './open.js';
import { sql } from './statements.js';

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
export function expiringWithoutNotice(db: Db, tenantId: string, now: string, until: string): ExpiringKeyRow[] {
  return sql(
    db,
    `SELECT k.id, k.name, k.expires_at, k.created_by, k.modified_by, u.email AS owner_email,
            EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = k.tenant_id AND x.email = k.created_by)
              AS creator_is_user,
            EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = k.tenant_id AND x.email = k.modified_by)
              AS modifier_is_user
       FROM keys k LEFT JOIN users u ON u.id = k.owner_id
      WHERE k.tenant_id = @tenantId AND k.status = 'active'
        AND k.expires_at IS NOT NULL AND k.expires_at > @now AND k.expires_at <= @until
        AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.key_id = k.id AND n.expires_at = k.expires_at)
      ORDER BY k.expires_at, k.id`,
  ).all({ tenantId, now, until }) as ExpiringKeyRow[];
}

/** False when the notice already exists: another run planned this key and date first. */
export function insertExpiryNotice(
  db: Db,
  n: { keyId: string; expiresAt: string; tenantId: string; at: string },
): boolean {
  return (
    sql(
      db,
      `INSERT OR IGNORE INTO expiry_notices (key_id, expires_at, tenant_id, planned_at)
       VALUES (@keyId, @expiresAt, @tenantId, @at)`,
    ).run(n).changes > 0
  );
}

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';

export interface OutboxRow {
  id: number;
  tenant_id: string;
  kind: string;
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

export function enqueueMail(db: Db, row: NewOutboxRow): number | null {
  const result = sql(
    db,
    `INSERT OR IGNORE INTO outbox (tenant_id, kind, key_id, expires_at, recipient, payload, state, created_at)
     VALUES (@tenantId, @kind, @keyId, @expiresAt, @recipient, @payload, 'pending', @at)`,
  ).run(row);
  return result.changes > 0 ? Number(result.lastInsertRowid) : null;
}

const OBSOLETE = `NOT EXISTS (SELECT 1 FROM keys k
                              WHERE k.id = outbox.key_id AND k.status = 'active' AND k.expires_at = outbox.expires_at)`;
const DUE = `tenant_id = @tenantId AND (state IN ('pending', 'failed') OR (state = 'sending' AND lease_until < @now))`;

/** Expiry mail whose key was deleted, deactivated or given another date since it was queued goes nowhere. */
export function cancelObsolete(db: Db, tenantId: string, now: string): OutboxRow[] {
  return sql(
    db,
    `UPDATE outbox SET state = 'cancelled', lease_until = NULL,
            last_error = 'not sent: the key was deleted, deactivated or given another expiry date'
      WHERE ${DUE} AND kind = 'key.expiring' AND ${OBSOLETE}
     RETURNING *`,
  ).all({ tenantId, now }) as OutboxRow[];
}

export function countDue(db: Db, tenantId: string, now: string): number {
  return (sql(db, `SELECT count(*) AS n FROM outbox WHERE ${DUE}`).get({ tenantId, now }) as { n: number }).n;
}

/** What a dry run would (re)try, with whether the key still warrants the mail. */
export function listDue(db: Db, tenantId: string, now: string): Array<OutboxRow & { obsolete: number }> {
  return sql(db, `SELECT *, ${OBSOLETE} AS obsolete FROM outbox WHERE ${DUE} ORDER BY id`).all({
    tenantId,
    now,
  }) as Array<OutboxRow & { obsolete: number }>;
}

/**
 * Hand up to `limit` due rows to the run holding `token` until `leaseUntil`. A row this run
 * already tried is not handed back to it: a failure waits for the next run.
 */
export function claimDue(
  db: Db,
  q: { tenantId: string; token: string; now: string; leaseUntil: string; limit: number },
): OutboxRow[] {
  return sql(
    db,
    `UPDATE outbox
        SET state = 'sending', claim_token = @token, lease_until = @leaseUntil, attempts = attempts + 1,
            last_attempt_at = @now
      WHERE id IN (SELECT id FROM outbox
                    WHERE ${DUE} AND (claim_token IS NULL OR claim_token <> @token)
                    ORDER BY id LIMIT @limit)
     RETURNING *`,
  ).all(q) as OutboxRow[];
}

/** Only the run that holds the claim may settle it (a run whose lease lapsed changes nothing). */
export function markSent(db: Db, id: number, token: string, at: string, messageId: string): boolean {
  return (
    sql(
      db,
      `UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, last_error = NULL, lease_until = NULL
        WHERE id = ? AND claim_token = ? AND state = 'sending'`,
    ).run(at, messageId, id, token).changes > 0
  );
}

export function markFailed(db: Db, id: number, token: string, error: string): boolean {
  return (
    sql(
      db,
      `UPDATE outbox SET state = 'failed', last_error = ?, lease_until = NULL
        WHERE id = ? AND claim_token = ? AND state = 'sending'`,
    ).run(error, id, token).changes > 0
  );
}

export function getOutboxRow(db: Db, id: number): OutboxRow | undefined {
  return sql(db, 'SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
}
