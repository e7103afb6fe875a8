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
 * Every write goes through here: BEGIN IMMEDIATE takes the write lock up front, so a check and
 * the write that depends on it (the two-key limit, a unique name) see no other writer between them.
 */
export function writeTransaction<T>(db: Db, work: () => T): T {
  return db.transaction(work).immediate();
}
