/**
 * Work delivered under claims: a queue table whose rows a sender takes for a while (a lease)
 * before doing something outside the store (sending a mail, calling a webhook), then settles.
 * Any number of senders, in any number of processes and servers, share one queue and never
 * hand the same row out twice:
 *
 *  - `claimRows` picks due rows and marks them `sending` under the sender's token until the
 *    lease ends, in one short write transaction. On PostgreSQL the pick is `FOR UPDATE SKIP
 *    LOCKED`: senders on other servers pass over rows being claimed instead of waiting for them,
 *    and no tenant lock is needed. On SQLite the write lock already makes claims one at a time.
 *  - The sender works outside any transaction, then `settleClaim` records the outcome, only if
 *    it still holds the claim: a sender whose lease ran out (it stalled, or died) changes
 *    nothing, and its rows are due again once the lease has ended.
 *
 * That is at-least-once: a sender that dies after delivering and before settling has its row
 * delivered again after the lease. Receivers that must see each item once dedupe on its id.
 *
 * A queue table has these columns (and whatever its kind needs):
 *   id integer primary key, state text ('pending' | 'sending' | 'sent' | 'failed' |
 *   'cancelled', or other final states), claim_token text, lease_until text (ISO-8601),
 *   attempts integer, last_attempt_at text.
 */
import type { Params, Queryable } from './types.js';

/** Which rows of which queue: the table, and a condition on its own columns with its parameters. */
export interface ClaimQueue {
  table: string;
  /** e.g. "tenant_id = @tenantId", or "next_attempt_at <= @now" for a queue with backoff */
  where?: string;
  params?: Params;
}

/** Rows waiting for a sender: new, failed before, or claimed by a sender whose lease has ended. */
export const DUE = `(state IN ('pending', 'failed') OR (state = 'sending' AND lease_until < @now))`;

export interface Claim {
  /** the sender's token (one per run: a row this run already tried is not handed back to it) */
  token: string;
  now: string;
  leaseUntil: string;
  limit: number;
}

/** Mark up to `limit` due rows, oldest first, as being sent under `token` until `leaseUntil`. */
export function claimRows<T>(q: Queryable, queue: ClaimQueue, claim: Claim): Promise<T[]> {
  const where = queue.where ? ` AND (${queue.where})` : '';
  return q.all<T>(
    `UPDATE ${queue.table}
        SET state = 'sending', claim_token = @token, lease_until = @leaseUntil, attempts = attempts + 1,
            last_attempt_at = @now
      WHERE id IN (SELECT id FROM ${queue.table}
                    WHERE ${DUE} AND (claim_token IS NULL OR claim_token <> @token)${where}
                    ORDER BY id LIMIT @limit${q.dialect.skipLocked})
     RETURNING *`,
    { ...queue.params, ...claim },
  );
}

/**
 * Record how a claimed row ended (its new `state` and any of its own columns), if `token` still
 * holds the claim. False when it does not: the lease ran out and the row went to another sender.
 */
export async function settleClaim(
  q: Queryable,
  table: string,
  claimed: { id: number; token: string },
  outcome: Params & { state: string },
): Promise<boolean> {
  const columns = Object.keys(outcome);
  const settled = await q.run(
    `UPDATE ${table} SET ${columns.map((c) => `${c} = @${c}`).join(', ')}, lease_until = NULL
      WHERE id = @claimedId AND claim_token = @claimToken AND state = 'sending'`,
    { ...outcome, claimedId: claimed.id, claimToken: claimed.token },
  );
  return settled > 0;
}
