/**
 * Remote mode end to end with the real binary: `akm login` into the real OS keychain (Secret
 * Service under dbus-run-session), then every lifecycle command through `akm serve`, with
 * the same output shapes and exit codes as a local store; logout; and the ways it can fail.
 */
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runNode } from '../helpers/cli.js';
import { spawnServe, type ServeProcess } from '../helpers/serveProcess.js';
import { needing, TMUX, SECRET_SERVICE } from '../helpers/services.js';
import { TmuxSession } from '../helpers/tmux.js';

const keychainEnv = () => ({ DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS });

function akm(server: ServeProcess, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  return runNode([BIN, ...args], {
    env: server.clientEnv({ ...keychainEnv(), ...options.env }),
    input: options.input ?? '',
  });
}

async function json(server: ServeProcess, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await akm(server, [...args, '--json'], { env });
  let value: any;
  try {
    value = JSON.parse(result.stdout);
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
  return { code: result.code, value, stderr: result.stderr };
}

needing(SECRET_SERVICE)(
  'login into the keychain, then every lifecycle command through the server, then logout',
  async (t) => {
    const server = await spawnServe();
    t.teardown(server.stop);
    const profile = ['--profile', `login-${process.pid}`];
    t.teardown(() => void akm(server, [...profile, 'logout']));

    const login = await akm(server, [...profile, 'login', server.url, '--access-key-id', server.admin.accessKeyId], {
      input: server.admin.secretKey,
    });
    t.is(login.code, 0, login.stderr);
    t.regex(login.stdout, /signed in as\s+admin@acme\.test/);
    t.regex(login.stdout, /credentials\s+OS keychain/);
    // The profile names the server; no secret is written to any file.
    const config = readFileSync(join(server.clientHome, '.config', 'akm', 'config.json'), 'utf8');
    t.true(config.includes(server.url));
    t.false(config.includes(server.admin.secretKey));

    const me = await json(server, [...profile, 'whoami']);
    t.is(me.code, 0, me.stderr);
    t.like(me.value, { actor: 'admin@acme.test', tenantId: 'acme', mode: 'remote', store: server.url, admin: true });
    t.regex(me.value.credentials, /OS keychain/);

    t.is((await akm(server, [...profile, 'users', 'add', 'ops@acme.test', '--name', 'Ops'])).code, 0);
    t.is((await akm(server, [...profile, 'roles', 'create', 'Deployer', '--permission', 'deploy:run'])).code, 0);
    t.is((await akm(server, [...profile, 'groups', 'create', 'Release'])).code, 0);
    t.is((await akm(server, [...profile, 'groups', 'add-member', 'Release', 'ops@acme.test'])).code, 0);
    t.is((await akm(server, [...profile, 'groups', 'add-role', 'Release', 'Deployer'])).code, 0);

    const created = await json(server, [
      ...profile,
      'create',
      '--name',
      'deploy-bot',
      '--owner',
      'ops@acme.test',
      '--expires-in',
      '30',
      '--role',
      'ReadOnly',
      '--no-copy',
    ]);
    t.is(created.code, 0, created.stderr);
    t.regex(created.value.secretKey, /^akms_/);
    const id: string = created.value.accessKeyId;

    const listed = await json(server, [...profile, 'list', '--owner', 'ops@acme.test']);
    t.deepEqual(
      listed.value.map((k: { accessKeyId: string }) => k.accessKeyId),
      [id],
    );
    t.is((await json(server, [...profile, 'show', 'deploy-bot'])).value.accessKeyId, id);
    t.is((await akm(server, [...profile, 'extend', id, '--days', '60'])).code, 0);
    t.is((await akm(server, [...profile, 'assign', id, '--group', 'Release'])).code, 0);
    const permissions = await json(server, [...profile, 'permissions', id]);
    t.true(JSON.stringify(permissions.value).includes('deploy:run'));
    const rotated = await json(server, [...profile, 'rotate', id, '--no-copy', '--yes']);
    t.is(rotated.code, 0, rotated.stderr);
    t.not(rotated.value.secretKey, created.value.secretKey);
    const copied = await akm(server, [...profile, 'copy', id, '--print']);
    t.regex(copied.stdout, new RegExp(`^key:${id}::akmenc1_`));
    t.is((await akm(server, [...profile, 'verify'], { input: rotated.value.keyString })).code, 0);
    t.is((await akm(server, [...profile, 'deactivate', id])).code, 0);
    t.is((await akm(server, [...profile, 'verify'], { input: rotated.value.keyString })).code, 5);
    t.is((await akm(server, [...profile, 'activate', id])).code, 0);

    // The same exit codes as locally: not found 3, conflict 4, usage 2.
    t.is((await akm(server, [...profile, 'show', 'AKMAAAAAAAAAAAAAAAAB'])).code, 3);
    t.is((await akm(server, [...profile, 'users', 'add', 'ops@acme.test'])).code, 4);
    t.is(
      (
        await akm(server, [
          ...profile,
          'create',
          '--name',
          'x',
          '--tenant-level',
          '--expires-on',
          '2001-01-01',
          '--no-copy',
        ])
      ).code,
      2,
    );

    t.is((await akm(server, [...profile, 'delete', id, '--yes'])).code, 0);
    t.is((await akm(server, [...profile, 'show', id])).code, 3);

    const logout = await akm(server, [...profile, 'logout']);
    t.is(logout.code, 0, logout.stderr);
    t.regex(logout.stderr, /removed the credentials from OS keychain/);
    const after = await akm(server, [...profile, 'list']);
    t.is(after.code, 5);
    t.regex(after.stderr, /not logged in to http:\/\/127\.0\.0\.1:\d+/);
  },
);

needing(SECRET_SERVICE)('login refuses credentials the server refuses, and stores nothing', async (t) => {
  const server = await spawnServe();
  t.teardown(server.stop);
  const profile = ['--profile', `refused-${process.pid}`];
  const wrong = server.admin.keyString.replace(server.admin.secretKey, 'akms_' + 'A'.repeat(44) + 'ZZZZZZ');
  const malformed = await akm(server, [...profile, 'login', server.url], { input: wrong });
  t.is(malformed.code, 2, 'a checksum failure is caught before any request');
  const other = await runNode([BIN, ...profile, '--store', server.url, 'init'], { env: server.clientEnv() });
  t.is(other.code, 2);

  // Well-formed but not this key's secret: the server says no.
  const { generateSecretKey } = await import('../../src/core/credentials.js');
  const refused = await akm(server, [...profile, 'login', server.url, '--access-key-id', server.admin.accessKeyId], {
    input: generateSecretKey(),
  });
  t.is(refused.code, 5, refused.stderr);
  t.regex(refused.stderr, /refused these credentials/);
  t.is((await akm(server, [...profile, '--store', server.url, 'whoami'])).code, 5);
});

test('no keychain and no environment: a clear error; --insecure-storage works with a warning on every use', async (t) => {
  const server = await spawnServe();
  t.teardown(server.stop);
  const noBus = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/akm-test-bus' };
  const login = await akm(server, ['login', server.url], { env: noBus, input: server.admin.keyString });
  t.is(login.code, 6);
  t.regex(login.stderr, /OS keychain is not available/);
  t.regex(login.stderr, /--insecure-storage/);
  const list = await akm(server, ['--store', server.url, 'list'], { env: noBus });
  t.is(list.code, 6);
  t.regex(list.stderr, /AKM_ACCESS_KEY_ID/);

  const insecure = await akm(server, ['login', server.url, '--insecure-storage'], {
    env: noBus,
    input: server.admin.keyString,
  });
  t.is(insecure.code, 0, insecure.stderr);
  t.regex(insecure.stderr, /plaintext/);
  const file = join(server.clientHome, '.config', 'akm', 'credentials-default');
  t.is(statSync(file).mode & 0o777, 0o600);
  const used = await akm(server, ['list'], { env: noBus });
  t.is(used.code, 0, used.stderr);
  t.regex(used.stderr, /warning: using plaintext credentials/);
  t.false(used.stderr.includes(server.admin.secretKey));

  // CI: the environment alone, no login at all.
  const ci = await akm(server, ['--store', server.url, 'whoami', '--json'], {
    env: { ...noBus, AKM_ACCESS_KEY_ID: server.admin.accessKeyId, AKM_SECRET_ACCESS_KEY: server.admin.secretKey },
  });
  t.is(ci.code, 0, ci.stderr);
  t.regex(JSON.parse(ci.stdout).credentials, /AKM_ACCESS_KEY_ID/);
  t.is((await akm(server, ['logout'], { env: noBus })).code, 0);
});

test('an unreachable server is exit 6 with its URL in the message', async (t) => {
  const server = await spawnServe();
  const url = server.url;
  const env = server.clientEnv({ AKM_CREDENTIALS: server.admin.keyString });
  const clientHome = server.clientHome;
  server.child.process.kill('SIGTERM');
  await server.child.exited;
  const result = await runNode([BIN, '--store', url, 'list'], { env: { ...env, HOME: clientHome } });
  t.is(result.code, 6);
  t.true(result.stderr.includes(url), result.stderr);
  t.regex(result.stderr, /ECONNREFUSED/);
  await server.stop();
});

needing(SECRET_SERVICE, TMUX)('interactive login in a terminal: asks for the id and, hidden, the secret', async (t) => {
  const server = await spawnServe();
  const profile = `tty-${process.pid}`;
  // CI set to empty, not unset: tmux would otherwise pass on the CI of the process that started it.
  const env = server.clientEnv({ ...keychainEnv(), CI: '', TERM: 'xterm-256color' });
  const tty = new TmuxSession(server.clientHome, env, [
    process.execPath,
    BIN,
    '--profile',
    profile,
    'login',
    server.url,
  ]);
  t.teardown(async () => {
    tty.kill();
    await akm(server, ['--profile', profile, 'logout']);
    await server.stop();
  });
  await tty.waitFor(/Access key id/);
  tty.type(server.admin.accessKeyId);
  tty.keys('Enter');
  await tty.waitFor(/Secret access key/);
  tty.type(server.admin.secretKey);
  tty.keys('Enter');
  t.is(await tty.exitCode(), 0, tty.screen());
  const screen = tty.screen();
  t.regex(screen, /logged in/);
  t.false(screen.includes(server.admin.secretKey), 'the secret is never echoed');
  const me = await json(server, ['--profile', profile, 'whoami']);
  t.is(me.value.actor, 'admin@acme.test');
});

needing(TMUX)(
  'interactive login: a pasted key string is masked as it is typed and split into id and secret',
  async (t) => {
    const server = await spawnServe();
    const env = server.clientEnv({ CI: '', TERM: 'xterm-256color' });
    const tty = new TmuxSession(server.clientHome, env, [
      process.execPath,
      BIN,
      'login',
      server.url,
      '--insecure-storage',
    ]);
    t.teardown(async () => {
      tty.kill();
      await server.stop();
    });
    await tty.waitFor(/Access key id \(or paste the whole key string\)/);
    tty.type(server.admin.keyString); // what akm create puts on the clipboard
    await tty.waitFor(new RegExp(`key:${server.admin.accessKeyId}::\\*{10}`));
    t.false(tty.screen().includes(server.admin.secretKey), 'masked while typed');
    tty.keys('Enter');
    t.is(await tty.exitCode(), 0, tty.screen());
    const screen = tty.screen();
    t.regex(screen, /logged in/);
    t.notRegex(screen, /Secret access key/, 'the secret came with the key string: not asked again');
    t.false(screen.includes(server.admin.secretKey), 'the secret never shows, not even after Enter');
    const me = await json(server, ['whoami']);
    t.is(me.value.actor, 'admin@acme.test');
  },
);
