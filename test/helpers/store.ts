/**
 * Real stores for the service and end-to-end layers: a SQLite file in a temp folder, or a
 * PostgreSQL schema of its own in the test file's database (see pg.ts).
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterKeyOptions } from '../../src/crypto/masterKey.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { ensureStoreId, initTenant, storeKeys } from '../../src/service/local/bootstrap.js';
import { META_STORE_ID } from '../../src/service/local/storeMasterKey.js';
import { getMeta } from '../../src/store/meta.js';
import { LocalService } from '../../src/service/local/service.js';
import type { IssuedKey } from '../../src/service/types.js';
import { openStore } from '../../src/store/open.js';
import type { Engine, Params, Store } from '../../src/store/types.js';
import { cell, type TableDump } from './db.js';
import { postgresStoreUrl } from './pg.js';

export interface TempStore {
  engine: Engine;
  /** a temp folder of the test's own (the SQLite file lives here) */
  dir: string;
  /** what --store takes: the SQLite file, or the postgres:// URL (with its password) */
  location: string;
  /** the SQLite file (SQLite-only tests of the file itself) */
  path: string;
  masterKey: string;
  masterKeyOptions: MasterKeyOptions;
  admin: string;
  tenantId: string;
  open(now?: () => Date): Promise<LocalService>;
  /**
   * The store as another akm process holds it (keys loaded, integrity checks armed): writes
   * through the store layer on it are sealed like akm's own. The caller closes it.
   */
  connection(): Promise<Store>;
  /** another tenant in the same store (admin admin@<id>.test), opened as a service */
  addTenant(tenantId: string): Promise<LocalService>;
  /** another connection to the store, bypassing akm: for looking at it and tampering with it */
  raw(): Promise<RawStore>;
  cleanup(): Promise<void>;
}

/** SQL straight to the store, each statement in its own transaction (named parameters, as akm's queries). */
export interface RawStore {
  store: Store;
  all<T = Record<string, any>>(sql: string, params?: Params): Promise<T[]>;
  get<T = Record<string, any>>(sql: string, params?: Params): Promise<T | undefined>;
  run(sql: string, params?: Params): Promise<number>;
  /** every row of every table, canonical (rows sorted, bytes as hex): equal dumps mean equal data */
  dump(): Promise<TableDump>;
  close(): Promise<void>;
}

const noKeychain = () => {
  throw new Error('tests of the service layer pass the master key in AKM_MASTER_KEY');
};

export async function rawStore(location: string): Promise<RawStore> {
  const store = await openStore(location);
  const tables =
    store.engine === 'sqlite'
      ? "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
      : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name';
  const raw: RawStore = {
    store,
    all: (sql, params) => store.read((q) => q.all(sql, params)),
    get: (sql, params) => store.read((q) => q.get(sql, params)),
    run: (sql, params) => store.write(null, (q) => q.run(sql, params)),
    dump: () =>
      store.read(async (q) => {
        const dump: TableDump = {};
        for (const { name } of await q.all<{ name: string }>(tables)) {
          const rows = await q.all<Record<string, unknown>>(`SELECT * FROM "${name}"`);
          dump[name] = rows.map((row) => JSON.stringify(Object.entries(row).map(([k, v]) => [k, cell(v)]))).sort();
        }
        return dump;
      }),
    close: () => store.close(),
  };
  return raw;
}

/**
 * A fresh store with tenant "acme" and admin admin@acme.test, keyed by a random master key. A
 * PostgreSQL store is a new schema in the test file's database, unless `at` names another place.
 */
