/**
 * Issue 8, reproductions 1-4, as they were found: the real CLI in remote mode against a real
 * `akm serve`, signing as the attacking key through AKM_ACCESS_KEY_ID / AKM_SECRET_ACCESS_KEY.
 * Each attempt must end in its refusal (exit 5 and the code, or exit 4 for the last
 * administrator), change nothing in the tenant, and leave one access.denied record per denial.
 */
import test, { type ExecutionContext } from 'ava';
import { DeniedError } from '../../src/core/errors.js';
import type { IssuedKey } from '../../src/service/types.js';
import { actingAs } from '../helpers/acting.js';
import { auditLines, tenantDump } from '../helpers/authzWorld.js';
import { Sandbox } from '../helpers/cli.js';
import { serverFixture } from '../helpers/server.js';
import { keyInput } from '../helpers/service.js';

async function setUp(t: ExecutionContext) {
  const fx = await serverFixture();
  const sandbox = new Sandbox('akm-attack-');
  const reader = await fx.store.open();
  t.teardown(async () => {
    await reader.close();
    sandbox.cleanup();
    await fx.close();
  });
  const admin = fx.remote(fx.admin);
  await admin.addUser('alice@acme.test', 'Alice');
  await admin.addGroupMember('Administrators', 'alice@acme.test');
  const alice = await admin.createKey(
    keyInput({ name: 'alice-admin', owner: 'alice@acme.test', groups: ['Administrators'] }),
  );
  const tenantKey = (name: string, roles: string[]) => admin.createKey(keyInput({ name, roles }));
  const robot = await tenantKey('robot', ['KeyManager']);
  /** `akm <args> --json` as `key`, through the server; the error (if any) parsed from stderr */
  const akm = async (key: IssuedKey, args: string[]) => {
    const result = await sandbox.run(['--store', fx.url, ...args, '--json'], {
      env: { AKM_ACCESS_KEY_ID: key.accessKeyId, AKM_SECRET_ACCESS_KEY: key.secretKey, AKM_MASTER_KEY: undefined },
    });
    // The error is the last line of stderr (a warning may come first).
    const last = result.stderr.trim().split('\n').at(-1)!;
    const error = result.code === 0 ? null : (JSON.parse(last) as { error: { code: string } }).error.code;
    return { ...result, error };
  };
  /** Every attempt refused with its exit code and code, the tenant unchanged, each denial audited. */
  const refused = async (key: IssuedKey, attempts: Array<[string[], number, string]>) => {
    const store = reader.ctx.store;
    const before = await tenantDump(store, 'acme');
    const trail = (await auditLines(store, 'acme')).length;
    for (const [args, exit, code] of attempts) {
      const result = await akm(key, args);
      t.is(result.code, exit, `akm ${args.join(' ')}: ${result.stderr}`);
      t.is(result.error, code, `akm ${args.join(' ')}`);
      t.false(result.stdout.includes('akms_'), 'no secret handed out');
    }
    t.deepEqual(await tenantDump(store, 'acme'), before, 'the tenant is unchanged');
    const added = (await auditLines(store, 'acme')).slice(trail);
    const denials = attempts.filter(([, exit]) => exit === 5).map(([, , code]) => code);
    t.deepEqual(
      added.map((r) => [r.action, (JSON.parse(r.details) as { code: string }).code]),
      denials.map((code) => ['access.denied', code]),
    );
  };
  return { fx, admin, alice, robot, tenantKey, akm, refused };
}

test('reproduction 1: a tenant-level KeyManager key cannot rotate, unassign, deactivate, shorten or delete an administrator key', async (t) => {
  const { fx, alice, robot, tenantKey, akm, refused } = await setUp(t);
  const id = alice.accessKeyId;
  await refused(robot, [
    [['rotate', id, '--yes', '--grace', '30d'], 5, 'admin_key_protected'],
    [['assign', id, '--remove-group', 'Administrators'], 5, 'admin_key_protected'],
    [['deactivate', id], 5, 'admin_key_protected'],
    [['extend', id, '--days', '1'], 5, 'admin_key_protected'],
    [['delete', id, '--yes'], 5, 'admin_key_protected'],
    [['show', id], 5, 'admin_key_protected'],
  ]);
  // Alice's secret still works, and her key is still an administrator's.
  t.true((await fx.remote(alice).whoami()).admin);
  // Keys more powerful than the robot in another way are out of its reach too; its peers are not.
  const reader = await tenantKey('reader', ['ReadOnly']);
  await refused(robot, [[['rotate', reader.accessKeyId, '--yes'], 5, 'key_more_powerful']]);
  const peer = await tenantKey('peer', ['KeyManager']);
  const rotated = await akm(robot, ['rotate', peer.accessKeyId, '--yes']);
  t.is(rotated.code, 0, rotated.stderr);
});

