/**
 * Reproductions 9 to 12 of the authorization issue, through the real binary: e-mail addresses
 * that mail software would rewrite, key and store files open to other users, a secret typed
 * where a key id belongs, and what `whoami` and `serve` say about files.
 */
import test from 'ava';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/cli.js';
import { serverFixture } from '../helpers/server.js';
import { snapshot } from '../helpers/snapshot.js';

async function sandbox(t: import('ava').ExecutionContext): Promise<Sandbox> {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  return box;
}

test('reproduction 9: addresses with control, format, bidi or zero-width characters are refused everywhere', async (t) => {
  const box = await sandbox(t);
  const before = snapshot(box.storePath);
  const bad = [
    'eve\u001b[2J@acme.test',
    'eve\u0085@acme.test',
    'e\u200bve@acme.test',
    'eve@acme\u202e.test',
    'e\u00adve@acme.test',
  ];
  for (const address of bad) {
    for (const args of [
      ['users', 'add', address],
      ['create', '--name', 'x', '--owner', address, '--expires-in', '1', '--no-copy'],
      ['list', '--owner', address],
      ['notifications', '--user', address],
    ]) {
      const result = await box.run(args);
      t.is(result.code, 2, `${args[0]} ${JSON.stringify(address)}: ${result.stderr}`);
      t.regex(result.stderr, /^error: invalid email address/m);
      t.false(
        /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\u202e\u00ad]/.test(result.stderr),
        JSON.stringify(result.stderr),
      );
    }
  }
  const init = await new Sandbox().run(['init', '--tenant', 'x', '--admin', bad[0]!]);
  t.is(init.code, 2);
  t.deepEqual(snapshot(box.storePath), before, 'nothing was stored');

  // IDNA domains are welcome, and both spellings are the same person.
  t.is((await box.run(['users', 'add', 'Zoë@Bücher.de'])).code, 0);
  const again = await box.run(['users', 'add', 'zoë@xn--bcher-kva.de']);
  t.is(again.code, 4);
  const listed = await box.run(['users', 'list', '--json']);
  t.true(listed.stdout.includes('zoë@bücher.de'));
  t.false(
    /[\u0000-\u001f\u007f-\u009f]/.test(listed.stdout.replace(/\n/g, '')),
    'no raw control character to pipe to jq -r',
  );
});

test('reproduction 10: a master key file other users can read is refused, like ssh refuses such a private key', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const file = join(box.home, 'master.key');
  const env = { AKM_MASTER_KEY: undefined };
  t.is(
    (await box.run(['init', '--tenant', 'acme', '--admin', 'admin@acme.test', '--master-key-file', file], { env }))
      .code,
    0,
  );
  t.is((await box.run(['list', '--master-key-file', file], { env })).code, 0, '0600 (control)');
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    chmodSync(file, mode);
    const result = await box.run(['list', '--json', '--master-key-file', file], { env });
    t.is(result.code, 6, mode.toString(8));
    const error = JSON.parse(result.stderr.trim()).error;
    t.is(error.code, 'master_key_exposed');
    t.true(error.message.includes(file));
    const human = await box.run(['list', '--master-key-file', file], { env });
    t.regex(human.stderr, new RegExp(`hint: chmod 600 ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  }
  chmodSync(file, 0o600);
  t.is((await box.run(['list', '--master-key-file', file], { env })).code, 0);
});

test('reproduction 10: a store other users can open is used, with a warning and the fix', async (t) => {
  const box = await sandbox(t);
  t.is((await box.run(['list', '--json'])).stderr, '', 'owner-only: no warning (control)');
  chmodSync(box.storePath, 0o644);
  const result = await box.run(['list', '--json']);
  t.is(result.code, 0);
  t.is(result.stdout.trim(), '[]');
  t.is(
    result.stderr,
    `warning: the store ${box.storePath} is open to other users of this machine (mode 644); fix: chmod 600 ${box.storePath}\n`,
  );
});

test('reproduction 11: a <key> that looks like a secret is refused before any request, and not echoed', async (t) => {
  const box = await sandbox(t);
  const created = await box.json(['create', '--name', 'ci', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const { keyString, secretKey } = created.value;
  for (const args of [
    ['show', keyString],
    ['rotate', secretKey, '--yes', '--no-copy'],
    ['delete', `key:${created.value.accessKeyId}::${secretKey}`, '--yes'],
    ['audit', '--key', secretKey],
  ]) {
    const result = await box.run(args);
    t.is(result.code, 2, args[0]);
    t.regex(result.stderr, /looks like a secret key or a key string; it was not used or sent anywhere/);
    t.false(result.stderr.includes(secretKey.slice(5)), 'not echoed');
  }

  // Remote: refused by the client, so the server never sees it.
  const fx = await serverFixture();
  t.teardown(fx.close);
  const env = {
    AKM_STORE: fx.url,
    AKM_ACCESS_KEY_ID: fx.admin.accessKeyId,
    AKM_SECRET_ACCESS_KEY: fx.admin.secretKey,
    AKM_MASTER_KEY: undefined,
  };
  const remote = await box.run(['show', fx.admin.keyString], { env });
  t.is(remote.code, 2);
  t.false(remote.stderr.includes(fx.admin.secretKey.slice(5)));
  t.deepEqual(
    fx.logs.filter((l) => l.event === 'request'),
    [],
    'no request reached the server',
  );
  t.is((await box.run(['show', fx.admin.accessKeyId], { env })).code, 0, 'an id goes through (control)');
});

test('reproduction 12: whoami shows a store path for a local store only; bad TLS files are usage errors naming the file', async (t) => {
  const box = await sandbox(t);
  t.like((await box.json(['whoami'])).value, { store: box.storePath, mode: 'local' });
  const fx = await serverFixture();
  t.teardown(fx.close);
  const remote = await box.json(['whoami'], {
    env: { AKM_STORE: fx.url, AKM_ACCESS_KEY_ID: fx.admin.accessKeyId, AKM_SECRET_ACCESS_KEY: fx.admin.secretKey },
  });
  t.like(remote.value, { store: fx.url, mode: 'remote' });
  t.false(JSON.stringify(remote.value).includes(fx.store.path));

  const notPem = join(box.home, 'not-a-cert.pem');
  writeFileSync(notPem, 'hello\n');
  const missing = join(box.home, 'missing.pem');
  for (const [cert, key, named] of [
    [notPem, notPem, notPem],
    [missing, notPem, missing],
  ] as const) {
    const result = await box.run(['serve', '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key, '--json']);
    t.is(result.code, 2, result.stderr);
    const error = JSON.parse(result.stderr.trim().split('\n').pop()!).error;
    t.is(error.code, 'tls_invalid');
    t.true(error.message.startsWith('--tls-cert: ') && error.message.includes(named), error.message);
  }
});
