/**
 * What only the PostgreSQL engine has: where the password comes from (URL, PGPASSWORD, pgpass),
 * PostgreSQL's failures as one clear exit-6 line that never shows the password, databases that
 * are not akm's or are newer than this akm (left untouched), migrations run once by replicas
 * starting together, and the tenant row lock that serializes the writes of one tenant.
 */
import type { ExecutionContext } from 'ava';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AkmError, UnavailableError, type ErrorCode } from '../../src/core/errors.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { ensureStoreId, initTenant } from '../../src/service/local/bootstrap.js';
import { LocalService } from '../../src/service/local/service.js';
import { COVERED, COVERED_TABLES, GRACE_COLUMNS, type CoveredTable } from '../../src/store/integrity.js';
import { openStore } from '../../src/store/open.js';
import { BYTEA_COLUMNS } from '../../src/store/postgres/integrity.js';
import { postgresMigrations, POSTGRES_LATEST_VERSION } from '../../src/store/postgres/schema.js';
import { migrations } from '../../src/store/sqlite/schema.js';
import { BIN, runNode, Sandbox } from '../helpers/cli.js';
import { postgresOnly } from '../helpers/engines.js';
import { postgresDatabaseUrl, postgresStoreUrl } from '../helpers/pg.js';
import { keyInput } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

const noKeychain = () => ({}) as never;

function withoutPassword(url: string): { url: string; password: string } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString(), password };
}

/** Opening must fail with this code, in one line that names the store but not its password. */
async function refusedToOpen(
  t: ExecutionContext,
  url: string,
  code: ErrorCode,
  options: { env?: NodeJS.ProcessEnv; create?: boolean; secret?: string } = {},
): Promise<AkmError> {
  const error = await t.throwsAsync(() => openStore(url, { env: options.env ?? {}, create: options.create }));
  if (!(error instanceof AkmError)) {
    t.fail(`expected an akm error ${code}, got ${String(error)}`);
    return error as unknown as AkmError;
  }
  t.is(error.code, code, error.message);
  t.is(error.exitCode, code === 'store_url_invalid' ? 2 : 6);
  t.false(error.message.includes('\n'));
  if (options.secret) t.false(`${error.message} ${error.hint}`.includes(options.secret), 'the password is not shown');
  return error;
}

postgresOnly('the integrity triggers a store has are the ones COVERED generates; covered bytes are hex', async (t) => {
  const store = await tempStore('postgres');
  t.teardown(store.cleanup);
  const raw = await store.raw();
  t.teardown(() => raw.close());
  const updateColumns = async (trigger: string) =>
    (
      await raw.all<{ c: string }>(
        `SELECT event_object_column AS c FROM information_schema.triggered_update_columns
          WHERE trigger_schema = current_schema() AND trigger_name = @trigger`,
        { trigger },
      )
    )
      .map((r) => r.c)
      .sort();
  const triggers = new Set(
    (
      await raw.all<{ name: string }>(
        'SELECT DISTINCT trigger_name AS name FROM information_schema.triggers WHERE trigger_schema = current_schema()',
      )
    ).map((r) => r.name),
  );
  for (const table of COVERED_TABLES) {
    const spec: CoveredTable = COVERED[table];
    t.deepEqual(await updateColumns(`akm_${table}_check`), [...spec.columns].sort(), table);
    t.true(triggers.has(`akm_${table}_new`), table);
    for (const set of Object.values(spec.sets)) t.true(triggers.has(`akm_${set.table}_touch`), set.table);
  }
  t.deepEqual(await updateColumns('akm_keys_grace'), [...GRACE_COLUMNS].sort());
  const bytes = await raw.all<{ c: string }>(
    "SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'bytea'",
  );
  const covered = new Set([...COVERED_TABLES.flatMap((table) => COVERED[table].columns), ...GRACE_COLUMNS]);
  for (const { c } of bytes) if (covered.has(c)) t.true(BYTEA_COLUMNS.has(c), `${c} is encoded as hex`);
});

