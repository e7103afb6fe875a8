/**
 * The real binary on a PostgreSQL store: `akm init` creates the schema, commands run on it with
 * the URL in an environment variable (--store-env), the password never appears in what akm
 * prints or remembers, a password in argv is warned about, and `akm serve` serves the store to
 * a remote CLI and to /v1/verify.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresOnly } from '../helpers/engines.js';
import { Sandbox } from '../helpers/cli.js';
import { postgresStoreUrl } from '../helpers/pg.js';
import { postVerify } from '../helpers/server.js';
import { spawnServe } from '../helpers/serveProcess.js';

const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);

postgresOnly(
  'init, create, list and whoami on PostgreSQL, the URL in --store-env; the password is never shown',
  async (t) => {
    const box = new Sandbox('akm-e2e-pg-');
    t.teardown(() => box.cleanup());
    const url = await postgresStoreUrl();
    const password = passwordOf(url);
    const env = { DATABASE_URL: url };
    const init = await box.run(
      ['--store-env', 'DATABASE_URL', 'init', '--tenant', 'acme', '--admin', 'ops@acme.test'],
      {
        env,
      },
    );
    t.is(init.code, 0, init.stderr);
    const created = await box.json(
      ['--store-env', 'DATABASE_URL', 'create', '--name', 'ci', '--tenant-level', '--expires-in', '30', '--no-copy'],
      { env },
    );
    t.is(created.code, 0, created.stderr);
    const listed = await box.json<Array<{ accessKeyId: string }>>(['--store-env', 'DATABASE_URL', 'list'], { env });
    t.deepEqual(
      listed.value.map((k) => k.accessKeyId),
      [created.value.accessKeyId],
    );
    const whoami = await box.json<{ store: string }>(['--store-env', 'DATABASE_URL', 'whoami'], { env });
    t.is(whoami.value.store, url.replace(`:${encodeURIComponent(password)}@`, '@'));
    const verified = await box.run(['--store-env', 'DATABASE_URL', 'verify'], { env, input: created.value.keyString });
    t.is(verified.code, 0, verified.stderr);
    const config = await box.run(['--store-env', 'DATABASE_URL', 'config', 'show', '--json'], { env });
    t.is(config.code, 0, config.stderr);
    const outputs = [
      init.stdout,
      init.stderr,
      created.stderr,
      listed.stderr,
      JSON.stringify(whoami.value),
      config.stdout,
    ];
    for (const output of outputs) t.false(output.includes(password), 'the password is not printed');
    let profile = '';
    try {
      profile = readFileSync(join(box.home, '.config', 'akm', 'config.json'), 'utf8');
    } catch {
      // no profile written: fine
    }
    t.false(profile.includes(password), 'nor remembered');

    const unset = await box.run(['--store-env', 'NO_SUCH_VARIABLE', 'list']);
    t.is(unset.code, 2);
    t.regex(unset.stderr, /NO_SUCH_VARIABLE is not set/);
  },
);

postgresOnly('a password given in --store is warned about; a wrong one is exit 6 without echoing it', async (t) => {
  const box = new Sandbox('akm-e2e-pg-');
  t.teardown(() => box.cleanup());
  const url = await postgresStoreUrl();
  const init = await box.run(['--store', url, 'init', '--tenant', 'acme', '--admin', 'ops@acme.test']);
  t.is(init.code, 0, init.stderr);
  t.regex(init.stderr, /password in --store can be read by anyone in the process list/);
  const wrong = new URL(url);
  wrong.password = 'not-the-password-42';
  const refused = await box.run(['list'], { env: { AKM_STORE: wrong.toString() } });
  t.is(refused.code, 6);
  t.regex(refused.stderr, /PostgreSQL refused the login/);
  t.false(refused.stderr.includes('not-the-password-42'));
  t.notRegex(refused.stderr, /process list/, 'AKM_STORE is not argv: no warning');
});

postgresOnly('akm serve on PostgreSQL serves a remote CLI and /v1/verify', async (t) => {
  const server = await spawnServe([], {}, 'postgres');
  t.teardown(server.stop);
  const password = passwordOf(server.store.location);
  const box = new Sandbox('akm-e2e-pg-client-');
  t.teardown(() => box.cleanup());
  const creds = {
    AKM_STORE: server.url,
    AKM_ACCESS_KEY_ID: server.admin.accessKeyId,
    AKM_SECRET_ACCESS_KEY: server.admin.secretKey,
    AKM_MASTER_KEY: undefined,
  };
  const created = await box.json(['create', '--name', 'remote', '--tenant-level', '--expires-in', '7', '--no-copy'], {
    env: creds,
  });
  t.is(created.code, 0, created.stderr);
  const verify = await postVerify(server.url, { keyString: created.value.keyString });
  t.is(verify.status, 200);
  t.is(verify.json.accessKeyId, created.value.accessKeyId);
  const deactivated = await box.run(['deactivate', 'remote'], { env: creds });
  t.is(deactivated.code, 0, deactivated.stderr);
  const after = await postVerify(server.url, { keyString: created.value.keyString });
  t.is(after.status, 401, 'a change made through the server is seen at once');
  t.false(server.child.stderr().includes(password), 'the server log never shows the password');
  t.regex(server.child.stderr(), /"engine":"postgres"/);
});
