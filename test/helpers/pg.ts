/**
 * PostgreSQL for the tests. scripts/test.sh starts a throw-away cluster and exports its URL
 * in AKM_TEST_PG_URL. Each test file (ava runs each in a process of its own) gets a database
 * of its own, dropped when the file is done (engines.ts registers that); each store in it is
 * a schema of its own, named in the store URL (?schema=…), so tests do not see each other.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.AKM_TEST_PG_URL;
export const postgresAvailable = !!ADMIN_URL;

let database: Promise<{ name: string; pool: pg.Pool }> | undefined;
let schemas = 0;

function urlFor(databaseName: string, schema?: string): string {
  const url = new URL(ADMIN_URL!);
  url.pathname = `/${databaseName}`;
  if (schema) url.searchParams.set('schema', schema);
  return url.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** This file's database, made on first use. */
export function testDatabase(): Promise<{ name: string; pool: pg.Pool }> {
  if (!ADMIN_URL) throw new Error('AKM_TEST_PG_URL is not set: run the tests through npm test (scripts/test.sh)');
  database ??= (async () => {
    const name = `akm_${process.pid}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    return { name, pool: new pg.Pool({ connectionString: urlFor(name), max: 2 }) };
  })();
  return database;
}

/** Dropped once every connection to it has gone (a closed pool's connections end a moment after it resolves). */
export async function dropTestDatabase(): Promise<void> {
  if (!database) return;
  const { name, pool } = await database;
  database = undefined;
  await pool.end();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    for (let tries = 0; tries < 100; tries++) {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      if (rows[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The URL of a new, empty schema in this file's database (with the cluster's password in it). */
export async function postgresStoreUrl(): Promise<string> {
  const { name, pool } = await testDatabase();
  const schema = `s${++schemas}_${randomBytes(3).toString('hex')}`;
  await pool.query(`CREATE SCHEMA ${schema}`);
  return urlFor(name, schema);
}

/** A database of its own, empty: for what a schema cannot show (a foreign table in the default schema…). */
export async function postgresDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `akm_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return { url: urlFor(name), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
