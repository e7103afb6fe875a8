/**
 * Authentication on the wire: what is refused, with which status, and that refusals cannot be
 * told apart where they must not be (unknown key, wrong secret, inactive, expired, tampered).
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { generateSecretKey } from '../../src/core/credentials.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { initTenant } from '../../src/service/local/bootstrap.js';
import { LocalService } from '../../src/service/local/service.js';
import { getMeta } from '../../src/store/meta.js';
import { openStore } from '../../src/store/open.js';
import {
  expiredKey,
  localKey,
  rawRequest,
  serverFixture,
  signedHeaders,
  type ServerFixture,
} from '../helpers/server.js';

function flipSealedByte(fx: ServerFixture, id: string): void {
  const db = new Database(fx.store.path);
  try {
    const { secret_sealed: sealed } = db.prepare('SELECT secret_sealed FROM keys WHERE id = ?').get(id) as {
      secret_sealed: Buffer;
    };
    sealed[20] = sealed[20]! ^ 0xff;
    db.prepare('UPDATE keys SET secret_sealed = ? WHERE id = ?').run(sealed, id);
  } finally {
    db.close();
  }
}

function edit(fx: ServerFixture, sqlText: string, ...params: unknown[]): void {
  const db = new Database(fx.store.path);
  try {
    db.prepare(sqlText).run(...params);
  } finally {
    db.close();
  }
}

async function get(fx: ServerFixture, key: { accessKeyId: string; secretKey: string }, path = '/v1/keys', date?: Date) {
  return rawRequest(fx.url, { path, headers: signedHeaders(fx.url, key, { path, ...(date ? { date } : {}) }) });
}

test('a signed request from a standard SigV4 signer (any region) is served', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const reply = await get(fx, fx.admin);
  t.is(reply.status, 200);
  t.is(reply.json.items[0].accessKeyId, fx.admin.accessKeyId);
  t.is(reply.headers['cache-control'], 'no-store');
});

test('unknown key, wrong secret, inactive, expired and tampered secret: one identical 401', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const inactive = await localKey(fx, 'inactive');
  const expired = await expiredKey(fx, 'expired');
  const tampered = await localKey(fx, 'tampered');
  const revived = await localKey(fx, 'revived');
  await fx.remote(fx.admin).setKeyStatus(inactive.accessKeyId, 'inactive');
  await fx.remote(fx.admin).setKeyStatus(revived.accessKeyId, 'inactive');
  // Flip one byte of the sealed secret (inside the ciphertext), and re-activate a key, behind akm's back.
  flipSealedByte(fx, tampered.accessKeyId);
  edit(fx, "UPDATE keys SET status = 'active' WHERE id = ?", revived.accessKeyId);

  const attempts = {
    unknown: await get(fx, { accessKeyId: 'AKMAAAAAAAAAAAAAAAAZ', secretKey: generateSecretKey() }),
    wrongSecret: await get(fx, { accessKeyId: fx.admin.accessKeyId, secretKey: generateSecretKey() }),
    inactive: await get(fx, inactive),
    expired: await get(fx, expired),
    tampered: await get(fx, tampered),
    revived: await get(fx, revived),
  };
  for (const [what, reply] of Object.entries(attempts)) {
    t.is(reply.status, 401, what);
    t.is(reply.body, attempts.unknown.body, what);
  }
  t.like(attempts.unknown.json, { error: { code: 'auth_failed', exitCode: 5 } });
  // The log says why (for the operator), the client does not learn it.
  const reasons = fx.logs.filter((l) => l.status === 401).map((l) => l.reason);
  t.deepEqual(reasons, [
    'unknown_key',
    'bad_signature',
    'inactive_key',
    'expired_key',
    'tampered_record',
    'tampered_record',
  ]);
  // The server is still fine afterwards.
  t.is((await get(fx, fx.admin)).status, 200);
});

test('no signature, a malformed one, or another service name: 401', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  t.like((await rawRequest(fx.url, { path: '/v1/keys' })).json, { error: { code: 'auth_required' } });
  const headers = signedHeaders(fx.url, fx.admin, { path: '/v1/keys' });
  const bad = await rawRequest(fx.url, {
    path: '/v1/keys',
    headers: { ...headers, Authorization: headers.Authorization!.replace('/akm/', '/s3/') },
  });
  t.is(bad.status, 401);
  t.like(bad.json, { error: { code: 'auth_malformed' } });
  const basic = await rawRequest(fx.url, { path: '/v1/keys', headers: { Authorization: 'Basic YTpi' } });
  t.is(basic.status, 401);
});

test('a skewed clock: 6 minutes off is refused, 4 minutes off is fine', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const late = await get(fx, fx.admin, '/v1/keys', new Date(Date.now() - 6 * 60_000));
  t.is(late.status, 401);
  t.like(late.json, { error: { code: 'clock_skew' } });
  const early = await get(fx, fx.admin, '/v1/keys', new Date(Date.now() + 6 * 60_000));
  t.is(early.status, 401);
  t.is((await get(fx, fx.admin, '/v1/keys', new Date(Date.now() - 4 * 60_000))).status, 200);
});

test('a tampered body or path is refused, and nothing changes', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const body = JSON.stringify({ email: 'eve@acme.test', name: 'Eve' });
  const headers = signedHeaders(fx.url, fx.admin, {
    method: 'POST',
    path: '/v1/users',
    body,
    headers: { 'x-akm-nonce': 'n1' },
  });
  const forged = body.replace('eve@', 'mal@');
  const reply = await rawRequest(fx.url, { method: 'POST', path: '/v1/users', headers, body: forged });
  t.is(reply.status, 401);
  t.like(reply.json, { error: { code: 'auth_failed' } });
  const moved = await rawRequest(fx.url, { method: 'POST', path: '/v1/groups', headers, body });
  t.is(moved.status, 401);
  const users = await fx.remote(fx.admin).listUsers();
  t.false(users.some((u) => u.email !== 'admin@acme.test'));
});

test('a replayed mutating request is refused: same nonce, or (without a nonce) same signature', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const body = JSON.stringify({ email: 'dan@acme.test', name: 'Dan' });
  const headers = signedHeaders(fx.url, fx.admin, {
    method: 'POST',
    path: '/v1/users',
    body,
    headers: { 'x-akm-nonce': randomBytes(16).toString('base64url') },
  });
  const first = await rawRequest(fx.url, { method: 'POST', path: '/v1/users', headers, body });
  t.is(first.status, 201);
  const again = await rawRequest(fx.url, { method: 'POST', path: '/v1/users', headers, body });
  t.is(again.status, 401);
  t.like(again.json, { error: { code: 'replayed_request', exitCode: 5 } });

  // Re-signed later with the same nonce: still the same nonce, still refused.
  const reNonce = signedHeaders(fx.url, fx.admin, {
    method: 'POST',
    path: '/v1/groups',
    body: '{"name":"G"}',
    headers: { 'x-akm-nonce': headers['x-akm-nonce']! },
  });
  t.is(
    (await rawRequest(fx.url, { method: 'POST', path: '/v1/groups', headers: reNonce, body: '{"name":"G"}' })).status,
    401,
  );

  // A client that sends no nonce (plain curl) is protected by its signature.
  const plain = signedHeaders(fx.url, fx.admin, { method: 'POST', path: '/v1/groups', body: '{"name":"H"}' });
  t.is(
    (await rawRequest(fx.url, { method: 'POST', path: '/v1/groups', headers: plain, body: '{"name":"H"}' })).status,
    201,
  );
  t.is(
    (await rawRequest(fx.url, { method: 'POST', path: '/v1/groups', headers: plain, body: '{"name":"H"}' })).status,
    401,
  );

  // Reads are not replay-checked: repeating a GET is harmless.
  const read = signedHeaders(fx.url, fx.admin, { path: '/v1/users' });
  t.is((await rawRequest(fx.url, { path: '/v1/users', headers: read })).status, 200);
  t.is((await rawRequest(fx.url, { path: '/v1/users', headers: read })).status, 200);
});

test("another tenant's key acts only in its own tenant", async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const store = await openStore(fx.store.location);
  const storeId = (await store.read((q) => getMeta(q, 'store_id')))!;
  await initTenant(store, storeId, deriveKeys(Buffer.from(fx.store.masterKey, 'base64')), {
    tenantId: 'globex',
    tenantName: 'Globex',
    adminEmail: 'root@globex.test',
    adminName: 'Root',
    now: new Date(),
    source: 'test',
  });
  await store.close();
  const globexLocal = await LocalService.open({
    store: fx.store.location,
    tenantId: 'globex',
    masterKey: fx.store.masterKeyOptions,
  });
  const globexAdmin = await globexLocal.createKey({
    name: 'g-admin',
    type: 'access',
    expiry: { kind: 'never' },
    owner: 'root@globex.test',
    groups: ['Administrators'],
    roles: [],
  });
  await globexLocal.close();

  const globex = fx.remote(globexAdmin);
  t.is((await globex.whoami()).tenantId, 'globex');
  t.deepEqual(
    (await globex.listKeys({})).items.map((k) => k.tenantId),
    ['globex'],
  );
  await t.throwsAsync(globex.showKey(fx.admin.accessKeyId), { code: 'key_not_found' });
  await t.throwsAsync(globex.deleteKey(fx.admin.accessKeyId), { code: 'key_not_found' });
  await t.throwsAsync(globex.removeUser('admin@acme.test'), { code: 'user_not_found' });
  // Claiming to act in acme with a globex key: 403.
  const claimed = fx.remote(globexAdmin, 'acme');
  const error = await t.throwsAsync(claimed.listKeys({}), { code: 'tenant_mismatch' });
  t.is((error as { exitCode?: number }).exitCode, 5);
  const raw = await rawRequest(fx.url, {
    path: '/v1/keys',
    headers: signedHeaders(fx.url, globexAdmin, { path: '/v1/keys', headers: { 'x-akm-tenant': 'acme' } }),
  });
  t.is(raw.status, 403);
  // acme is untouched.
  t.is((await fx.remote(fx.admin).showKey(fx.admin.accessKeyId)).accessKeyId, fx.admin.accessKeyId);
});

test('failed sign-ins are audited within a budget, and a key failing from one address is throttled there', async (t) => {
  const fx = await serverFixture();
  const wrong = { accessKeyId: fx.admin.accessKeyId, secretKey: generateSecretKey() };
  const statuses: number[] = [];
  let retryAfter: string | undefined;
  for (let i = 0; i < 30; i += 1) {
    const reply = await get(fx, wrong);
    statuses.push(reply.status);
    retryAfter ??= reply.headers['retry-after'] as string | undefined;
  }
  // Ten failures of one key from one address: the tenth and all after it are 429.
  const refused = statuses.filter((s) => s === 401).length;
  t.deepEqual(statuses, [...Array<number>(9).fill(401), ...Array<number>(21).fill(429)]);
  t.truthy(retryAfter);
  await fx.server.close();
  const db = new Database(fx.store.path, { readonly: true });
  const rows = db
    .prepare("SELECT actor, action, target, details, source FROM audit WHERE action LIKE 'auth.%'")
    .all() as Array<Record<string, string>>;
  db.close();
  await fx.store.cleanup();
  t.is(rows.length, refused + 1, 'the failures that were checked are recorded; the ones refused unread are not');
  t.like(rows[0], {
    actor: `key:${fx.admin.accessKeyId}`,
    action: 'auth.failed',
    target: fx.admin.accessKeyId,
    source: 'http:127.0.0.1',
  });
  t.deepEqual(JSON.parse(rows[0]!.details!), { reason: 'bad_signature', method: 'GET', path: '/v1/keys' });
  // Nothing secret in the trail: no signature, no secret.
  t.false(JSON.stringify(rows).includes(wrong.secretKey));
  t.false(/Signature=|[0-9a-f]{64}/.test(JSON.stringify(rows)));
});
