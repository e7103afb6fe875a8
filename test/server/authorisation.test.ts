/**
 * Authorisation over the wire: a key acts with its own effective permissions, a user with
 * their own key manages only their own keys (two at most) and cannot grant what they lack.
 * Every refusal is a 403 on the wire and exit code 5 in the client; nothing changes.
 */
import test from 'ava';
import { DeniedError } from '../../src/core/errors.js';
import { rawRequest, serverFixture, signedHeaders } from '../helpers/server.js';

async function setUp() {
  const fx = await serverFixture();
  const admin = fx.remote(fx.admin);
  await admin.addUser('bob@acme.test', 'Bob');
  await admin.addUser('carol@acme.test', 'Carol');
  const bobKey = await admin.createKey({
    name: 'bob-1',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: 'bob@acme.test',
    groups: [],
    roles: ['KeyManager'],
  });
  const carolKey = await admin.createKey({
    name: 'carol-1',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: 'carol@acme.test',
    groups: [],
    roles: ['ReadOnly'],
  });
  return { fx, admin, bob: fx.remote(bobKey), bobKey, carol: fx.remote(carolKey), carolKey };
}

const denied = { instanceOf: DeniedError };

test('a user key manages only its own keys, and at most two', async (t) => {
  const { fx, bob, carolKey } = await setUp();
  t.teardown(fx.close);
  const second = await bob.createKey({
    name: 'bob-2',
    type: 'access',
    expiry: { kind: 'days', days: 7 },
    owner: 'bob@acme.test',
    groups: [],
    roles: [],
  });
  t.is(second.owner, 'bob@acme.test');
  const third = await t.throwsAsync(
    bob.createKey({
      name: 'bob-3',
      type: 'access',
      expiry: { kind: 'days', days: 7 },
      owner: 'bob@acme.test',
      groups: [],
      roles: [],
    }),
    { code: 'key_limit' },
  );
  t.is((third as { exitCode?: number }).exitCode, 4);

  // Bob sees his own keys only, and cannot touch Carol's or the admin's.
  t.deepEqual((await bob.listKeys({})).items.map((k) => k.name).sort(), ['bob-1', 'bob-2']);
  t.deepEqual((await bob.listKeys({ owner: 'carol@acme.test' })).items, []);
  await t.throwsAsync(bob.showKey(carolKey.accessKeyId), denied);
  await t.throwsAsync(bob.rotateKey(carolKey.accessKeyId, 0), denied);
  await t.throwsAsync(bob.deleteKey(fx.admin.accessKeyId), denied);
  await t.throwsAsync(bob.setKeyStatus(fx.admin.accessKeyId, 'inactive'), denied);
  await t.throwsAsync(
    bob.createKey({
      name: 'for-carol',
      type: 'access',
      expiry: { kind: 'days', days: 7 },
      owner: 'carol@acme.test',
      groups: [],
      roles: [],
    }),
    denied,
  );
  // His own keys he may rotate and delete.
  t.regex((await bob.rotateKey('bob-2', 0)).secretKey, /^akms_/);
  t.is((await bob.deleteKey('bob-2')).name, 'bob-2');
});

test('privilege escalation attempts are refused with 403 and change nothing', async (t) => {
  const { fx, admin, bob, bobKey } = await setUp();
  t.teardown(fx.close);
  const before = await admin.showKey(bobKey.accessKeyId);

  await t.throwsAsync(
    bob.createKey({
      name: 'tenant-wide',
      type: 'access',
      expiry: { kind: 'days', days: 7 },
      owner: null,
      groups: [],
      roles: [],
    }),
    denied,
  );
  await t.throwsAsync(
    bob.createKey({
      name: 'root',
      type: 'access',
      expiry: { kind: 'days', days: 7 },
      owner: 'bob@acme.test',
      groups: [],
      roles: ['Administrator'],
    }),
    { code: 'escalation_denied' },
  );
  await t.throwsAsync(
    bob.createKey({
      name: 'root2',
      type: 'access',
      expiry: { kind: 'days', days: 7 },
      owner: 'bob@acme.test',
      groups: ['Administrators'],
      roles: [],
    }),
    { code: 'escalation_denied' },
  );
  await t.throwsAsync(
    bob.assignKey(bobKey.accessKeyId, {
      addGroups: ['Administrators'],
      addRoles: [],
      removeGroups: [],
      removeRoles: [],
    }),
    { code: 'escalation_denied' },
  );
  await t.throwsAsync(
    bob.assignKey(bobKey.accessKeyId, {
      addGroups: [],
      addRoles: ['Administrator'],
      removeGroups: [],
      removeRoles: [],
    }),
    { code: 'escalation_denied' },
  );
  await t.throwsAsync(bob.addGroupMember('Administrators', 'bob@acme.test'), denied);
  await t.throwsAsync(bob.createRole('Sneaky', ['*']), denied);
  await t.throwsAsync(bob.addUser('mallory@acme.test', 'M'), denied);

  // On the wire it is a 403 (authenticated, not allowed), not a 401.
  const body = JSON.stringify({ addGroups: ['Administrators'] });
  const path = `/v1/keys/${bobKey.accessKeyId}/assign`;
  const reply = await rawRequest(fx.url, {
    method: 'POST',
    path,
    body,
    headers: signedHeaders(fx.url, bobKey, { method: 'POST', path, body, headers: { 'x-akm-nonce': 'esc-1' } }),
  });
  t.is(reply.status, 403);
  t.like(reply.json, { error: { code: 'escalation_denied', exitCode: 5 } });

  const after = await admin.showKey(bobKey.accessKeyId);
  // Uses (lastUsedAt, each secret's sources) are recorded for every authenticated request, refused or
  // not, in a batch a second later: they are not a change to the key.
  const unused = (key: typeof after) => ({
    ...key,
    lastUsedAt: null,
    secrets: key.secrets.map((s) => ({ ...s, lastUsedAt: null, sources: [] })),
  });
  t.deepEqual(unused(after), unused(before));
  t.false((await admin.listUsers()).some((u) => u.email === 'mallory@acme.test'));
  t.false((await admin.listRoles()).some((r) => r.name === 'Sneaky'));
});

test('a read-only key reads and cannot write', async (t) => {
  const { fx, carol } = await setUp();
  t.teardown(fx.close);
  t.is((await carol.listKeys({})).items.length, 1);
  await t.throwsAsync(
    carol.createKey({
      name: 'carol-2',
      type: 'access',
      expiry: { kind: 'days', days: 7 },
      owner: 'carol@acme.test',
      groups: [],
      roles: [],
    }),
    { code: 'permission_denied' },
  );
  await t.throwsAsync(carol.rotateKey('carol-1', 0), { code: 'permission_denied' });
  await t.throwsAsync(carol.deleteKey('carol-1'), { code: 'permission_denied' });
});
