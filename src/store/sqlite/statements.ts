/** Prepared statements are compiled once per connection and reused (the server runs hot paths). */
import type { Database, Statement } from 'better-sqlite3';

const caches = new WeakMap<Database, Map<string, Statement>>();

export function sql<T extends unknown[] = unknown[]>(db: Database, text: string): Statement<T> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map<string, Statement>()));
  let statement = cache.get(text);
  if (!statement) cache.set(text, (statement = db.prepare(text)));
  return statement as Statement<T>;
}
