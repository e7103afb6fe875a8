/**
 * The SQLite engine: one better-sqlite3 connection per process. Every write is a BEGIN
 * IMMEDIATE transaction, which takes the file's write lock up front, so a check and the write
 * it guards are atomic across processes. Within the process, a mutex runs one transaction at a
 * time: `akm serve` interleaves requests, and they share the connection (reads too: a read
 * between two statements of a write would see what the write has not committed).
 *
 * better-sqlite3 is synchronous; the methods are async only to share the interface with
 * PostgreSQL, so a query costs a resolved promise on top of SQLite's own work.
 */
import type { Statement } from 'better-sqlite3';
import { resolve } from 'node:path';
import { eraseEndedGraces } from '../integrity.js';
import { KeyFence, META_MASTER_CHECK } from '../keyFence.js';
import { setMeta } from '../meta.js';
import { Mutex } from '../mutex.js';
import { checkReady } from '../readiness.js';
import type {
  ChangeFeed,
  Dialect,
  OpenStoreOptions,
  Params,
  Queryable,
  RekeyIntegrity,
  Store,
  StoreStatus,
  WriteOptions,
} from '../types.js';
import { attachIntegrity, rekeyIntegrity, setIntegrityKey, sqliteIntact } from './integrity.js';
import { openDatabase, sqliteError, storeExposure, type Db } from './open.js';
import { LATEST_VERSION } from './schema.js';
import { allRows, sql, takeWriteLock } from './statements.js';

