/**
 * The PostgreSQL engine: a connection pool, shared by every request of the process, and by
 * every process on the database (several `akm serve` replicas, admins' CLIs).
 *
 * A write transaction first locks its tenant's row (SELECT … FOR UPDATE), so writes within a
 * tenant are serialized exactly as SQLite's single writer serializes them: a check and the
 * write it guards (the two-key limit, the audit chain) hold across replicas. Rows shared by
 * tenants rely on unique constraints. A read is one REPEATABLE READ snapshot.
 */
import type { Pool, PoolClient } from 'pg';
import { eraseEndedGraces, sealingPending, META_INTEGRITY_PENDING } from '../integrity.js';
import { KeyFence, META_MASTER_CHECK } from '../keyFence.js';
import { deleteMeta, setMeta } from '../meta.js';
import { checkReady } from '../readiness.js';
import type {
  ChangeFeed,
  OpenStoreOptions,
  Queryable,
  RekeyIntegrity,
  Store,
  StoreStatus,
  WriteOptions,
} from '../types.js';
import { clientConfig, closingOnFailure, parsePostgresUrl, poolConfig } from './connect.js';
import { connectionLost, isRetryable, postgresError } from './errors.js';
import { DIRTY_TABLE, noteEveryRow } from './integrity.js';
import { prepareSchema } from './migrate.js';
import { POSTGRES, PostgresQueries } from './queries.js';
import { POSTGRES_LATEST_VERSION } from './schema.js';
import { StoreSession } from './session.js';

/**
 * How long a row read from PostgreSQL may be served from a cache, notifications or not: the
 * bound on how late a cache learns of a change whose notification was lost (see ChangeFeed).
 */
export const REVALIDATE_MS = 1000;
const WRITE_ATTEMPTS = 3;

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
