/**
 * The PostgreSQL engine: a connection pool, shared by every request of the process, and by
 * every process on the database (several `akm serve` replicas, admins' CLIs).
 *
 * A write transaction first locks its tenant's row (SELECT … FOR UPDATE), so writes within a
 * tenant are serialized exactly as SQLite's single writer serializes them: a check and the
 * write it guards (the two-key limit, the audit chain) hold across replicas. Rows shared by
 * tenants rely on unique constraints. A read is one REPEATABLE READ snapshot.
 */
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { eraseEndedGraces, sealingPending, META_INTEGRITY_PENDING } from '../integrity.js';
import { KeyFence, META_MASTER_CHECK } from '../keyFence.js';
import { deleteMeta, setMeta } from '../meta.js';
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
import { clientConfig, closingOnFailure, parsePostgresUrl, poolConfig } from './connect.js';
import { connectionLost, isRetryable, postgresError } from './errors.js';
import {
  checkRows,
  DIRTY_TABLE,
  noteEveryRow,
  postgresIntact,
  resealEveryRow,
  selectsCheck,
  settle,
} from './integrity.js';
import { prepareSchema } from './migrate.js';
import { POSTGRES_LATEST_VERSION } from './schema.js';
import { StoreSession } from './session.js';

const POSTGRES: Dialect = {
  engine: 'postgres',
  forUpdate: ' FOR UPDATE',
  forShare: ' FOR SHARE',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  schemaVersion: 'SELECT version FROM akm_schema',
  dataTables: `SELECT table_name AS name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'akm_schema'
                ORDER BY 1`,
  foreignKeys: `SELECT conrelid::regclass::text AS tbl, confrelid::regclass::text AS ref FROM pg_constraint
                 WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`,
  tableColumns: `SELECT c.column_name AS name, coalesce(k.ordinal_position, 0) AS pk,
                        CASE WHEN c.is_identity = 'YES' THEN 1 ELSE 0 END AS "identity"
                   FROM information_schema.columns c
                   LEFT JOIN information_schema.table_constraints p
                     ON p.table_schema = c.table_schema AND p.table_name = c.table_name
                    AND p.constraint_type = 'PRIMARY KEY'
                   LEFT JOIN information_schema.key_column_usage k
                     ON k.constraint_schema = p.constraint_schema AND k.constraint_name = p.constraint_name
                    AND k.column_name = c.column_name
                  WHERE c.table_schema = current_schema() AND c.table_name = @name
                  ORDER BY c.ordinal_position`,
  followIds: (table, column) =>
    `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce(max(${column}), 0) + 1, false)
       FROM ${table}`,
  jsonList: (select) => `(SELECT coalesce(json_agg(s.v ORDER BY s.v), '[]')::text FROM (${select}) s)`,
  jsonField: (column, field) => `(${column}::jsonb ->> '${field}')`,
  isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === '23505',
  intact: postgresIntact,
  tableExists: 'SELECT 1 WHERE to_regclass(@name) IS NOT NULL',
};

/**
 * How long a row read from PostgreSQL may be served from a cache, notifications or not: the
 * bound on how late a cache learns of a change whose notification was lost (see ChangeFeed).
 */
export const REVALIDATE_MS = 1000;
const WRITE_ATTEMPTS = 3;

interface Translated {
  name: string;
  text: string;
  names: string[];
  /** selects an integrity check (postgres/integrity.ts) */
  checks: boolean;
  /** changes rows: in a write transaction, covered rows may need resealing before the next check */
  writes: boolean;
}

const translations = new Map<string, Translated>();

/**
 * `@name` → `$n`, once per SQL text. Each text becomes a named prepared statement, parsed and
 * planned once per connection. Quoted strings are left alone.
 */
function translate(sql: string): Translated {
  let found = translations.get(sql);
  if (found) return found;
  const names: string[] = [];
  const text = sql.replace(/'(?:[^']|'')*'|@([A-Za-z_][A-Za-z0-9_]*)/g, (match, name?: string) => {
    if (name === undefined) return match;
    const at = names.indexOf(name);
    if (at >= 0) return `$${at + 1}`;
    names.push(name);
    return `$${names.length}`;
  });
  found = {
    name: `akm_${translations.size + 1}`,
    text,
    names,
    checks: selectsCheck(text),
    writes: /^\s*(INSERT|UPDATE|DELETE)\b/i.test(text),
  };
  translations.set(sql, found);
  return found;
}

function query(translated: Translated, params: Params | undefined): QueryConfig {
  const { name, text, names } = translated;
  const values = names.map((n) => {
    if (!params || !(n in params)) throw new Error(`missing named parameter @${n}`);
    return params[n] ?? null;
  });
  return { name, text, values };
}

