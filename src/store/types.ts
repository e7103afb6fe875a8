/**
 * The store as the service sees it: one asynchronous interface, two engines (SQLite, the
 * embedded default, and PostgreSQL, shared by replicated servers).
 *
 * Query modules (keys.ts, people.ts, audit.ts, …) are written once against `Queryable`: SQL
 * text with named parameters (`@name`), plus the few differences between the engines in
 * `Dialect`. Each engine has its own DDL (sqlite/schema.ts, postgres/schema.ts), one
 * migration history each, versioned together.
 *
 * Transactions: `write(tenantId, work)` runs `work` in a transaction that excludes every
 * other writer of that tenant (SQLite: BEGIN IMMEDIATE, which excludes every writer; PostgreSQL:
 * a row lock on the tenant), so a check and the write it guards (the two-key limit, the
 * audit chain) hold across processes and servers. `read(work)` sees one consistent snapshot.
 * Nothing inside `work` may call `read` or `write` again: pass the queryable down instead.
 */

import type { IntactPart } from './integrity.js';

/** What a query binds by name: `@name` in the SQL text. Absent and undefined bind NULL. */
export type Params = Record<string, string | number | Buffer | null | undefined>;

export interface Queryable {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  /** Returns the number of rows inserted, updated or deleted. */
  run(sql: string, params?: Params): Promise<number>;
}

export type Engine = 'sqlite' | 'postgres';

/** The SQL that differs between the engines; everything else is written once. */
export interface Dialect {
  readonly engine: Engine;
  /**
   * Appended to a SELECT whose rows the transaction goes on to change: PostgreSQL locks them
   * (" FOR UPDATE"); SQLite's write transaction already excludes every other writer.
   */
  readonly forUpdate: string;
  /** Likewise, but others may hold the same lock: PostgreSQL " FOR SHARE" (store/keyFence.ts). */
  readonly forShare: string;
  /**
   * Appended to the SELECT of a claim (claims.ts): PostgreSQL locks the rows it picks and passes
   * over rows another transaction holds (" FOR UPDATE SKIP LOCKED"), so claimers on several
   * servers take different rows without waiting for each other; SQLite has one writer anyway.
   */
  readonly skipLocked: string;
  /** A query for the store's schema version, as `version`. */
  readonly schemaVersion: string;
  /** akm's tables (the engine's own bookkeeping left out), as `name` (store copy: copy.ts). */
  readonly dataTables: string;
  /** Foreign keys between akm's tables, as `tbl` (the referring table) and `ref` (the referred one). */
  readonly foreignKeys: string;
  /**
   * The columns of the table `@name` in order, as `name`, `pk` (place in the primary key, 0 when
   * not in it) and `identity` (1 for a generated id).
   */
  readonly tableColumns: string;
  /** After rows were written with explicit ids: a statement that makes new ids follow them, or null (SQLite does). */
  followIds(table: string, column: string): string | null;
  /** A JSON array, as text, of the column `v` of `select` (a subquery that orders its rows by v). */
  jsonList(select: string): string;
  /** The text of a top-level field of a column holding a JSON object as text. */
  jsonField(column: string, field: string): string;
  /** Did this statement fail on a UNIQUE constraint? */
  isUniqueViolation(error: unknown): boolean;
  /** The integrity check of rows in a query (integrity.ts: use `intactSql`). */
  intact(parts: readonly IntactPart[]): string;
  /** A query that returns a row when the table `@name` exists. */
  readonly tableExists: string;
}

/** Re-MAC every covered row under `key`; returns how many rows (link rows not counted). */
export type RekeyIntegrity = (key: Buffer) => Promise<number>;

export interface WriteOptions {
  /** How long to wait for another writer before giving up with store_locked (default: the engine's). */
  waitMs?: number;
  /** the time against which ended grace periods are erased (default: the clock) */
  now?: Date;
}

/**
 * How a cache of store rows learns that they may have changed. SQLite: `moved()` sees every
 * commit by another connection. PostgreSQL: `moved()` reports the change notifications a
 * server's LISTEN connection receives (postgres/session.ts), and a row read from the store is
 * used for at most `maxAgeMs` in any case, in case a notification was lost.
 */
export interface ChangeFeed {
  /** True when another connection may have committed since the last call. */
  moved(): boolean;
  /** How long a cached row stays usable without asking the store again (Infinity: until `moved`). */
  readonly maxAgeMs: number;
}

/** What a server reports about its store connection (for /metrics and the periodic jobs). */
export interface StoreStatus {
  /** PostgreSQL: the LISTEN connection of a server is up; null where there is none (SQLite, a CLI) */
  listening: boolean | null;
  /** change notifications received so far */
  notifications: number;
  /**
   * Whether this process runs the store's periodic jobs: on PostgreSQL the one server holding
   * the store's job lock; on SQLite (one machine) always.
   */
  leading: boolean;
}

export interface Store {
  readonly engine: Engine;
  readonly dialect: Dialect;
  /** Where the store is, fit for messages and logs: a file path, or a URL without its password. */
  readonly location: string;
  read<T>(work: (q: Queryable) => Promise<T>): Promise<T>;
  write<T>(tenantId: string | null, work: (tx: Queryable) => Promise<T>, options?: WriteOptions): Promise<T>;
  changes(): ChangeFeed;
  status(): StoreStatus;
  /**
   * Resolves when the store answers and its schema is the one this akm knows (for /readyz);
   * otherwise throws an exit-6 error saying why.
   */
  ready(): Promise<void>;
  /**
   * Arm the integrity checks with the key derived from the master key (integrity.ts): reads
   * check each covered row, writes check and reseal the rows they change. Rows a migration left
   * unsealed are sealed now. `check` is the master key check value those keys belong to: from
   * now on every write first confirms the store still has it (keyFence.ts). Once per store;
   * later calls do nothing.
   */
  attachIntegrity(key: Buffer, check: string): Promise<void>;
  /**
   * One write transaction that moves the store to a new master key (service/local/masterKey.ts).
   * It holds the check value's row for its whole length, so every other keyed write waits and
   * then refuses (keyFence.ts). `work` re-seals and re-keys what depends on the master key and
   * calls `rekeyIntegrity` with the new integrity key (once, after every change to a covered
   * row): that re-MACs every covered row of every tenant, and the rest of the transaction seals
   * with the new key. The check value becomes `check` as it commits, and the store goes on with
   * the new keys; if it does not commit, with the old ones.
   */
  rotateKey<T>(check: string, work: (tx: Queryable, rekeyIntegrity: RekeyIntegrity) => Promise<T>): Promise<T>;
  /** Has another process rotated the master key since this store was given its keys? */
  keyReplaced(): Promise<boolean>;
  /** A warning when others on this machine can open the store (a SQLite file's mode), else null. */
  exposure(): { message: string; hint: string } | null;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** create the store (file, or schema in an empty database) when missing: only `akm init` does this */
  create?: boolean;
  /** how long a writer waits for another before store_locked */
  busyTimeoutMs?: number;
  /**
   * a long-running server: keep more of the store in memory, hold more connections; on
   * PostgreSQL, listen for other processes' changes and take part in electing the job leader
   */
  server?: boolean;
  /** only reading (SQLite: the file may be read-only; nothing is written, not even a migration) */
  readonly?: boolean;
  /** told once when a write has waited a second for another process's lock, and goes on waiting */
  onLockWait?: () => void;
  /** the environment that supplies PGPASSWORD, PGPASSFILE and HOME for PostgreSQL */
  env?: NodeJS.ProcessEnv;
}
