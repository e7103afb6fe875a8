/**
 * Every AkmService method through a real server, as the remote client sees it: the same data
 * as the local service, and the same typed errors with the same exit codes.
 */
import test from 'ava';
import { AkmError } from '../../src/core/errors.js';
import type { AkmService } from '../../src/service/types.js';
import { serverFixture } from '../helpers/server.js';

async function errorOf(
  work: Promise<unknown>,
): Promise<{ name: string; code: string; exitCode: number; message: string }> {
  try {
    await work;
  } catch (error) {
    if (!(error instanceof AkmError)) throw error;
    return { name: error.constructor.name, code: error.code, exitCode: error.exitCode, message: error.message };
  }
  throw new Error('expected an error');
}

test('the whole key lifecycle through the server', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const remote = fx.remote(fx.admin);

  const me = await remote.whoami();
  t.like(me, {
    tenantId: 'acme',
    actor: 'admin@acme.test',
    accessKeyId: fx.admin.accessKeyId,
    admin: true,
    mode: 'remote',
    store: fx.url,
  });

  await remote.addUser('bob@acme.test', 'Bob');
  const created = await remote.createKey({
    name: 'ci deploy',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: 'bob@acme.test',
    groups: [],
    roles: ['ReadOnly'],
  });
  t.regex(created.accessKeyId, /^AKM[A-Z2-7]{17}$/);
  t.regex(created.secretKey, /^akms_/);
  t.is(created.keyString, `key:${created.accessKeyId}::${created.secretKey},tenant id:acme`);
  t.deepEqual(created.roles, ['ReadOnly']);
  t.is(created.createdBy, 'admin@acme.test');

  // A name with a space travels in the path (percent-encoded, signed, decoded).
  const shown = await remote.showKey('ci deploy');
  t.is(shown.accessKeyId, created.accessKeyId);
  t.deepEqual(shown.permissions, ['audit:read', 'keys:read']);
  t.false('secretKey' in shown);

  const extendedDays = await remote.extendKey(created.accessKeyId, { kind: 'days', days: 60 });
  t.true(Date.parse(extendedDays.expiresAt!) > Date.parse(created.expiresAt!));
  const until = new Date(Date.now() + 10 * 86_400_000);
  t.is((await remote.extendKey(created.accessKeyId, { kind: 'until', at: until })).expiresAt, until.toISOString());
  t.is((await remote.extendKey(created.accessKeyId, { kind: 'never' })).expiresAt, null);

  const assigned = await remote.assignKey(created.accessKeyId, {
    addGroups: [],
    addRoles: ['KeyManager'],
    removeGroups: [],
    removeRoles: ['ReadOnly'],
  });
  t.deepEqual(assigned.roles, ['KeyManager']);
  const sources = await remote.keyPermissions(created.accessKeyId);
  t.deepEqual(
    sources.permissions.map((p) => p.permission),
    ['keys:delete', 'keys:read', 'keys:rotate', 'keys:write'],
  );

  const rotated = await remote.rotateKey(created.accessKeyId, 60_000);
  t.not(rotated.secretKey, created.secretKey);
  t.truthy(rotated.previousSecretValidUntil);
  // During the grace period both secrets verify; the new one certainly does.
  t.true((await remote.verifyKey({ accessKeyId: created.accessKeyId, secretKey: rotated.secretKey })).valid);
  t.true((await remote.verifyKey({ accessKeyId: created.accessKeyId, secretKey: created.secretKey })).valid);

  const copied = await remote.copyKey(created.accessKeyId);
  t.regex(copied.keyString, new RegExp(`^key:${created.accessKeyId}::akmenc1_`));
  t.false(copied.keyString.includes(rotated.secretKey));

  t.is((await remote.setKeyStatus(created.accessKeyId, 'inactive')).status, 'inactive');
  t.deepEqual(await remote.verifyKey({ accessKeyId: created.accessKeyId, secretKey: rotated.secretKey }), {
    valid: false,
  });
  t.is((await remote.setKeyStatus(created.accessKeyId, 'active')).status, 'active');

  const listed = await remote.listKeys({ owner: 'bob@acme.test' });
  t.deepEqual(
    listed.items.map((k) => k.accessKeyId),
    [created.accessKeyId],
  );
  t.is((await remote.listKeys({ status: 'inactive' })).items.length, 0);

  t.is((await remote.deleteKey(created.accessKeyId)).accessKeyId, created.accessKeyId);
  t.like(await errorOf(remote.showKey(created.accessKeyId)), {
    name: 'NotFoundError',
    exitCode: 3,
    code: 'key_not_found',
  });
});