/**
 * The queries of one transaction. With the integrity key, a write transaction settles the
 * integrity notes of the covered rows it changed (postgres/integrity.ts) before it reads a
 * checked row again and before it commits, as SQLite's triggers reseal a row at once.
 */
class PostgresQueries implements Queryable {
  readonly dialect = POSTGRES;
  /** a statement has changed rows since the notes were last settled */
  private unsettled = false;

  constructor(
    private readonly client: PoolClient,
    /** the integrity key, in a write transaction of a store that holds it */
    private sealing: Buffer | null,
    private checking: Buffer | null,
  ) {}

  async all<T>(sql: string, params?: Params): Promise<T[]> {
    return (await this.execute(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.execute(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params?: Params): Promise<number> {
    return (await this.execute(sql, params)).rowCount ?? 0;
  }

  /** A master key rotation: every covered row under `key`, which the rest of the transaction uses. */
  async rekey(key: Buffer): Promise<number> {
    await this.settle();
    const rows = await resealEveryRow(this.client, key);
    this.sealing = key;
    this.checking = key;
    return rows;
  }

  /** Before COMMIT: the MACs of what this transaction changed. */
  async settle(): Promise<void> {
    if (!this.sealing || !this.unsettled) return;
    this.unsettled = false;
    await settle(this.client, this.sealing);
  }

  private async execute(sql: string, params: Params | undefined) {
    const translated = translate(sql);
    if (translated.checks) await this.settle();
    if (translated.writes) this.unsettled = true;
    const result = await this.client.query(query(translated, params));
    if (translated.checks) checkRows(this.checking, result.rows as Array<Record<string, unknown>>);
    return result;
  }
}

export class PostgresStore implements Store {
  readonly engine = 'postgres';
  readonly dialect = POSTGRES;
  private closing: Promise<void> | undefined;
  /** the integrity key (attachIntegrity), and the connections that have the table for its notes */
  private integrityKey: Buffer | null = null;
  private readonly noting = new WeakSet<PoolClient>();
  private readonly fence = new KeyFence();

  constructor(
    private readonly pool: Pool,
    readonly location: string,
    private readonly lockTimeoutMs: number,
    /** a server's LISTEN connection and job lock (session.ts); none for a CLI */
    private readonly session: StoreSession | null = null,
  ) {}

  read<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY', work, { lockTenant: null });
  }

  /**
   * A write in a tenant first erases the previous secrets of that tenant's keys whose grace has
   * ended (integrity.ts); the server's sweep erases every tenant's (`eraseEndedGraces` with null).
   */
  write<T>(tenantId: string | null, work: (tx: Queryable) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    const writing = options.now ?? new Date();
    return this.retrying(options.waitMs, (begin) =>
      this.transaction(begin, work, { lockTenant: tenantId, writing, fence: 'share' }),
    );
  }

  async attachIntegrity(key: Buffer, check: string): Promise<void> {
    if (this.integrityKey) return;
    this.integrityKey = key;
    this.fence.arm(check);
    if (!(await this.read(sealingPending))) return;
    // A store upgraded from before the MACs: every row is noted, and sealed as the write commits.
    await this.write(null, async (tx) => {
      if (!(await sealingPending(tx))) return;
      for (const statement of noteEveryRow()) await tx.run(statement);
      await deleteMeta(tx, META_INTEGRITY_PENDING);
    });
  }

  async rotateKey<T>(check: string, work: (tx: Queryable, rekey: RekeyIntegrity) => Promise<T>): Promise<T> {
    if (!this.fence.armed) throw new Error('rotateKey: the store holds no keys');
    let adopted: Buffer | null = null;
    const result = await this.retrying(undefined, (begin) =>
      this.transaction(
        begin,
        async (tx) => {
          adopted = null;
          const result = await work(tx, async (key) => {
            const rows = await tx.rekey(key);
            adopted = key;
            return rows;
          });
          if (!adopted) throw new Error('rotateKey: the integrity MACs were not re-keyed');
          await setMeta(tx, META_MASTER_CHECK, check);
          return result;
        },
        { lockTenant: null, writing: new Date(), fence: 'exclusive' },
      ),
    );
    this.integrityKey = adopted;
    this.fence.arm(check);
    return result;
  }

  keyReplaced(): Promise<boolean> {
    return this.read((q) => this.fence.replaced(q));
  }

  /** A PostgreSQL store is not a file on this machine. */
  exposure(): null {
    return null;
  }

  /** A server hears of changes (session.ts); without a session, cached rows only expire. */
  changes(): ChangeFeed {
    return this.session?.feed() ?? { moved: () => false, maxAgeMs: REVALIDATE_MS };
  }

  status(): StoreStatus {
    if (!this.session) return { listening: null, notifications: 0, leading: true };
    const { listening, notifications, leading } = this.session.state;
    return { listening, notifications, leading };
  }

  ready(): Promise<void> {
    return checkReady(this, POSTGRES_LATEST_VERSION);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.session?.close();
      await this.pool.end();
    })();
    return this.closing;
  }

