/**
 * The server's cached verification must answer exactly as the local service does, for every
 * kind of input, and must not serve a stale answer after a change made elsewhere: on SQLite
 * from the next request on, on PostgreSQL once the re-validation interval has passed.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import type { LocalContext } from '../../src/service/local/context.js';
import { loadForVerification } from '../../src/service/local/verify.js';
import { VerifyCache, verifyCached } from '../../src/server/verifyCache.js';
import type { VerifyInput } from '../../src/service/types.js';
import { REVALIDATE_MS } from '../../src/store/postgres/store.js';
import { perEngine } from '../helpers/engines.js';
import { postVerify, serverFixture, type ServerFixture } from '../helpers/server.js';
import { tempStore } from '../helpers/store.js';

const ORIGIN = { clientAddress: '127.0.0.1', userAgent: null, path: 'verify' as const };

/** What the cache needs from the server's backend, over a service's context. */
function backendOf(ctx: LocalContext) {
  return {
    base: ctx,
    loadForVerification: (id: string) => loadForVerification(ctx, id),
    changes: () => ctx.store.changes(),
  };
}

const verifyStatus = async (fx: ServerFixture, keyString: string) => (await postVerify(fx.url, { keyString })).status;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

perEngine('same answers as the local service on every kind of input', async (t, engine) => {
  let clock = new Date();
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const local = await store.open(() => clock);
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
  // A second connection, as the server has its own.
  const server = await store.open(() => clock);
  t.teardown(() => server.close());
  const ctx = { ...server.ctx, recordUse: () => {}, onCanary: () => {} };
  const backend = backendOf(ctx);
  const cache = new VerifyCache(backend);
  const compare = async (when: string) => {
    for (const [what, input] of inputs) {
      const expected = await local.verifyKey(input);
      t.deepEqual(await verifyCached(backend, cache, input, ORIGIN), expected, `${what} (${when})`);
      t.deepEqual(await verifyCached(backend, cache, input, ORIGIN), expected, `${what} (${when}, cached)`);
    }
  };
  await compare('now');
  clock = new Date(clock.getTime() + 2 * 60_000); // the grace period is over
  ctx.now = () => clock;
  await compare('after the grace period');
  clock = new Date(clock.getTime() + 11 * 86_400_000); // everything has expired
  await compare('after expiry');
});

test('SQLite: a change committed by another process is seen at once', async (t) => {
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
  const check = () => verifyStatus(fx, key.keyString);
  t.is(await check(), 200);
  t.is(await check(), 200); // now cached

  // Another process (here: an akm CLI on the same file) deactivates it…
  const other = await fx.store.open();
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
  const after = await postVerify(fx.url, { keyString: key.keyString });
  t.deepEqual(after.json.permissions, ['audit:read', 'data:ingest', 'keys:read']);
  await admin.setKeyStatus(key.accessKeyId, 'inactive');
  t.is(await check(), 401);
});

perEngine(
  'PostgreSQL: a change committed by another process is seen once the re-validation interval has passed',
  async (t, engine) => {
    const fx = await serverFixture({}, engine);
    t.teardown(fx.close);
    const key = await fx.remote(fx.admin).createKey({
      name: 'svc',
      type: 'api',
      expiry: { kind: 'days', days: 3 },
      owner: null,
      groups: [],
      roles: ['Ingestion'],
    });
    t.is(await verifyStatus(fx, key.keyString), 200);
    t.is(await verifyStatus(fx, key.keyString), 200); // now cached
    // Another process (an akm CLI, or another server) deactivates it…
    const other = await fx.store.open();
    t.teardown(() => other.close());
    await other.setKeyStatus(key.accessKeyId, 'inactive');
    await sleep(REVALIDATE_MS + 50);
    t.is(await verifyStatus(fx, key.keyString), 401);
    await other.setKeyStatus(key.accessKeyId, 'active');
    await sleep(REVALIDATE_MS + 50);
    t.is(await verifyStatus(fx, key.keyString), 200);
    // …and a change behind akm's back makes it fail its integrity check.
    const raw = await fx.store.raw();
    t.teardown(() => raw.close());
    await raw.run("UPDATE keys SET expires_at = '2099-01-01T00:00:00.000Z' WHERE id = @id", { id: key.accessKeyId });
    await sleep(REVALIDATE_MS + 50);
    t.is(await verifyStatus(fx, key.keyString), 401);
  },
  ['postgres'],
);