test('listing pages with an opaque cursor', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const remote = fx.remote(fx.admin);
  for (let i = 0; i < 5; i += 1)
    await remote.createKey({
      name: `k${i}`,
      type: 'api',
      expiry: { kind: 'days', days: 5 },
      owner: null,
      groups: [],
      roles: [],
    });
  const seen: string[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await remote.listKeys({ type: 'api' }, { limit: 2, ...(after ? { after } : {}) });
    seen.push(...page.items.map((k) => k.name));
    after = page.next;
    pages += 1;
  } while (after);
  t.deepEqual(seen.sort(), ['k0', 'k1', 'k2', 'k3', 'k4']);
  t.is(pages, 3);
});

test('users, groups and roles through the server', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const remote = fx.remote(fx.admin);

  t.like(await remote.addUser('carol@acme.test', 'Carol'), { email: 'carol@acme.test', name: 'Carol', keyCount: 0 });
  t.true((await remote.listUsers()).some((u) => u.email === 'carol@acme.test'));
  t.like(await remote.createRole('Deployer', ['deploy:run', 'keys:read']), {
    name: 'Deployer',
    builtin: false,
    permissions: ['deploy:run', 'keys:read'],
  });
  t.true((await remote.listRoles()).some((r) => r.name === 'Deployer'));
  t.like(await remote.createGroup('Ops/EU'), { name: 'Ops/EU', members: [], roles: [] });
  t.deepEqual((await remote.addGroupMember('Ops/EU', 'carol@acme.test')).members, ['carol@acme.test']);
  t.deepEqual((await remote.addGroupRole('Ops/EU', 'Deployer')).roles, ['Deployer']);
  t.true((await remote.listGroups()).some((g) => g.name === 'Ops/EU'));
  t.deepEqual((await remote.removeGroupRole('Ops/EU', 'Deployer')).roles, []);
  t.deepEqual((await remote.removeGroupMember('Ops/EU', 'carol@acme.test')).members, []);
  t.is((await remote.deleteGroup('Ops/EU')).name, 'Ops/EU');
  t.is((await remote.deleteRole('Deployer')).name, 'Deployer');
  t.is((await remote.removeUser('carol@acme.test')).email, 'carol@acme.test');
});

test('errors arrive as the same typed errors, with the same exit codes as locally', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const remote = fx.remote(fx.admin);
  const local = await fx.store.open();
  t.teardown(() => local.close());

  const yesterday = new Date(Date.now() - 86_400_000);
  const cases: Array<[string, (s: AkmService) => Promise<unknown>]> = [
    ['unknown key', (s) => s.showKey('AKMAAAAAAAAAAAAAAAAB')],
    [
      'unknown role',
      (s) =>
        s.createKey({ name: 'x', type: 'access', expiry: { kind: 'never' }, owner: null, groups: [], roles: ['Nope'] }),
    ],
    ['duplicate user', (s) => s.addUser('admin@acme.test', 'again')],
    ['bad email', (s) => s.addUser('not an email', '')],
    [
      'past expiry',
      (s) =>
        s.createKey({
          name: 'y',
          type: 'access',
          expiry: { kind: 'until', at: yesterday },
          owner: null,
          groups: [],
          roles: [],
        }),
    ],
    ['empty assign', (s) => s.assignKey('admin', { addGroups: [], addRoles: [], removeGroups: [], removeRoles: [] })],
    ['builtin group', (s) => s.deleteGroup('Administrators')],
  ];
  for (const [what, call] of cases) {
    const there = await errorOf(call(remote));
    const here = await errorOf(call(local));
    t.deepEqual(there, here, what);
  }
});
