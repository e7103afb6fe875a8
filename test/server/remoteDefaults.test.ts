/**
 * Remote mode through the real binary and `akm serve`: a user who is not an administrator
 * creates keys for themselves without naming themselves; options that only a local store can
 * honour (--as, verify --explain) are refused with exit 2 instead of being ignored.
 */
import test from 'ava';
import { BIN, runNode } from '../helpers/cli.js';
import { spawnServe, type ServeProcess } from '../helpers/serveProcess.js';

function akm(server: ServeProcess, keyString: string, args: string[], input = '') {
  return runNode([BIN, ...args], {
    env: server.clientEnv({ AKM_STORE: server.url, AKM_CREDENTIALS: keyString }),
    input,
  });
}

test('a user who is not an administrator owns the keys they create; an administrator must say who', async (t) => {
  const server = await spawnServe();
  t.teardown(server.stop);
  const admin = server.admin.keyString;
  t.is((await akm(server, admin, ['users', 'add', 'bob@acme.test'])).code, 0);
  const bobKey = await akm(server, admin, [
    'create',
    '--name',
    'bob-cli',
    '--owner',
    'bob@acme.test',
    '--role',
    'KeyManager',
    '--expires-in',
    '30',
    '--json',
  ]);
  t.is(bobKey.code, 0, bobKey.stderr);
  const bob = JSON.parse(bobKey.stdout).keyString as string;

  // Bob is not asked for an owner among the flags he left out; an administrator is.
  const bare = await akm(server, bob, ['create']);
  t.is(bare.code, 2);
  t.regex(bare.stderr, /^error: missing --name <name> and --expires-in <days> \(or [^)]*\)\n/);
  const bareAdmin = await akm(server, admin, ['create']);
  t.regex(
    bareAdmin.stderr,
    /^error: missing --name <name>, --expires-in <days> .* and --owner <email> \(or --tenant-level\)\n/,
  );

  const own = await akm(server, bob, ['create', '--name', 'mine', '--expires-in', '10', '--json']);
  t.is(own.code, 0, own.stderr);
  t.is(JSON.parse(own.stdout).owner, 'bob@acme.test');
  const third = await akm(server, bob, ['create', '--name', 'one-too-many', '--expires-in', '10']);
  t.is(third.code, 4, 'the limit of two keys still holds');

  const undecided = await akm(server, admin, ['create', '--name', 'whose', '--expires-in', '10']);
  t.is(undecided.code, 2);
  t.regex(undecided.stderr, /^error: missing --owner <email> or --tenant-level$/m);
});

test('--as and verify --explain are for a local store: refused over a server', async (t) => {
  const server = await spawnServe();
  t.teardown(server.stop);
  const admin = server.admin.keyString;
  const as = await akm(server, admin, ['--as', 'admin@acme.test', 'list']);
  t.is(as.code, 2);
  t.regex(as.stderr, /--as works on a local store only/);
  const explain = await akm(server, admin, ['verify', '--explain'], admin);
  t.is(explain.code, 2);
  t.regex(explain.stderr, /--explain works on a local store only/);
  t.false(explain.stderr.includes(server.admin.secretKey));
});
