/**
 * SigV4 checks that a test must go red without: the signed payload hash must be the hash of the
 * body that arrived, and the previous secret of a rotation signs nothing once its grace is over.
 * And what the server tells and logs: no store path to key holders (reproduction 12), no secret
 * from a request path in its log or audit trail (reproduction 11).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { sleep } from '../helpers/children.js';
import { rawDb } from '../helpers/db.js';
import { perEngine } from '../helpers/engines.js';
import { rawRequest, serverFixture, signedHeaders } from '../helpers/server.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('a signed x-amz-content-sha256 must be the hash of the body that arrived', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const body = JSON.stringify({ email: 'dan@acme.test', name: 'Dan' });
  // S3-style clients sign the payload hash as a header; aws4 then takes the header's word for it.
  const headers = signedHeaders(fx.url, fx.admin, {
    method: 'POST',
    path: '/v1/users',
    body,
    headers: { 'x-amz-content-sha256': sha256(body), 'x-akm-nonce': 'payload-1' },
  });
  t.regex(headers.Authorization!, /SignedHeaders=[^,]*x-amz-content-sha256/);
  const forged = JSON.stringify({ email: 'mal@acme.test', name: 'Mal' });
  const reply = await rawRequest(fx.url, { method: 'POST', path: '/v1/users', headers, body: forged });
  t.is(reply.status, 401);
  t.like(reply.json, { error: { code: 'auth_failed' } });
  t.false((await fx.remote(fx.admin).listUsers()).some((u) => u.email === 'mal@acme.test'));
  // The same headers with the body they were made for: served (control).
  const genuine = signedHeaders(fx.url, fx.admin, {
    method: 'POST',
    path: '/v1/users',
    body,
    headers: { 'x-amz-content-sha256': sha256(body), 'x-akm-nonce': 'payload-2' },
  });
  t.is((await rawRequest(fx.url, { method: 'POST', path: '/v1/users', headers: genuine, body })).status, 201);
});

test('the previous secret of a rotation signs nothing once its grace is over, and is erased by the next write', async (t) => {
  let now = Date.now();
  const fx = await serverFixture({ now: () => new Date(now) });
  t.teardown(fx.close);
  const admin = fx.remote(fx.admin);
  const first = await admin.createKey({
    name: 'rotating',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: ['ReadOnly'],
  });
  const rotated = await admin.rotateKey(first.accessKeyId, 60_000);
  const get = (secretKey: string) =>
    rawRequest(fx.url, {
      path: '/v1/keys',
      headers: signedHeaders(
        fx.url,
        { accessKeyId: first.accessKeyId, secretKey },
        { path: '/v1/keys', date: new Date(now) },
      ),
    });
  t.is((await get(first.secretKey)).status, 200, 'within the grace');
  now += 61_000;
  const after = await get(first.secretKey);
  t.is(after.status, 401, 'after the grace');
  t.is(fx.logs.at(-1)!.reason, 'bad_signature');
  t.is((await get(rotated.secretKey)).status, 200, 'the new secret (control)');

  const stored = () => {
    const raw = rawDb(fx.store.path);
    try {
      return raw
        .prepare('SELECT previous_sealed, previous_digest, previous_valid_until FROM keys WHERE id = ?')
        .get(first.accessKeyId);
    } finally {
      raw.close();
    }
  };
  t.not((stored() as { previous_digest: Buffer | null }).previous_digest, null, 'still stored: no write since');
  await admin.addUser('any@acme.test', ''); // the next write transaction
  t.deepEqual(stored(), { previous_sealed: null, previous_digest: null, previous_valid_until: null });
});

test('reproduction 12: /v1/whoami tells a key holder nothing about where the store is', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const reply = await rawRequest(fx.url, {
    path: '/v1/whoami',
    headers: signedHeaders(fx.url, fx.admin, { path: '/v1/whoami' }),
  });
  t.is(reply.status, 200);
  t.false(reply.body.includes(fx.store.path));
  t.false(reply.body.includes(fx.store.dir));
  t.deepEqual(Object.keys(reply.json).sort(), [
    'accessKeyId',
    'actor',
    'admin',
    'permissions',
    'tenantId',
    'tenantName',
  ]);
  t.like(await fx.remote(fx.admin).whoami(), { store: fx.url, mode: 'remote' });
});

test('reproduction 11: a secret in a request path never reaches the log or the audit trail', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const keyString = fx.admin.keyString;
  const path = `/v1/keys/${encodeURIComponent(keyString)}`;
  // Signed (by some other client that did not refuse it), and once with a wrong signature.
  const signed = await rawRequest(fx.url, { path, headers: signedHeaders(fx.url, fx.admin, { path }) });
  t.is(signed.status, 400);
  t.like(signed.json, { error: { code: 'secret_in_argument' } });
  t.false(signed.body.includes(fx.admin.secretKey), 'not echoed');
  // Another last character: 'x' alone was no change for a secret that already ended in x.
  const last = fx.admin.secretKey.endsWith('x') ? 'y' : 'x';
  const wrong = { accessKeyId: fx.admin.accessKeyId, secretKey: fx.admin.secretKey.slice(0, -1) + last };
  t.is((await rawRequest(fx.url, { path, headers: signedHeaders(fx.url, wrong, { path }) })).status, 401);
  const logged = JSON.stringify(fx.logs);
  t.false(logged.includes(fx.admin.secretKey));
  t.false(logged.includes(fx.admin.secretKey.slice(5, 30)));
  t.regex(logged, /akms_\[redacted\]/);
  await fx.server.close();
  const raw = rawDb(fx.store.path);
  const trail = JSON.stringify(raw.prepare("SELECT * FROM audit WHERE action = 'auth.failed'").all());
  raw.close();
  t.regex(trail, /akms_\[redacted\]/);
  t.false(trail.includes(fx.admin.secretKey.slice(5, 30)));
});

perEngine('akm serve erases an ended grace on its own, even when nothing else is written', async (t, engine) => {
  // Nothing else writes: lastUsedAt is held back, so only the periodic sweep can erase it (on
  // PostgreSQL the replay tokens' writes erase nothing: they belong to no tenant).
  const fx = await serverFixture({ sweepIntervalMs: 200, lastUsedIntervalMs: 600_000 }, engine);
  t.teardown(fx.close);
  const admin = fx.remote(fx.admin);
  const key = await admin.createKey({
    name: 'short-grace',
    type: 'access',
    expiry: { kind: 'days', days: 1 },
    owner: null,
    groups: [],
    roles: [],
  });
  await admin.rotateKey(key.accessKeyId, 1000);
  const raw = await fx.store.raw();
  t.teardown(() => raw.close());
  const previous = async () =>
    (await raw.get<{ previous_digest: Buffer | null }>('SELECT previous_digest FROM keys WHERE id = @id', {
      id: key.accessKeyId,
    }))!.previous_digest;
  t.not(await previous(), null, 'kept during its grace');
  let erased = false;
  for (const deadline = Date.now() + 10_000; !erased && Date.now() < deadline; await sleep(100))
    erased = (await previous()) === null;
  t.true(erased, 'erased within moments of its end');
});