  /** A write transaction, run again when a deadlock or serialization failure undid it whole. */
  private async retrying<T>(waitMs: number | undefined, run: (begin: string) => Promise<T>): Promise<T> {
    const timeout = Math.max(1, Math.floor(waitMs ?? this.lockTimeoutMs));
    // lock_timeout bounds the wait for the tenant's lock (and any row lock): store_locked, not a hang.
    const begin = `BEGIN; SET LOCAL lock_timeout = ${timeout}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(begin);
      } catch (error) {
        if (attempt >= WRITE_ATTEMPTS || !isRetryable(error)) throw postgresError(error, this.location);
      }
    }
  }

  /**
   * A pooled connection inside a fresh transaction. A connection the server dropped while it sat
   * in the pool (a restart of PostgreSQL) fails before the transaction began: it is thrown away
   * and the transaction starts once more on a new one.
   */
  private async begin(statement: string, sealing: boolean): Promise<PoolClient> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw postgresError(error, this.location);
      }
      try {
        // The table for the integrity notes: made once per connection, outside any transaction.
        if (sealing && !this.noting.has(client)) {
          await client.query(DIRTY_TABLE);
          this.noting.add(client);
        }
        await client.query(statement);
        return client;
      } catch (error) {
        client.release(true);
        if (attempt >= 2 || !connectionLost(error)) throw postgresError(error, this.location);
      }
    }
  }

  /**
   * `writing`: the time for erasing ended graces (a write); `fence`: how a write holds the master
   * key check value's row (keyFence.ts), before any other lock.
   */
  private async transaction<T>(
    begin: string,
    work: (q: PostgresQueries) => Promise<T>,
    options: { lockTenant: string | null; writing?: Date; fence?: 'share' | 'exclusive' },
  ): Promise<T> {
    const { lockTenant, writing } = options;
    const sealing = writing && this.integrityKey;
    const client = await this.begin(begin, !!sealing);
    let broken = false;
    try {
      const queries = new PostgresQueries(client, sealing || null, this.integrityKey);
      if (options.fence) await this.fence.pass(queries, options.fence);
      if (lockTenant !== null) {
        await client.query({
          name: 'akm_lock_tenant',
          text: 'SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE',
          values: [lockTenant],
        });
      }
      // (Erasing touches no covered column: nothing to reseal.)
      if (writing && lockTenant !== null)
        await eraseEndedGraces(new PostgresQueries(client, null, null), writing, lockTenant);
      const result = await work(queries);
      await queries.settle();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw isRetryable(error) ? error : postgresError(error, this.location);
    } finally {
      client.release(broken);
    }
  }
}

export async function openPostgresStore(url: string, options: OpenStoreOptions = {}): Promise<PostgresStore> {
  const env = options.env ?? process.env;
  const target = parsePostgresUrl(url, env);
  // Loaded here: a SQLite run never pays for the driver.
  const pg = await import('pg');
  // count(*) and bigint columns come back as numbers (they stay far below 2^53).
  const types = new pg.default.TypeOverrides();
  types.setTypeParser(pg.default.types.builtins.INT8, Number);
  const Client = closingOnFailure(pg.default.Client);
  const pool = new pg.default.Pool({ ...poolConfig(target, env, options.server ? 10 : 2), types, Client });
  const session = options.server
    ? new StoreSession(
        (config) => new Client(config),
        { ...clientConfig(target, env), query_timeout: 5000 },
        REVALIDATE_MS,
      )
    : null;
  // An idle connection that the server drops (a restart) must not take the process down;
  // the next query reconnects or fails with a clear error.
  pool.on('error', () => {});
  // Likewise a connection the server ends while the pool is closing it, or while it is checked out:
  // the query in flight (if any) fails with the error, nothing else may throw it.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await prepareSchema(pool, target.display, options.create === true);
  } catch (error) {
    await pool.end().catch(() => {});
    throw postgresError(error, target.display);
  }
  // A server starts with its change feed and job lock in place when PostgreSQL allows it.
  await session?.start();
  return new PostgresStore(pool, target.display, options.busyTimeoutMs ?? 15_000, session);
}
