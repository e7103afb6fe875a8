/**
 * Replay tokens: a hash of each accepted signed request's nonce (or signature), kept until the
 * request's clock check would refuse it anyway. One table for every server on the store.
 */
import type { Db } from './open.js';
import { sql, writeTransaction } from './statements.js';

/**
 * Remember the token unless it is already remembered and still live. True when it was new (or
 * its earlier entry had expired): the request is fresh. Its own write transaction, committed
 * before the request does anything, so a replay racing the original on another server waits
 * for the lock and then finds the token.
 */
export function rememberToken(db: Db, token: Buffer, expiresAtMs: number, nowMs: number): boolean {
  return writeTransaction(
    db,
    () =>
      sql(
        db,
        `INSERT INTO replay_tokens (token, expires_at) VALUES (?, ?)
         ON CONFLICT (token) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_tokens.expires_at < ?`,
      ).run(token, expiresAtMs, nowMs).changes === 1,
  );
}

/** Must run inside the caller's write transaction. */
export function purgeTokens(db: Db, nowMs: number): number {
  return sql(db, 'DELETE FROM replay_tokens WHERE expires_at < ?').run(nowMs).changes;
}
