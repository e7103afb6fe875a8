/**
 * The server's cached verification must answer exactly as the local service does, for every
 * kind of input, and must never serve a stale answer after a change made elsewhere.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import { VerifyCache, verifyCached } from '../../src/server/verifyCache.js';
import type { VerifyInput } from '../../src/service/types.js';
import { openDatabase } from '../../src/store/open.js';
import { rawRequest, serverFixture } from '../helpers/server.js';
import { tempStore } from '../helpers/store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('same answers as the local service on every kind of input', async (t) => {
  let clock = new Date();
  const store = tempStore();
  t.teardown(store.cleanup);
  const local = store.open(() => clock);
  t.teardown(() => local.close());
  await local.addUser('u@acme.test', 'U');
  const make = (name: string, owner: string | null = null) =>
    local.createKey({
      name,
      type: 'access',
      expiry: { kind: 'days', days: 10 },
      owner,
      groups: ['Administrators'],
      roles: ['Ingestion'],
    });
  const good = await make('good', 'u@acme.test');
  const off = await make('off');
  await local.setKeyStatus(off.accessKeyId, 'inactive');
  const rotated = await make('rotated');
  const fresh = await local.rotateKey(rotated.accessKeyId, 60_000);
  const cut = await make('cut');
  const cutFresh = await local.rotateKey(cut.accessKeyId, 0);

  const inputs: Array<[string, VerifyInput]> = [
    ['valid', { accessKeyId: good.accessKeyId, secretKey: good.secretKey }],
    ['valid, right tenant', { accessKeyId: good.accessKeyId, secretKey: good.secretKey, tenantId: 'acme' }],
    ['valid, wrong tenant', { accessKeyId: good.accessKeyId, secretKey: good.secretKey, tenantId: 'globex' }],
    ['wrong secret', { accessKeyId: good.accessKeyId, secretKey: generateSecretKey() }],
    ["another key's secret", { accessKeyId: good.accessKeyId, secretKey: off.secretKey }],
    ['inactive', { accessKeyId: off.accessKeyId, secretKey: off.secretKey }],
    ['unknown', { accessKeyId: generateAccessKeyId(), secretKey: generateSecretKey() }],
    ['malformed id', { accessKeyId: 'AKM-nope', secretKey: good.secretKey }],
    [
      'malformed secret',
      {
        accessKeyId: good.accessKeyId,
        secretKey: good.secretKey.slice(0, -1) + (good.secretKey.endsWith('a') ? 'b' : 'a'),
      },
    ],
    ['empty', { accessKeyId: '', secretKey: '' }],
    ['new secret after rotation', { accessKeyId: rotated.accessKeyId, secretKey: fresh.secretKey }],
    ['old secret in grace', { accessKeyId: rotated.accessKeyId, secretKey: rotated.secretKey }],
    ['old secret, no grace', { accessKeyId: cut.accessKeyId, secretKey: cut.secretKey }],
    ['new secret, no grace', { accessKeyId: cut.accessKeyId, secretKey: cutFresh.secretKey }],
  ];
  const db = openDatabase(store.path);
  t.teardown(() => db.close());
  const cache = new VerifyCache(db);
  const ctx = { ...local.ctx, db, recordUse: () => {} };
  const compare = async (when: string) => {
    for (const [what, input] of inputs) {
      const expected = await local.verifyKey(input);
      t.deepEqual(verifyCached(ctx, cache, input), expected, `${what} (${when})`);
      t.deepEqual(verifyCached(ctx, cache, input), expected, `${what} (${when}, cached)`);
    }
  };
  await compare('now');
  clock = new Date(clock.getTime() + 2 * 60_000); // the grace period is over
  ctx.now = () => clock;
  await compare('after the grace period');
  clock = new Date(clock.getTime() + 11 * 86_400_000); // everything has expired
  await compare('after expiry');
});

test('a change committed by another process is seen at once', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const admin = fx.remote(fx.admin);
  const key = await admin.createKey({
    name: 'svc',
    type: 'api',
    expiry: { kind: 'days', days: 3 },
    owner: null,
    groups: [],
    roles: ['Ingestion'],
  });
  const check = async () =>
    (
      await rawRequest(fx.url, {
        method: 'POST',
        path: '/v1/verify',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keyString: key.keyString }),
      })
    ).status;
  t.is(await check(), 200);
  t.is(await check(), 200); // now cached

  // Another process (here: an akm CLI on the same file) deactivates it…
  const other = fx.store.open();
  await other.setKeyStatus(key.accessKeyId, 'inactive');
  await sleep(2);
  t.is(await check(), 401);
  await other.setKeyStatus(key.accessKeyId, 'active');
  await other.close();
  await sleep(2);
  t.is(await check(), 200);

  // …so is a change made behind akm's back: the key then fails its integrity check.
  const raw = new Database(fx.store.path);
  raw.prepare("UPDATE keys SET expires_at = '2099-01-01T00:00:00.000Z' WHERE id = ?").run(key.accessKeyId);
  raw.close();
  await sleep(2);
  t.is(await check(), 401);
  const repaired = new Database(fx.store.path);
  repaired.prepare('UPDATE keys SET expires_at = ? WHERE id = ?').run(key.expiresAt, key.accessKeyId);
  repaired.close();
  await sleep(2);
  t.is(await check(), 200, 'the original bytes verify again');

  // …and a change through the server itself (its own connection) is seen too.
  await admin.assignKey(key.accessKeyId, { addGroups: [], addRoles: ['ReadOnly'], removeGroups: [], removeRoles: [] });
  const after = await rawRequest(fx.url, {
    method: 'POST',
    path: '/v1/verify',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keyString: key.keyString }),
  });
  t.deepEqual(after.json.permissions, ['audit:read', 'data:ingest', 'keys:read']);
  await admin.setKeyStatus(key.accessKeyId, 'inactive');
  t.is(await check(), 401);
});

test('the cache is bounded', (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const db = openDatabase(store.path);
  t.teardown(() => db.close());
  const cache = new VerifyCache(db, 100);
  for (let i = 0; i < 1000; i += 1) cache.lookup(generateAccessKeyId());
  t.is(cache.size, 100);
});