postgresOnly('the migration histories of both engines have the same versions', (t) => {
  t.deepEqual(
    postgresMigrations.map((m) => m.version),
    migrations.map((m) => m.version),
  );
  t.deepEqual(
    postgresMigrations.map((m) => m.description),
    migrations.map((m) => m.description),
  );
});

postgresOnly(
  'the password comes from the URL, else PGPASSWORD, else a pgpass file that only its owner can read',
  async (t) => {
    const store = await tempStore('postgres');
    t.teardown(store.cleanup);
    const { url, password } = withoutPassword(store.location);
    const opens = async (env: NodeJS.ProcessEnv, target = url) => {
      const opened = await openStore(target, { env });
      await opened.close();
    };
    await opens({}, store.location);
    await opens({ PGPASSWORD: password });
    // The URL's password wins over the environment's.
    await opens({ PGPASSWORD: 'not-it' }, store.location);

    const pgpass = join(store.dir, 'pgpass');
    const host = new URL(url);
    writeFileSync(pgpass, `# akm test\nother:1:*:*:nope\n${host.hostname}:${host.port}:*:akm:${password}\n`, {
      mode: 0o600,
    });
    await opens({ PGPASSFILE: pgpass });
    await opens({ HOME: store.dir, PGPASSFILE: undefined }).catch(() => t.pass('no ~/.pgpass in the temp HOME'));
    // Readable by others: ignored, as libpq ignores it.
    chmodSync(pgpass, 0o644);
    await refusedToOpen(t, url, 'store_auth_failed', { env: { PGPASSFILE: pgpass }, secret: password });
    await refusedToOpen(t, url, 'store_auth_failed', { env: {}, secret: password });
    const wrong = new URL(store.location);
    wrong.password = 'wrong-password';
    const error = await refusedToOpen(t, wrong.toString(), 'store_auth_failed', { secret: 'wrong-password' });
    t.regex(error.message, /wrong password/);
  },
);

postgresOnly('akm exits as soon as a login fails, even one that the driver gave up itself', async (t) => {
  // Without a password to answer the server's challenge with, the driver gave up and left its
  // socket open; the process then waited for PostgreSQL's authentication timeout (a minute).
  const store = await tempStore('postgres');
  t.teardown(store.cleanup);
  const sandbox = new Sandbox();
  t.teardown(() => sandbox.cleanup());
  const { url } = withoutPassword(store.location);
  const result = await runNode([BIN, '--store', url, 'list', '--json'], {
    env: sandbox.env({ PGPASSWORD: undefined, PGPASSFILE: join(sandbox.home, 'none') }),
    timeoutMs: 30_000,
  });
  t.is(result.code, 6, result.stderr);
  t.is((JSON.parse(result.stderr) as { error: { code: string } }).error.code, 'store_auth_failed');
});