perEngine('the cache is bounded', async (t, engine) => {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const service = await store.open();
  t.teardown(() => service.close());
  const cache = new VerifyCache(backendOf(service.ctx), 100);
  for (let i = 0; i < 1000; i += 1) await cache.lookup(generateAccessKeyId());
  t.is(cache.size, 100);
});

test('a read that began before a change is answered once but not kept', async (t) => {
  const keyRow = (status: 'active' | 'inactive') => ({ id: 'AKMAAAAAAAAAAAAAAAAB', status }) as never;
  let status: 'active' | 'inactive' = 'active';
  let hold: (() => void) | undefined;
  let loads = 0;
  const backend = {
    changes: () => ({ moved: () => false, maxAgeMs: Infinity }),
    loadForVerification: async () => {
      loads += 1;
      const seen = status; // the snapshot is taken when the read starts
      if (hold === undefined) await new Promise<void>((resolve) => (hold = resolve));
      return { row: keyRow(seen), permissions: [] };
    },
  };
  const cache = new VerifyCache(backend);
  const first = cache.lookup('AKMAAAAAAAAAAAAAAAAB');
  await new Promise((resolve) => setImmediate(resolve));
  // The key is deactivated and the server clears the cache while that read is still on its way.
  status = 'inactive';
  cache.invalidate();
  hold!();
  t.is((await first).row?.status, 'active', 'the request that started first gets what it read');
  t.is(cache.size, 0, 'but it is not kept');
  t.is((await cache.lookup('AKMAAAAAAAAAAAAAAAAB')).row?.status, 'inactive');
  t.is(loads, 2);
});

test('an entry in use is re-read in the background before it is too old, once, and never used past its age', async (t) => {
  const id = 'AKMAAAAAAAAAAAAAAAAB';
  let clock = 0;
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  let loads = 0;
  const backend = {
    changes: () => ({ moved: () => false, maxAgeMs: 1000 }),
    loadForVerification: async () => {
      loads += 1;
      await new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
      return { row: { id, status: 'active' } as never, permissions: [] };
    },
  };
  const cache = new VerifyCache(backend, 100, () => clock);
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  const first = cache.lookup(id);
  t.true(first instanceof Promise, 'nothing cached: the store is read');
  pending.shift()!.resolve();
  await first;

  clock = 500;
  t.false(cache.lookup(id) instanceof Promise);
  t.is(loads, 1, 'a young entry is used as it is');

  clock = 800;
  t.false(cache.lookup(id) instanceof Promise, 'an entry three quarters old still answers…');
  t.is(loads, 2, '…and is read again meanwhile');
  clock = 900;
  t.false(cache.lookup(id) instanceof Promise);
  t.is(loads, 2, 'once, however many ask while the read is on its way');
  pending.shift()!.resolve();
  await settled();

  // The re-read began at 800: the entry is that old. A re-read that fails leaves it to expire.
  clock = 1700;
  t.false(cache.lookup(id) instanceof Promise);
  t.is(loads, 3);
  pending.shift()!.reject(new Error('store unreachable'));
  await settled();
  clock = 1799;
  t.false(cache.lookup(id) instanceof Promise, 'still young enough');
  pending.shift()?.reject(new Error('store unreachable'));
  await settled();
  clock = 1800;
  const late = cache.lookup(id);
  t.true(late instanceof Promise, 'an entry as old as maxAgeMs is never used: the store is read');
  pending.shift()!.reject(new Error('store unreachable'));
  await t.throwsAsync(late as Promise<unknown>, { message: 'store unreachable' });
});
