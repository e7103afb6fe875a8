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
import type { ChangeFeed, Dialect, OpenStoreOptions, Params, Queryable, Store, WriteOptions } from '../types.js';
import { parsePostgresUrl, poolConfig } from './connect.js';
import { isRetryable, postgresError } from './errors.js';
import { prepareSchema } from './migrate.js';

const POSTGRES: Dialect = {
  engine: 'postgres',
  forUpdate: ' FOR UPDATE',
  jsonList: (select) => `(SELECT coalesce(json_agg(s.v ORDER BY s.v), '[]')::text FROM (${select}) s)`,
  jsonField: (column, field) => `(${column}::jsonb ->> '${field}')`,
  isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === '23505',
};

/** How long a row read from PostgreSQL may be served from a cache (see ChangeFeed). */
export const REVALIDATE_MS = 1000;
const WRITE_ATTEMPTS = 3;

interface Translated {
  name: string;
  text: string;
  names: string[];
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
  found = { name: `akm_${translations.size + 1}`, text, names };
  translations.set(sql, found);
  return found;
}

function query(sql: string, params: Params | undefined): QueryConfig {
  const { name, text, names } = translate(sql);
  const values = names.map((n) => {
    if (!params || !(n in params)) throw new Error(`missing named parameter @${n}`);
    return params[n] ?? null;
  });
  return { name, text, values };
}

class PostgresQueries implements Queryable {
  readonly dialect = POSTGRES;
  constructor(private readonly client: PoolClient) {}

  async all<T>(sql: string, params?: Params): Promise<T[]> {
    return (await this.client.query(query(sql, params))).rows as T[];
  }

  async get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.client.query(query(sql, params))).rows[0] as T | undefined;
  }

  async run(sql: string, params?: Params): Promise<number> {
    return (await this.client.query(query(sql, params))).rowCount ?? 0;
  }
}

export class PostgresStore implements Store {
  readonly engine = 'postgres';
  readonly dialect = POSTGRES;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    readonly location: string,
    private readonly lockTimeoutMs: number,
  ) {}

  read<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY', null, work);
  }

  async write<T>(tenantId: string | null, work: (tx: Queryable) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    const waitMs = Math.max(1, Math.floor(options.waitMs ?? this.lockTimeoutMs));
    // lock_timeout bounds the wait for the tenant's lock (and any row lock): store_locked, not a hang.
    const begin = `BEGIN; SET LOCAL lock_timeout = ${waitMs}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(begin, tenantId, work);
      } catch (error) {
        // A deadlock or serialization failure undid the whole transaction: it can simply run again.
        if (attempt >= WRITE_ATTEMPTS || !isRetryable(error)) throw postgresError(error, this.location);
      }
    }
  }

  /** PostgreSQL has no cheap "did anything change" to ask; cached rows expire instead. */
  changes(): ChangeFeed {
    return { moved: () => false, maxAgeMs: REVALIDATE_MS };
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private async transaction<T>(
    begin: string,
    lockTenant: string | null,
    work: (q: Queryable) => Promise<T>,
  ): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw postgresError(error, this.location);
    }
    let broken = false;
    try {
      await client.query(begin);
      if (lockTenant !== null)
        await client.query({
          name: 'akm_lock_tenant',
          text: 'SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE',
          values: [lockTenant],
        });
      const result = await work(new PostgresQueries(client));
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
  const pool = new pg.default.Pool({ ...poolConfig(target, env, options.server ? 10 : 2), types });
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
  return new PostgresStore(pool, target.display, options.busyTimeoutMs ?? 15_000);
}
