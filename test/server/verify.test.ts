/**
 * POST /v1/verify: valid answers carry tenant, owner and permissions; every kind of "not
 * valid" is the same bytes; a flood from one client is rate-limited while others go on;
 * internal faults answer "not valid"; lastUsedAt is written in batches.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { generateSecretKey } from '../../src/core/credentials.js';
import { expiredKey, postVerify, rawRequest, serverFixture, type ServerFixture } from '../helpers/server.js';

function verify(fx: ServerFixture, body: unknown, localAddress?: string) {
  return postVerify(fx.url, body, localAddress);
}

async function keys(fx: ServerFixture) {
  const admin = fx.remote(fx.admin);
  await admin.addUser('svc@acme.test', 'Service');
  const good = await admin.createKey({
    name: 'ingest',
    type: 'api',
    expiry: { kind: 'days', days: 30 },
    owner: 'svc@acme.test',
    groups: [],
    roles: ['Ingestion'],
  });
  const inactive = await admin.createKey({
    name: 'off',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: [],
  });
  await admin.setKeyStatus(inactive.accessKeyId, 'inactive');
  const expired = await expiredKey(fx, 'old');
  return { good, inactive, expired };
}

test('a valid key: tenant, owner and effective permissions, by key string or by id and secret', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const { good } = await keys(fx);
  const byString = await verify(fx, { keyString: good.keyString });
  t.is(byString.status, 200);
  t.like(byString.json, {
    valid: true,
    accessKeyId: good.accessKeyId,
    tenantId: 'acme',
    owner: 'svc@acme.test',
    type: 'api',
    permissions: ['data:ingest'],
  });
  const byParts = await verify(fx, { accessKeyId: good.accessKeyId, secretKey: good.secretKey });
  t.deepEqual(byParts.json, byString.json);
  // The same through the remote client.
  t.like(await fx.remote(fx.admin).verifyKey({ accessKeyId: good.accessKeyId, secretKey: good.secretKey }), {
    valid: true,
    permissions: ['data:ingest'],
  });
});

test('unknown, inactive, expired, wrong secret, wrong tenant: one identical 401 body', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const { good, inactive, expired } = await keys(fx);
  const replies = {
    unknown: await verify(fx, { accessKeyId: 'AKMAAAAAAAAAAAAAAAAQ', secretKey: generateSecretKey() }),
    inactive: await verify(fx, { keyString: inactive.keyString }),
    expired: await verify(fx, { keyString: expired.keyString }),
    wrongSecret: await verify(fx, { accessKeyId: good.accessKeyId, secretKey: generateSecretKey() }),
    wrongTenant: await verify(fx, { accessKeyId: good.accessKeyId, secretKey: good.secretKey, tenantId: 'globex' }),
    encryptedCopy: await verify(fx, { keyString: (await fx.remote(fx.admin).copyKey(good.accessKeyId)).keyString }),
  };
  for (const [what, reply] of Object.entries(replies)) {
    t.is(reply.status, 401, what);
    t.is(reply.body, replies.unknown.body, what);
  }
  t.deepEqual(replies.unknown.json, {
    valid: false,
    error: { code: 'invalid_credentials', message: 'the credentials are not valid', exitCode: 5 },
  });
  t.deepEqual(await fx.remote(fx.admin).verifyKey({ accessKeyId: good.accessKeyId, secretKey: generateSecretKey() }), {
    valid: false,
  });
});

test('malformed requests are 400, never "valid"', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  for (const body of [{ keyString: 'key:nope' }, { accessKeyId: 1 }, { keyString: 'x', extra: true }, []]) {
    const reply = await verify(fx, body);
    t.is(reply.status, 400, JSON.stringify(body));
    t.is(reply.json.valid, false);
  }
  const notJson = await rawRequest(fx.url, {
    method: 'POST',
    path: '/v1/verify',
    headers: { 'content-type': 'application/json' },
    body: '{oops',
  });
  t.is(notJson.status, 400);
  const huge = await rawRequest(fx.url, {
    method: 'POST',
    path: '/v1/verify',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keyString: 'k'.repeat(10_000) }),
  });
  t.is(huge.status, 413);
});

test('a flood from one client gets 429 with Retry-After while another client is still served', async (t) => {
  const fx = await serverFixture({ verifyRate: 2, verifyBurst: 5 });
  t.teardown(fx.close);
  const { good } = await keys(fx);
  const statuses: number[] = [];
  let retryAfter: string | undefined;
  for (let i = 0; i < 20; i += 1) {
    const reply = await verify(fx, { accessKeyId: good.accessKeyId, secretKey: generateSecretKey() });
    statuses.push(reply.status);
    if (reply.status === 429) retryAfter = reply.headers['retry-after'] as string;
  }
  t.true(statuses.filter((s) => s === 401).length <= 7, statuses.join(','));
  t.true(statuses.filter((s) => s === 429).length >= 13, statuses.join(','));
  t.true(Number(retryAfter) >= 1);
  // Even a valid key is refused to the flooding client for now…
  t.is((await verify(fx, { keyString: good.keyString })).status, 429);
  // …while a client from another address is served at once.
  const other = await verify(fx, { keyString: good.keyString }, '127.0.0.2');
  t.is(other.status, 200);
  t.true(other.json.valid);
});

test('with the store unavailable, verify answers "not valid" (503), never valid', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const { good } = await keys(fx);
  t.is((await verify(fx, { keyString: good.keyString })).status, 200);
  await fx.server.backend.store.close();
  const reply = await verify(fx, { keyString: good.keyString });
  t.is(reply.status, 503);
  t.is(reply.json.valid, false);
  t.is(reply.json.error.code, 'verify_unavailable');
  // Signed calls fail cleanly too (no crash, no "valid").
  await t.throwsAsync(fx.remote(fx.admin).listKeys({}));
  t.is((await rawRequest(fx.url, { path: '/healthz' })).status, 200);
});

test('lastUsedAt is written in batches, not once per request', async (t) => {
  // A long interval, so no batch can fall inside the burst; closing the server writes the batch.
  const fx = await serverFixture({ lastUsedIntervalMs: 60_000 });
  t.teardown(fx.close);
  const { good } = await keys(fx);
  const db = new Database(fx.store.path, { readonly: true });
  t.teardown(() => db.close());
  const lastUsed = () =>
    (db.prepare('SELECT last_used_at FROM keys WHERE id = ?').get(good.accessKeyId) as { last_used_at: string | null })
      .last_used_at;
  const changesBefore = (db.prepare('PRAGMA data_version').get() as { data_version: number }).data_version;
  await Promise.all(Array.from({ length: 50 }, () => verify(fx, { keyString: good.keyString })));
  t.is(lastUsed(), null, 'nothing written on the request path');
  await fx.server.close();
  const stamped = lastUsed();
  t.truthy(stamped);
  t.true(Date.now() - Date.parse(stamped!) < 5000);
  // data_version counts commits by other connections: 50 verifications, a handful of commits at most.
  const commits = (db.prepare('PRAGMA data_version').get() as { data_version: number }).data_version - changesBefore;
  t.true(commits <= 3, `commits: ${commits}`);
});
