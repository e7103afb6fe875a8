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

/**
 * Every write goes through here: BEGIN IMMEDIATE takes the write lock up front. Each write also
 * erases the previous secrets whose grace period has ended (sealed value, digest and end), so
 * none stays stored past the next write after its end. That needs no key: the grace part has
 * a MAC of its own (integrity.ts), and erasing it only takes access away.
 */
export function writeTransaction<T>(db: Db, work: () => T, now: Date = new Date()): T {
  return db
    .transaction(() => {
      sql(db, ERASE_ENDED_GRACES).run(now.toISOString());
      return work();
    })
    .immediate();
}

const ERASE_ENDED_GRACES = `UPDATE keys
  SET previous_sealed = NULL, previous_digest = NULL, previous_valid_until = NULL, grace_mac = NULL
  WHERE previous_valid_until IS NOT NULL AND previous_valid_until <= ?`;