const SQLITE: Dialect = {
  engine: 'sqlite',
  forUpdate: '',
  forShare: '',
  skipLocked: '',
  schemaVersion: 'SELECT user_version AS version FROM pragma_user_version',
  dataTables: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  foreignKeys: `SELECT m.name AS tbl, f."table" AS ref FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
                 WHERE m.type = 'table'`,
  tableColumns: 'SELECT name, pk, 0 AS "identity" FROM pragma_table_info(@name) ORDER BY cid',
  // An INTEGER PRIMARY KEY goes on from the largest id there is.
  followIds: () => null,
  jsonList: (select) => `(SELECT json_group_array(v) FROM (${select}))`,
  jsonField: (column, field) => `json_extract(${column}, '$.${field}')`,
  isUniqueViolation: (error) => {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  intact: sqliteIntact,
  tableExists: "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = @name",
};

class SqliteQueries implements Queryable {
  readonly dialect = SQLITE;
  constructor(private readonly db: Db) {}

  async all<T>(text: string, params?: Params): Promise<T[]> {
    return allRows<T>(sql(this.db, text), params);
  }

  async get<T>(text: string, params?: Params): Promise<T | undefined> {
    const statement = sql(this.db, text);
    return (params ? statement.get(params) : statement.get()) as T | undefined;
  }

  async run(text: string, params?: Params): Promise<number> {
    const statement = sql(this.db, text);
    return (params ? statement.run(params) : statement.run()).changes;
  }
}

/**
 * One mutex per file, shared by every connection to it in this process. While one connection's
 * transaction awaits, another connection's BEGIN IMMEDIATE would wait for the file lock without
 * giving the event loop back (better-sqlite3 blocks), so the first could never finish.
 */
const mutexes = new Map<string, Mutex>();

function mutexFor(path: string): Mutex {
  const key = resolve(path);
  let mutex = mutexes.get(key);
  if (!mutex) mutexes.set(key, (mutex = new Mutex()));
  return mutex;
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly dialect = SQLITE;
  private readonly mutex: Mutex;
  private readonly queries: SqliteQueries;
  private readonly fence = new KeyFence();

  constructor(
    /** the connection itself: SQLite-only tests and tools look at it directly */
    readonly db: Db,
    readonly location: string,
  ) {
    this.queries = new SqliteQueries(db);
    this.mutex = mutexFor(location);
  }

  read<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    // A deferred transaction: one snapshot for every statement of `work`, and no write lock.
    return this.mutex.run(() => this.transaction('BEGIN', work));
  }

  /**
   * Every write first erases the previous secrets whose grace has ended, in every tenant
   * (integrity.ts): the write lock is the whole file's anyway.
   */
  write<T>(_tenantId: string | null, work: (tx: Queryable) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    const now = options.now ?? new Date();
    const erasing = async (tx: Queryable) => {
      await this.fence.pass(tx, 'share');
      await eraseEndedGraces(tx, now, null);
      return work(tx);
    };
    return this.mutex.run(() => this.transaction('BEGIN IMMEDIATE', erasing, options.waitMs));
  }

  attachIntegrity(key: Buffer, check: string): Promise<void> {
    return this.mutex.run(async () => {
      try {
        attachIntegrity(this.db, key);
        this.fence.arm(check);
      } catch (error) {
        throw sqliteError(error, this.location);
      }
    });
  }

  rotateKey<T>(check: string, work: (tx: Queryable, rekey: RekeyIntegrity) => Promise<T>): Promise<T> {
    if (!this.fence.armed) throw new Error('rotateKey: the store holds no keys');
    return this.mutex.run(async () => {
      // A transaction someone opened on the connection (tests) could still be rolled back after
      // this one "committed" as its savepoint, and the connection would keep the new key.
      if (this.db.inTransaction) throw new Error('rotateKey: not inside another transaction');
      let previous: Buffer | undefined;
      const rekey: RekeyIntegrity = async (key) => {
        const done = rekeyIntegrity(this.db, key);
        previous ??= done.previous;
        return done.rows;
      };
      try {
        const result = await this.transaction('BEGIN IMMEDIATE', async (tx) => {
          await this.fence.pass(tx, 'exclusive');
          const result = await work(tx, rekey);
          if (!previous) throw new Error('rotateKey: the integrity MACs were not re-keyed');
          await setMeta(tx, META_MASTER_CHECK, check);
          return result;
        });
        this.fence.arm(check);
        return result;
      } catch (error) {
        if (previous) setIntegrityKey(this.db, previous);
        throw error;
      }
    });
  }

  keyReplaced(): Promise<boolean> {
    return this.read((q) => this.fence.replaced(q));
  }

  exposure(): { message: string; hint: string } | null {
    return storeExposure(this.location);
  }

  /** `PRAGMA data_version` moves when another connection commits (our own commits leave it). */
  changes(): ChangeFeed {
    const version: Statement = this.db.prepare('PRAGMA data_version').pluck();
    let seen = version.get();
    return {
      maxAgeMs: Infinity,
      moved: () => {
        const now = version.get();
        if (now === seen) return false;
        seen = now;
        return true;
      },
    };
  }

  /** One machine: whoever serves the file runs its jobs (claims keep two servers on it apart). */
  status(): StoreStatus {
    return { listening: null, notifications: 0, leading: true };
  }

  ready(): Promise<void> {
    return checkReady(this, LATEST_VERSION);
  }

  close(): Promise<void> {
    return this.mutex.run(async () => {
      if (this.db.open) this.db.close();
    });
  }

  private async transaction<T>(begin: string, work: (q: Queryable) => Promise<T>, waitMs?: number): Promise<T> {
    if (this.db.inTransaction) return this.savepoint(work);
    try {
      this.begin(begin, waitMs);
      const result = await work(this.queries);
      sql(this.db, 'COMMIT').run();
      return result;
    } catch (error) {
      if (this.db.open && this.db.inTransaction) sql(this.db, 'ROLLBACK').run();
      throw sqliteError(error, this.location);
    }
  }

  /**
   * Inside a transaction that someone opened on the connection directly (a test that rolls a
   * whole run back at the end), each read and write is a savepoint of it. Never the case
   * otherwise: every transaction of the store ends, by COMMIT or ROLLBACK, before the next.
   */
  private async savepoint<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    sql(this.db, 'SAVEPOINT akm').run();
    try {
      const result = await work(this.queries);
      sql(this.db, 'RELEASE akm').run();
      return result;
    } catch (error) {
      sql(this.db, 'ROLLBACK TO akm').run();
      sql(this.db, 'RELEASE akm').run();
      throw sqliteError(error, this.location);
    }
  }

  /**
   * BEGIN IMMEDIATE is where a writer waits for the file lock, and the whole process waits with
   * it (better-sqlite3 blocks): a caller that would rather retry later waits `waitMs` at most.
   */
  private begin(statement: string, waitMs: number | undefined): void {
    if (waitMs === undefined) {
      takeWriteLock(this.db, () => sql(this.db, statement).run());
      return;
    }
    const usual = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(waitMs))}`);
    try {
      sql(this.db, statement).run();
    } finally {
      this.db.pragma(`busy_timeout = ${usual}`);
    }
  }
}

export function openSqliteStore(path: string, options: OpenStoreOptions = {}): SqliteStore {
  const db = openDatabase(path, options);
  if (options.server) {
    // A long-running server reads keys at random: map the file and keep a large page cache,
    // so a lookup among 100,000 keys costs no read() system call.
    db.pragma('mmap_size = 268435456');
    db.pragma('cache_size = -65536');
  }
  return new SqliteStore(db, path);
}
