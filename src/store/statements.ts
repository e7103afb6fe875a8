/** Prepared statements are compiled once per connection and reused (the server runs hot paths). */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

const caches = new WeakMap<Db, Map<string, Statement>>();

export function sql<T extends unknown[] = unknown[]>(db: Db, text: string): Statement<T> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map<string, Statement>()));
  let statement = cache.get(text);
  if (!statement) cache.set(text, (statement = db.prepare(text)));
  return statement as Statement<T>;
}

export interface LockWait {
  /** the connection's busy timeout: how long the first try waits, in silence */
  quietMs: number;
  /** how long a write waits for the lock in all */
  totalMs: number;
  /** told once the quiet wait is over and the write goes on waiting */
  onWait: () => void;
}

const lockWaits = new WeakMap<Db, LockWait>();

/**
 * SQLite waits for a lock inside one blocking call (busy_timeout), during which nothing else
 * can run, not even a timer. So a connection that should say it is waiting gets a short busy
 * timeout, and a write that times out is told about and then tried once more with the rest.
 */
export function waitForLocks(db: Db, wait: LockWait): void {
  lockWaits.set(db, wait);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Every write goes through here: BEGIN IMMEDIATE takes the write lock up front. Each write also
 * erases the previous secrets whose grace period has ended (sealed value, digest and end), so
 * none stays stored past the next write after its end. That needs no key: the grace part has
 * a MAC of its own (integrity.ts), and erasing it only takes access away.
 */
export function writeTransaction<T>(db: Db, work: () => T, now: Date = new Date()): T {
  return lockedTransaction(db, () => {
    sql(db, ERASE_ENDED_GRACES).run(now.toISOString());
    return work();
  });
}

/**
 * BEGIN IMMEDIATE, waiting for the lock as the connection says; for migrations, which run before
 * the tables exist.
 */
export function lockedTransaction<T>(db: Db, work: () => T): T {
  const transaction = db.transaction(work);
  const wait = lockWaits.get(db);
  if (!wait) return transaction.immediate();
  try {
    return transaction.immediate();
  } catch (error) {
    if (!isBusy(error)) throw error;
  }
  wait.onWait();
  db.pragma(`busy_timeout = ${Math.max(wait.totalMs - wait.quietMs, 0)}`);
  try {
    return transaction.immediate();
  } finally {
    db.pragma(`busy_timeout = ${wait.quietMs}`);
  }
}

const ERASE_ENDED_GRACES = `UPDATE keys
  SET previous_sealed = NULL, previous_digest = NULL, previous_valid_until = NULL, grace_mac = NULL
  WHERE previous_valid_until IS NOT NULL AND previous_valid_until <= ?`;
