/**
 * Failed sign-ins per minute and scope (a client address, or an access key id from an
 * address), summed over every server on the store. Servers add their counts in batches.
 */
import type { Db } from './open.js';
import { sql } from './statements.js';

export function failuresSince(db: Db, scope: string, fromMinute: number): number {
  return (
    sql(db, 'SELECT coalesce(sum(count), 0) AS n FROM auth_failures WHERE scope = ? AND minute >= ?').get(
      scope,
      fromMinute,
    ) as { n: number }
  ).n;
}

/** Must run inside the caller's write transaction. */
export function addFailures(db: Db, scope: string, minute: number, count: number): void {
  sql(
    db,
    `INSERT INTO auth_failures (scope, minute, count) VALUES (?, ?, ?)
     ON CONFLICT (scope, minute) DO UPDATE SET count = count + excluded.count`,
  ).run(scope, minute, count);
}

/** Must run inside the caller's write transaction. */
export function purgeFailures(db: Db, beforeMinute: number): number {
  return sql(db, 'DELETE FROM auth_failures WHERE minute < ?').run(beforeMinute).changes;
}
