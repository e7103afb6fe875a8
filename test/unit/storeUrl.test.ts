/** Store locations: what is a PostgreSQL URL, how it is shown without its password, and the pgpass file. */
import test from 'ava';
import fc from 'fast-check';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { displayStore, isPostgresStore, storeHasPassword } from '../../src/core/storeUrl.js';
import { parsePostgresUrl } from '../../src/store/postgres/connect.js';
import { pgpassLookup } from '../../src/store/postgres/pgpass.js';
import { resolveSettings } from '../../src/cli/settings.js';

test('postgres:// and postgresql:// are PostgreSQL stores; paths and server URLs are not', (t) => {
  for (const store of ['postgres://h/db', 'POSTGRESQL://u@h/db', 'postgresql:///db?host=/run/postgresql'])
    t.true(isPostgresStore(store), store);
  for (const store of ['/srv/akm.db', 'postgres.db', 'https://akm.example', './postgres://x'])
    t.false(isPostgresStore(store));
});

test('a store is shown without its password, whatever the password holds', (t) => {
  const passwordChar = fc.constantFrom(...'abcXYZ019:@/?#%&=+ !"$\'()*,;[]\\^`{|}~é'.split(''));
  fc.assert(
    fc.property(fc.string({ unit: passwordChar, minLength: 1, maxLength: 40 }), (password) => {
      const secret = `sekret-${password}`;
      const url = `postgres://akm:${encodeURIComponent(secret)}@db.internal:5432/akm?sslmode=require`;
      const shown = displayStore(url);
      t.true(storeHasPassword(url));
      t.false(shown.includes('sekret'));
      t.is(shown, 'postgres://akm@db.internal:5432/akm?sslmode=require');
      t.is(parsePostgresUrl(url, {}).password, secret);
    }),
    { numRuns: 300 },
  );
  t.is(displayStore('postgres://akm@db/akm'), 'postgres://akm@db/akm');
  t.false(storeHasPassword('postgres://akm@db/akm'));
  t.is(displayStore('/srv/akm/akm.db'), '/srv/akm/akm.db');
  // Not parseable as a URL: whatever sits before "@" goes, user included.
  t.is(displayStore('postgres://akm:sekret@db:99999/akm'), 'postgres://db:99999/akm');
  t.true(storeHasPassword('postgres://akm:sekret@db:99999/akm'));
});

test('a URL without user, database or port takes them from PGUSER, PGDATABASE, PGPORT, as libpq does', (t) => {
  const target = parsePostgresUrl('postgres://db.internal', { PGUSER: 'svc', PGDATABASE: 'keys', PGPORT: '6432' });
  t.like(target, { host: 'db.internal', port: 6432, user: 'svc', database: 'keys', password: undefined });
  t.is(parsePostgresUrl('postgres:///akm?host=/run/postgresql', { PGUSER: 'svc' }).host, '/run/postgresql');
  t.is(parsePostgresUrl('postgres://u@h/d?schema=akm_1', {}).schema, 'akm_1');
  for (const bad of ['postgres://u@h/d?schema=Bad', 'postgres://u@h/d?sslmode=prefer', 'postgres://u@h/d?options=x'])
    t.throws(() => parsePostgresUrl(bad, {}), { code: 'store_url_invalid' });
});

test('pgpass: first matching line wins, * matches anything, \\: escapes, a file others can read is ignored', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'akm-pgpass-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pgpass');
  writeFileSync(
    file,
    [
      '# comment',
      '',
      'db.internal:5432:akm:reader:first',
      'db.internal:*:akm:svc:pa\\:ss\\\\word',
      '*:*:*:svc:fallback',
      'short:line',
    ].join('\n'),
    { mode: 0o600 },
  );
  const want = { host: 'db.internal', port: 5432, database: 'akm', user: 'svc' };
  t.is(pgpassLookup(file, want), 'pa:ss\\word');
  t.is(pgpassLookup(file, { ...want, database: 'other' }), 'fallback');
  t.is(pgpassLookup(file, { ...want, user: 'reader' }), 'first');
  t.is(pgpassLookup(file, { ...want, user: 'nobody' }), undefined);
  t.is(pgpassLookup(join(dir, 'missing'), want), undefined);
  writeFileSync(file, '*:*:*:*:leaked\n');
  chmodSync(file, 0o640);
  t.is(pgpassLookup(file, want), undefined);
});

test('--store-env names the variable holding the store; it beats AKM_STORE and may not come with --store', (t) => {
  const env = { HOME: '/nonexistent', AKM_STORE: '/from/env.db', DATABASE_URL: 'postgres://akm:pw@db/akm' };
  t.is(resolveSettings({ storeEnv: 'DATABASE_URL' }, env).store, env.DATABASE_URL);
  t.false(resolveSettings({ storeEnv: 'DATABASE_URL' }, env).passwordInArgv, 'the password is not in argv');
  t.throws(() => resolveSettings({ storeEnv: 'DATABASE_URL', store: '/other.db' }, env), { code: 'usage' });
  t.throws(() => resolveSettings({ storeEnv: 'UNSET_VARIABLE' }, env), { code: 'store_env_unset' });
  t.throws(() => resolveSettings({ storeEnv: 'not a name' }, env), { code: 'usage' });
  t.true(resolveSettings({ store: 'postgres://akm:pw@db/akm' }, env).passwordInArgv);
  t.false(resolveSettings({ store: 'postgres://akm@db/akm' }, env).passwordInArgv);
});