test('reproduction 2: an owner cannot re-activate a key an administrator deactivated', async (t) => {
  const { admin, akm, refused } = await setUp(t);
  await admin.addUser('bob@acme.test', 'Bob');
  const own = (name: string) => admin.createKey(keyInput({ name, owner: 'bob@acme.test', roles: ['KeyManager'] }));
  const bob = await own('bob-1');
  const spare = await own('bob-2');
  await admin.setKeyStatus(spare.accessKeyId, 'inactive');
  await refused(bob, [[['activate', spare.accessKeyId], 5, 'reactivation_denied']]);
  // What Bob deactivated himself he may undo.
  await admin.setKeyStatus(spare.accessKeyId, 'active');
  t.is((await akm(bob, ['deactivate', 'bob-2'])).code, 0);
  const again = await akm(bob, ['activate', 'bob-2']);
  t.is(again.code, 0, again.stderr);
});

test('reproduction 3: users:manage cannot remove or regroup an administrator, and nobody removes the last one', async (t) => {
  const { fx, admin, tenantKey, refused } = await setUp(t);
  await admin.createRole('UserManager', ['users:manage']);
  const clerk = await tenantKey('clerk', ['UserManager']);
  await admin.addUser('dave@acme.test', 'Dave');
  await admin.addGroupMember('Administrators', 'dave@acme.test');
  await admin.createGroup('Staff');
  await admin.addUser('erin@acme.test', 'Erin');
  await refused(clerk, [
    [['users', 'remove', 'dave@acme.test', '--yes'], 5, 'admin_user_protected'],
    [['groups', 'add-member', 'Staff', 'dave@acme.test'], 5, 'admin_user_protected'],
    [['groups', 'remove-member', 'Administrators', 'dave@acme.test'], 5, 'admin_group_protected'],
    [['groups', 'add-member', 'Administrators', 'erin@acme.test'], 5, 'admin_group_protected'],
  ]);
  // The last administrator, by every path, even for an administrator.
  await admin.removeGroupMember('Administrators', 'admin@acme.test');
  await admin.deleteKey('alice-admin');
  await admin.removeGroupMember('Administrators', 'alice@acme.test');
  t.deepEqual((await admin.listGroups()).find((g) => g.name === 'Administrators')!.members, ['dave@acme.test']);
  await refused(fx.admin, [
    [['users', 'remove', 'dave@acme.test', '--yes'], 4, 'last_admin'],
    [['groups', 'remove-member', 'Administrators', 'dave@acme.test'], 4, 'last_admin'],
    [['groups', 'remove-role', 'Administrators', 'Administrator'], 4, 'builtin'],
  ]);
});

test('reproduction 4: a non-administrator cannot mint a never-expiring key, nor make one never expire', async (t) => {
  const { admin, robot, akm, refused } = await setUp(t);
  await admin.addUser('bob@acme.test', 'Bob');
  const bob = await admin.createKey(keyInput({ name: 'bob-1', owner: 'bob@acme.test', roles: ['KeyManager'] }));
  await refused(bob, [
    [['create', '--name', 'forever', '--owner', 'bob@acme.test', '--never-expires'], 5, 'never_expiry_denied'],
    [['extend', 'bob-1', '--never'], 5, 'never_expiry_denied'],
  ]);
  await refused(robot, [[['extend', robot.accessKeyId, '--never'], 5, 'never_expiry_denied']]);
  const fine = await akm(bob, ['create', '--name', 'month', '--owner', 'bob@acme.test', '--expires-in', '30']);
  t.is(fine.code, 0, fine.stderr);
});

test('a denial reaches the remote client as the very error the local service throws', async (t) => {
  const { fx, alice, robot } = await setUp(t);
  const local = await fx.store.open();
  t.teardown(() => local.close());
  const viaServer = await t.throwsAsync(fx.remote(robot).rotateKey(alice.accessKeyId, 0), { instanceOf: DeniedError });
  const localRobot = await actingAs(local, null, ['KeyManager']);
  const inProcess = await t.throwsAsync(localRobot.rotateKey(alice.accessKeyId, 0), { instanceOf: DeniedError });
  t.deepEqual(
    [viaServer.code, viaServer.exitCode, viaServer.message, viaServer.hint],
    [inProcess.code, inProcess.exitCode, inProcess.message, inProcess.hint],
  );
});