export async function tempStore(engine: Engine = 'sqlite', prefix = 'akm-test-', at?: string): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'akm.db');
  const location = engine === 'sqlite' ? path : (at ?? (await postgresStoreUrl()));
  const masterKey = randomBytes(32).toString('base64');
  const masterKeyOptions: MasterKeyOptions = { env: { AKM_MASTER_KEY: masterKey }, keychain: noKeychain };
  const store = await openStore(location, { create: true });
  try {
    const storeId = await ensureStoreId(store);
    await initTenant(store, storeId, deriveKeys(Buffer.from(masterKey, 'base64')), {
      tenantId: 'acme',
      tenantName: 'Acme',
      adminEmail: 'admin@acme.test',
      adminName: 'Admin',
      now: new Date(),
      source: 'test',
    });
  } finally {
    await store.close();
  }
  return {
    engine,
    dir,
    location,
    path,
    masterKey,
    masterKeyOptions,
    admin: 'admin@acme.test',
    tenantId: 'acme',
    open: (now) => LocalService.open({ store: location, masterKey: masterKeyOptions, now, source: 'test' }),
    connection: async () => {
      const connection = await openStore(location);
      await storeKeys(connection, masterKeyOptions);
      return connection;
    },
    addTenant: async (tenantId) => {
      const other = await openStore(location);
      try {
        const storeId = (await other.read((q) => getMeta(q, META_STORE_ID)))!;
        await initTenant(other, storeId, deriveKeys(Buffer.from(masterKey, 'base64')), {
          tenantId,
          tenantName: tenantId,
          adminEmail: `admin@${tenantId}.test`,
          adminName: '',
          now: new Date(),
          source: 'test',
        });
      } finally {
        await other.close();
      }
      return LocalService.open({ store: location, tenantId, masterKey: masterKeyOptions, source: 'test' });
    },
    raw: () => rawStore(location),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A never-expiring tenant-level key in the Administrators group: what a server's tests sign with. */
export async function adminKey(store: TempStore): Promise<IssuedKey> {
  const local = await store.open();
  try {
    return await local.createKey({
      name: 'admin',
      type: 'access',
      expiry: { kind: 'never' },
      owner: store.admin,
      groups: ['Administrators'],
      roles: [],
    });
  } finally {
    await local.close();
  }
}

/** Tenant acme and a second tenant, globex, in one new store, both opened as services (closed at the end of the test). */
export async function twoTenants(
  t: ExecutionContext,
  engine: Engine,
): Promise<{ store: TempStore; acme: LocalService; globex: LocalService }> {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const acme = await store.open();
  const globex = await store.addTenant('globex');
  t.teardown(async () => {
    await acme.close();
    await globex.close();
  });
  return { store, acme, globex };
}

/**
 * The store as it is now, to be put back later (between tampering experiments). Every service
 * and raw connection must be closed before it is taken and before it is put back. SQLite: a copy
 * of the file; PostgreSQL: every row of every table, put back with triggers and foreign keys
 * off (the test cluster's user is a superuser).
 */
export async function snapshot(store: TempStore): Promise<() => Promise<void>> {
  if (store.engine === 'sqlite') {
    const copy = `${store.path}.snapshot`;
    copyFileSync(store.path, copy); // closed, so the -wal was checkpointed into the file
    return async () => {
      for (const suffix of ['-wal', '-shm']) rmSync(`${store.path}${suffix}`, { force: true });
      copyFileSync(copy, store.path);
    };
  }
  const raw = await store.raw();
  const tables = await raw.all<{ name: string }>(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
  );
  const saved = new Map<string, Array<Record<string, unknown>>>();
  for (const { name } of tables) saved.set(name, await raw.all(`SELECT * FROM "${name}"`));
  await raw.close();
  return async () => {
    const again = await store.raw();
    try {
      await again.store.write(null, async (q) => {
        await q.run('SET LOCAL session_replication_role = replica');
        for (const [name, rows] of saved) {
          await q.run(`DELETE FROM "${name}"`);
          for (const row of rows) {
            const columns = Object.keys(row);
            await q.run(
              `INSERT INTO "${name}" (${columns.map((c) => `"${c}"`).join(', ')})
               VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
              row as Params,
            );
          }
        }
      });
    } finally {
      await again.close();
    }
  };
}

/**
 * After a killed child (PostgreSQL outlives its client): once no other session of this database
 * is running a statement or holding a transaction open, whatever the child had sent has been
 * committed or undone.
 */
export async function settled(db: RawStore): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const busy = await db.get<{ n: number }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')`,
    );
    if (busy!.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('PostgreSQL sessions of the killed child did not end');
}
