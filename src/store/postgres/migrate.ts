/**
 * Opening a PostgreSQL store: the `akm_schema` table marks a database as akm's and holds the
 * schema version. A database with other tables and no marker is not ours to touch; one newer
 * than this akm is refused untouched. Migrations run in one transaction under an advisory
 * lock, so replicas starting together migrate once.
 */
import type { Pool, PoolClient } from 'pg';
import { UnavailableError } from '../../core/errors.js';
import { POSTGRES_LATEST_VERSION, postgresMigrations } from './schema.js';

/** Any fixed number: the advisory lock that one migrating process holds. */
const MIGRATION_LOCK = 0x616b6d31;

interface SchemaState {
  /** the schema akm's tables are in; null when the one the URL names (?schema=) does not exist */
  schema: string | null;
  marked: boolean;
  version: number;
  tables: number;
}

async function schemaState(client: PoolClient): Promise<SchemaState> {
  const { rows } = await client.query<{ schema: string | null; marked: boolean; tables: number }>(
    `SELECT current_schema() AS schema, to_regclass('akm_schema') IS NOT NULL AS marked,
            (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema())::int AS tables`,
  );
  const { schema, marked, tables } = rows[0]!;
  if (!marked) return { schema, marked, tables, version: 0 };
  const version = await client.query<{ version: number }>('SELECT version FROM akm_schema');
  return { schema, marked, tables, version: version.rows[0]?.version ?? 0 };
}

function refuseUnusable(state: SchemaState, where: string, create: boolean): void {
  if (state.schema === null)
    throw new UnavailableError(`the schema that ${where} names does not exist`, {
      hint: 'create it first (CREATE SCHEMA name), or leave ?schema= out of the URL',
      code: 'store_missing',
    });
  if (!state.marked && state.tables > 0)
    throw new UnavailableError(`the database of ${where} holds other tables and is not an akm store`, {
      hint: 'give akm a database of its own',
      code: 'store_foreign',
    });
  if (!state.marked && !create)
    throw new UnavailableError(`no akm store in ${where}`, {
      hint: 'run `akm init` to create one',
      code: 'store_missing',
    });
  if (state.version > POSTGRES_LATEST_VERSION)
    throw new UnavailableError(
      `the store ${where} has schema version ${state.version}, ` +
        `newer than this akm understands (${POSTGRES_LATEST_VERSION})`,
      { hint: 'upgrade akm; the store was left untouched', code: 'store_too_new' },
    );
}

export async function prepareSchema(pool: Pool, where: string, create: boolean): Promise<void> {
  const client = await pool.connect();
  try {
    const seen = await schemaState(client);
    refuseUnusable(seen, where, create);
    if (seen.version === POSTGRES_LATEST_VERSION) return;
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Re-read under the lock: another process may have migrated meanwhile.
      const current = await schemaState(client);
      refuseUnusable(current, where, create);
      await client.query(
        'CREATE TABLE IF NOT EXISTS akm_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)',
      );
      for (const step of postgresMigrations) if (step.version > current.version) await client.query(step.sql);
      await client.query(
        'INSERT INTO akm_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version',
        [POSTGRES_LATEST_VERSION],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}
