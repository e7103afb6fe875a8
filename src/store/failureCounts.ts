/**
 * Failed sign-ins per minute and scope (a client address, or an access key id from an
 * address), summed over every server on the store. Servers add their counts in batches.
 */
import type { Queryable } from './types.js';

export async function failuresSince(q: Queryable, scope: string, fromMinute: number): Promise<number> {
  const row = await q.get<{ n: number }>(
    'SELECT coalesce(sum(count), 0) AS n FROM auth_failures WHERE scope = @scope AND minute >= @fromMinute',
    { scope, fromMinute },
  );
  return Number(row!.n);
}

/** Must run inside the caller's write transaction. */
export async function addFailures(q: Queryable, scope: string, minute: number, count: number): Promise<void> {
  await q.run(
    `INSERT INTO auth_failures (scope, minute, count) VALUES (@scope, @minute, @count)
     ON CONFLICT (scope, minute) DO UPDATE SET count = auth_failures.count + excluded.count`,
    { scope, minute, count },
  );
}

/** Must run inside the caller's write transaction. */
export function purgeFailures(q: Queryable, beforeMinute: number): Promise<number> {
  return q.run('DELETE FROM auth_failures WHERE minute < @beforeMinute', { beforeMinute });
}
