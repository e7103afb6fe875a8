/**
 * Replay tokens: a hash of each accepted signed request's nonce (or signature), kept until the
 * request's clock check would refuse it anyway. One table for every server on the store.
 */
import type { Queryable, Store } from './types.js';

/**
 * Remember the token unless it is already remembered and still live. True when it was new (or
 * its earlier entry had expired): the request is fresh. Its own write transaction, committed
 * before the request does anything, so a replay racing the original on another server waits
 * for the lock (SQLite) or the token's row (PostgreSQL), and then finds the token.
 */
export async function rememberToken(store: Store, token: Buffer, expiresAtMs: number, nowMs: number): Promise<boolean> {
  const changed = await store.write(null, (tx) =>
    tx.run(
      `INSERT INTO replay_tokens (token, expires_at) VALUES (@token, @expiresAt)
       ON CONFLICT (token) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_tokens.expires_at < @now`,
      { token, expiresAt: expiresAtMs, now: nowMs },
    ),
  );
  return changed === 1;
}

/** Must run inside the caller's write transaction. */
export function purgeTokens(q: Queryable, nowMs: number): Promise<number> {
  return q.run('DELETE FROM replay_tokens WHERE expires_at < @now', { now: nowMs });
}
