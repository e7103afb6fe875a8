/**
 * `akm store copy <from> <to>` at the command line: a store copied and then used in place of
 * the original; `env:VAR` keeps a PostgreSQL password out of the process list (a password in
 * an argument is warned about and never printed); a server URL, an unset variable or a
 * non-empty target are clear refusals.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/cli.js';
import { postgresOnly } from '../helpers/engines.js';
import { postgresStoreUrl } from '../helpers/pg.js';

test('a copied store works in place of the original', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const created = await box.akmJson(['create', '--name', 'ci', '--tenant-level', '--expires-in', '5', '--no-copy']);
  t.is(created.code, 0, created.stderr);
  const copy = join(box.home, 'copy.db');
  const result = await box.akm(['store', 'copy', box.storePath, copy]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /keys\s+1/);
  t.regex(result.stderr, /copied .* 1 tenant, every audit chain and MAC checked/);
  const verified = await box.akm(['verify', '--store', copy], { input: created.value.keyString });
  t.is(verified.code, 0, verified.stderr);
  const again = await box.akm(['store', 'copy', box.storePath, copy]);
  t.is(again.code, 4);
  t.regex(again.stderr, /is not empty/);
});

test('refusals: a server URL, an unset variable, a password in an argument (warned, never shown)', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const server = await box.akm(['store', 'copy', box.storePath, 'https://akm.example.test']);
  t.is(server.code, 2);
  t.regex(server.stderr, /works on local stores/);
  const unset = await box.akm(['store', 'copy', box.storePath, 'env:NO_SUCH_AKM_VAR', '--json']);
  t.is(unset.code, 2);
  t.is(JSON.parse(unset.stderr).error.code, 'store_env_unset');
  const password = 's3cret-pw';
  const exposed = await box.akm(['store', 'copy', box.storePath, `postgres://akm:${password}@127.0.0.1:1/akm`]);
  t.is(exposed.code, 6);
  t.regex(exposed.stderr, /the password in <to> can be read by anyone in the process list/);
  t.false(exposed.stderr.includes(password));
  t.false(existsSync(join(box.home, 'akm')));
});

postgresOnly('SQLite to PostgreSQL named by env:VAR, and back', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const env = { DATABASE_URL: await postgresStoreUrl() };
  const there = await box.akm(['store', 'copy', box.storePath, 'env:DATABASE_URL', '--json'], { env });
  t.is(there.code, 0, there.stderr);
  t.false(there.stdout.includes(new URL(env.DATABASE_URL).password), 'the password is never printed');
  const listed = await box.akm(['--store-env', 'DATABASE_URL', 'users', 'list', '--json'], { env });
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual(
    listed.json<Array<{ email: string }>>().map((u) => u.email),
    ['admin@acme.test'],
  );
  const back = join(box.home, 'back.db');
  const home = await box.akm(['store', 'copy', 'env:DATABASE_URL', back], { env });
  t.is(home.code, 0, home.stderr);
});