postgresOnly("PostgreSQL's failures are one clear exit-6 line, never with the password", async (t) => {
  const store = await tempStore('postgres');
  t.teardown(store.cleanup);
  const { password } = withoutPassword(store.location);
  const url = new URL(store.location);
  const at = (change: (u: URL) => void) => {
    const copy = new URL(url);
    change(copy);
    return copy.toString();
  };
  const closedPort = at((u) => (u.port = '1'));
  t.regex((await refusedToOpen(t, closedPort, 'store_unreachable', { secret: password })).message, /ECONNREFUSED/);
  await refusedToOpen(
    t,
    at((u) => (u.pathname = '/no_such_database')),
    'store_missing',
    { secret: password },
  );
  for (const create of [false, true]) {
    const error = await refusedToOpen(
      t,
      at((u) => u.searchParams.set('schema', 'no_such_schema')),
      'store_missing',
      {
        secret: password,
        create,
      },
    );
    t.regex(error.message, /the schema .*no_such_schema.* does not exist/);
  }
  await refusedToOpen(
    t,
    at((u) => u.searchParams.set('sslmode', 'sometimes')),
    'store_url_invalid',
  );
  await refusedToOpen(
    t,
    at((u) => u.searchParams.set('schema', 'Robert"; DROP')),
    'store_url_invalid',
  );
  await refusedToOpen(
    t,
    at((u) => u.searchParams.set('application_name', 'x')),
    'store_url_invalid',
  );
  // Through the service too (what the CLI shows), for a store that is there but unreachable.
  const viaService = await t.throwsAsync(() =>
    LocalService.open({ store: closedPort, masterKey: { env: {}, keychain: noKeychain } }),
  );
  t.true(viaService instanceof UnavailableError);
  t.false(viaService?.message.includes(password));
  t.regex(viaService?.message ?? '', /postgres:\/\/akm@127\.0\.0\.1:1\//);
});

postgresOnly('a schema of another application, or one newer than this akm, is refused untouched', async (t) => {
  const foreign = await postgresStoreUrl();
  const raw = await openStore(foreign, { create: true });
  await raw.close();
  // A database schema with someone else's table and no akm marker…
  const other = await postgresStoreUrl();
  const { pool } = await import('../helpers/pg.js').then((m) => m.testDatabase());
  const schema = new URL(other).searchParams.get('schema')!;
  await pool.query(`CREATE TABLE ${schema}.photos (id int PRIMARY KEY, name text)`);
  for (const create of [false, true]) await refusedToOpen(t, other, 'store_foreign', { create });
  t.is((await pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [schema])).rows[0].n, 1);

  // …and an akm store from a newer akm.
  await pool.query(`UPDATE ${new URL(foreign).searchParams.get('schema')}.akm_schema SET version = $1`, [
    POSTGRES_LATEST_VERSION + 1,
  ]);
  const error = await refusedToOpen(t, foreign, 'store_too_new');
  t.regex(error.message, new RegExp(`schema version ${POSTGRES_LATEST_VERSION + 1}, newer than this akm`));
  // An empty schema is not a store until `akm init` makes it one.
  await refusedToOpen(t, await postgresStoreUrl(), 'store_missing');
});

postgresOnly('a database of its own, without ?schema=, works the same', async (t) => {
  const database = await postgresDatabaseUrl();
  t.teardown(database.drop);
  const store = await openStore(database.url, { create: true });
  try {
    const storeId = await ensureStoreId(store);
    await initTenant(store, storeId, deriveKeys(Buffer.alloc(32, 7)), {
      tenantId: 'acme',
      tenantName: 'Acme',
      adminEmail: 'admin@acme.test',
      adminName: '',
      now: new Date(),
      source: 'test',
    });
    t.is(await ensureStoreId(store), storeId, 'the store id is made once');
  } finally {
    await store.close();
  }
});

postgresOnly('replicas opening a new store together migrate it once, and all of them succeed', async (t) => {
  const url = await postgresStoreUrl();
  const stores = await Promise.all(Array.from({ length: 6 }, () => openStore(url, { create: true })));
  t.teardown(() => Promise.all(stores.map((s) => s.close())));
  const version = await stores[0]!.read((q) => q.get<{ version: number }>('SELECT version FROM akm_schema'));
  t.is(version!.version, POSTGRES_LATEST_VERSION);
  const ids = await Promise.all(stores.map((s) => ensureStoreId(s)));
  t.is(new Set(ids).size, 1, 'one store id, whoever asked first');
});

postgresOnly("the writes of one tenant wait for each other; another tenant's do not wait", async (t) => {
  const store = await tempStore('postgres');
  t.teardown(store.cleanup);
  const acme = await store.open();
  const globex = await store.addTenant('globex');
  const other = await store.raw();
  t.teardown(async () => {
    await acme.close();
    await globex.close();
    await other.close();
  });
  await acme.ctx.loadKeys();

  // Another process holds acme's write lock…
  let release!: () => void;
  let held!: () => void;
  const lockHeld = new Promise<void>((resolve) => (held = resolve));
  const holding = other.store.write('acme', async () => {
    held();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await lockHeld;
  let created = false;
  const waiting = acme.createKey(keyInput({ name: 'waits' })).then((key) => ((created = true), key));
  // …globex writes meanwhile…
  t.is((await globex.createKey(keyInput({ name: 'free' }))).tenantId, 'globex');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.false(created, "acme's write waits for the lock");
  release();
  await holding;
  t.is((await waiting).name, 'waits');
});
