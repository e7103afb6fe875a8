/** Prepared statements are compiled once per connection and reused (the server runs hot paths). */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Params } from '../types.js';

const caches = new WeakMap<Db, Map<string, Statement>>();

export function sql<T extends unknown[] = unknown[]>(db: Db, text: string): Statement<T> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map<string, Statement>()));
  let statement = cache.get(text);
  if (!statement) cache.set(text, (statement = db.prepare(text)));
  return statement as Statement<T>;
}

type RowMaker = (values: unknown[]) => unknown;
const rowMakers = new WeakMap<Statement, RowMaker | null>();

/**
 * Every row of a query, as objects. better-sqlite3 builds each row through V8's C++ API, one
 * property at a time, into a slow dictionary object: listing 1,000 keys spent 8 ms there, more
 * than anything else the command does. Read as arrays and made into objects by a function
 * written for the statement's columns, the same rows take 5 ms and are ordinary fast objects.
 */
export function allRows<T>(statement: Statement, params?: Params): T[] {
  let make = rowMakers.get(statement);
  if (make === undefined) rowMakers.set(statement, (make = rowMaker(statement.columns().map((c) => c.name))));
  if (make === null) return (params ? statement.all(params) : statement.all()) as T[];
  statement.raw(true);
  try {
    return (params ? statement.all(params) : statement.all()).map((values) => make(values as unknown[])) as T[];
  } finally {
    statement.raw(false);
  }
}

/** `(v) => ({ "id": v[0], "name": v[1], … })`; null for a column name that cannot be a plain key. */
function rowMaker(names: string[]): RowMaker | null {
  if (names.includes('__proto__')) return null;
  const fields = names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the text holds only quoted column names
  return new Function('v', `return { ${fields.join(', ')} };`) as RowMaker;
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
 * `take` takes the write lock (BEGIN IMMEDIATE); on a connection that says when it waits, a
 * first try waits in silence, then the waiter is told and the rest of the wait follows.
 */
export function takeWriteLock<T>(db: Db, take: () => T): T {
  const wait = lockWaits.get(db);
  if (!wait) return take();
  try {
    return take();
  } catch (error) {
    if (!isBusy(error)) throw error;
  }
  wait.onWait();
  db.pragma(`busy_timeout = ${Math.max(wait.totalMs - wait.quietMs, 0)}`);
  try {
    return take();
  } finally {
    db.pragma(`busy_timeout = ${wait.quietMs}`);
  }
}

/**
 * A synchronous write transaction, for what runs outside the store's own transactions: the
 * migrations, and sealing the rows a migration left unsealed. BEGIN IMMEDIATE takes the write
 * lock up front.
 */
export function lockedTransaction<T>(db: Db, work: () => T): T {
  const transaction = db.transaction(work);
  return takeWriteLock(db, () => transaction.immediate());
}
