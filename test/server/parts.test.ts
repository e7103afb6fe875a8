/** The server's small parts on their own: replay guard, rate limiter, failure throttle and budget, lastUsedAt batching. */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { LocalBackend } from '../../src/service/local/backend.js';
import { AuthFailureLog } from '../../src/server/authFailures.js';
import { UsageBatcher } from '../../src/server/usage.js';
import { clientKey, RateLimiter } from '../../src/server/rateLimit.js';
import { CLOCK_MARGIN_MS, ReplayGuard } from '../../src/server/replay.js';
import { FailureThrottle } from '../../src/server/throttle.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import type { Params } from '../../src/store/types.js';
import { tempStore, type TempStore } from '../helpers/store.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const SOURCE = { service: null, address: '10.0.0.1', userAgent: null, via: null };
const at = (ms: number) => new Date(T0.getTime() + ms);

perEngine(
  'replay guard: a token is refused while its request could still pass the clock check, on any server',
  async (t, engine) => {
    const { store, backend: one } = await backendFor(t, engine);
    const two = await openBackend(t, store);
    const [guard, other] = [new ReplayGuard(one, 5 * 60_000), new ReplayGuard(two, 5 * 60_000)];
    t.is(await guard.check('a', T0, T0), 'fresh');
    t.is(await guard.check('a', T0, at(1000)), 'replayed');
    t.is(await other.check('a', T0, at(1000)), 'replayed', 'another server on the store knows it too');
    t.is(await guard.check('a', T0, at(5 * 60_000 + CLOCK_MARGIN_MS)), 'replayed');
    // Once the window (and the clock margin) has passed, the clock check would refuse it anyway.
    t.is(await other.check('a', T0, at(5 * 60_000 + CLOCK_MARGIN_MS + 1)), 'fresh');
    // Only a hash of the token is stored.
    const stored = await one.store.read((q) => q.all<{ token: Buffer }>('SELECT token FROM replay_tokens'));
    t.deepEqual(
      stored.map((r) => r.token),
      [createHash('sha256').update('a').digest()],
    );
  },
);

test('rate limiter: burst, then the sustained rate, per client, with Retry-After', (t) => {
  const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 });
  const now = 1_000_000;
  t.true([1, 2, 3].every(() => limiter.take('10.0.0.1', now).allowed));
  const refused = limiter.take('10.0.0.1', now);
  t.false(refused.allowed);
  t.is(refused.allowed ? 0 : refused.retryAfterSeconds, 1);
  t.true(limiter.take('10.0.0.2', now).allowed, 'another client has its own bucket');
  t.true(limiter.take('10.0.0.1', now + 500).allowed, 'one token back after 1/rate seconds');
  t.false(limiter.take('10.0.0.1', now + 500).allowed);
});

test('rate limiter: the map is bounded, dropping the client seen longest ago', (t) => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxClients: 100 });
  for (let i = 0; i < 1000; i += 1) limiter.take(`10.0.${i >> 8}.${i & 255}`, 1000);
  t.is(limiter.size, 100);
  // The most recent clients are still remembered (and limited).
  t.false(limiter.take('10.0.3.231', 1000).allowed);
});

test('rate limiter: IPv6 clients share a bucket per /64; IPv4-mapped addresses are IPv4', (t) => {
  t.is(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:db8:1:2:bbbb::2'));
  t.not(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
  t.is(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
});

/**
 * Another process's write transaction, held open until the returned function lets go. SQLite:
 * the file's write lock (a connection of its own, outside akm); PostgreSQL: whatever `statement`
 * locks.
 */
async function holdWrite(store: TempStore, statement: string, params?: Params): Promise<() => Promise<void>> {
  if (store.engine === 'sqlite') {
    const other = new Database(store.path);
    other.exec('BEGIN IMMEDIATE');
    return async () => {
      other.exec('ROLLBACK');
      other.close();
    };
  }
  const other = await store.raw();
  let release!: () => void;
  let locked!: () => void;
  const lockHeld = new Promise<void>((resolve) => (locked = resolve));
  const holding = other.store.write(null, async (q) => {
    await q.run(statement, params);
    locked();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await lockHeld;
  return async () => {
    release();
    await holding;
    await other.close();
  };
}

/** The store as one server holds it (closed at the end of the test). */
async function openBackend(t: ExecutionContext, store: TempStore): Promise<LocalBackend> {
  const backend = await LocalBackend.open({
    store: store.location,
    masterKey: store.masterKeyOptions,
    recordUse: () => {},
    onCanary: () => {},
  });
  t.teardown(() => backend.close());
  return backend;
}

async function backendFor(t: ExecutionContext, engine: Engine) {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  return { store, backend: await openBackend(t, store) };
}

perEngine('failure log: at most N records a minute, the rest counted in one summary record', async (t, engine) => {
  const { backend } = await backendFor(t, engine);
  const log = new AuthFailureLog(
    (entries) => backend.appendAudit(entries),
    (e) => t.fail(String(e)),
    5,
  );
  const base = Date.parse('2030-01-01T00:00:00Z');
  for (let i = 0; i < 1000; i += 1) {
    log.note(
      {
        tenantId: 'acme',
        accessKeyId: 'AKMAAAAAAAAAAAAAAAAB',
        reason: 'bad_signature',
        ip: '192.0.2.1',
        method: 'GET',
        path: '/v1/keys',
        at: new Date(base + i).toISOString(),
      },
      base + i,
    );
  }
  await log.flush(base + 2000);
  await log.flush(base + 61_000); // the minute is over: the summary is written
  const rows = await backend.store.read((q) =>
    q.all<{ action: string; details: string }>(
      "SELECT action, details FROM audit WHERE action LIKE 'auth.%' ORDER BY seq",
    ),
  );
  t.is(rows.filter((r) => r.action === 'auth.failed').length, 5);
  const summary = rows.filter((r) => r.action === 'auth.failed.summary');
  t.is(summary.length, 1);
  t.is(JSON.parse(summary[0]!.details).count, 995);
});

perEngine('lastUsed batcher: many uses, one row write per key per flush; failures are retried', async (t, engine) => {
  const { store, backend } = await backendFor(t, engine);
  const local = await store.open();
  t.teardown(() => local.close());
  const [a, b] = [await local.createKey(keyInput({ name: 'a' })), await local.createKey(keyInput({ name: 'b' }))];
  const lastUsed = async (id: string) =>
    (await backend.store.read((q) =>
      q.get<{ at: string | null }>('SELECT last_used_at AS at FROM keys WHERE id = @id', { id }),
    ))!.at;
  const errors: unknown[] = [];
  const batcher = new UsageBatcher(backend, (e) => errors.push(e));
  const use = (accessKeyId: string, at: string) =>
    batcher.record({ accessKeyId, generation: 1, kind: 'use', at, source: SOURCE });
  for (let i = 0; i < 10_000; i += 1)
    use(a.accessKeyId, new Date(Date.parse('2030-01-01T00:00:00Z') + i).toISOString());
  t.is(batcher.pendingCount, 1);
  t.is(await batcher.flush(), 1);
  t.is(batcher.pendingCount, 0);
  t.is(await lastUsed(a.accessKeyId), new Date(Date.parse('2030-01-01T00:00:00Z') + 9999).toISOString());

  // While another process holds the write lock (SQLite: a connection of its own, outside akm, as
  // another process's would be) or the key's row (PostgreSQL), the flush gives up quickly and
  // keeps the notes.
  const release = await holdWrite(store, 'UPDATE keys SET name = name WHERE id = @id', { id: b.accessKeyId });
  use(b.accessKeyId, '2030-01-02T00:00:00.000Z');
  const started = Date.now();
  t.is(await batcher.flush(), 0);
  t.true(Date.now() - started < 2000);
  t.is(errors.length, 1);
  t.is(batcher.pendingCount, 1);
  await release();
  t.is(await batcher.flush(), 1);
  t.is(await lastUsed(b.accessKeyId), '2030-01-02T00:00:00.000Z');
});

test('failure throttle: the counts a flush is writing still count until the store holds them', async (t) => {
  let stored = 0;
  let release: (() => void) | undefined;
  const backend = {
    failuresSince: async () => stored,
    addFailures: async (batch: Map<string, Map<number, number>>) => {
      await new Promise<void>((resolve) => (release = resolve));
      for (const [scope, minutes] of batch) if (scope.startsWith('key ')) for (const n of minutes.values()) stored += n;
    },
  };
  const throttle = new FailureThrottle(backend, () => {}, {
    perAddress: 100,
    addressMinutes: 1,
    perKeyAndAddress: 3,
    keyMinutes: 1,
  });
  const now = T0.getTime();
  const blocked = () => throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now);
  t.is(await blocked(), null, 'the store read once: nothing yet');
  for (let i = 0; i < 3; i++) throttle.note('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now);
  t.truthy(await blocked());
  const flushed = throttle.flush(now);
  t.truthy(await blocked(), 'while the flush writes: the failures on their way still count');
  release!();
  await flushed;
  t.truthy(await blocked(), 'and once written, the store has them');
});

perEngine(
  'failure throttle: counted in memory, written in one transaction per flush; a failed flush keeps its counts',
  async (t, engine) => {
    const { store, backend } = await backendFor(t, engine);
    const errors: unknown[] = [];
    const throttle = new FailureThrottle(backend, (e) => errors.push(e), {
      perAddress: 5,
      addressMinutes: 1,
      perKeyAndAddress: 3,
      keyMinutes: 1,
    });
    const now = T0.getTime();
    const rows = async () =>
      (await backend.store.read((q) => q.get<{ n: number }>('SELECT count(*) AS n FROM auth_failures')))!.n;
    for (let i = 0; i < 2; i++) throttle.note('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now);
    t.is(await throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now), null);
    throttle.note('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now);
    t.truthy(
      await throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now),
      'the third failure of the key from there',
    );
    t.is(await throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.2', now), null, 'not from another address');
    t.is(await throttle.addressBlocked('10.0.0.1', now), null, 'three failures are under the address limit');
    for (let i = 0; i < 100; i++) throttle.note(null, '10.0.0.3', now);
    t.is(await rows(), 0, 'nothing written on the request path');

    // The store is locked by another process: the flush fails, and the counts wait for the next one.
    const release = await holdWrite(store, 'LOCK TABLE auth_failures IN EXCLUSIVE MODE');
    const started = Date.now();
    await throttle.flush(now);
    t.true(Date.now() - started < 2000, 'it does not wait long');
    t.is(errors.length, 1);
    await release();
    await throttle.flush(now + 1000);
    const written = (
      await backend.store.read((q) => q.all<{ scope: string; count: number }>('SELECT scope, count FROM auth_failures'))
    ).sort((x, y) => (x.scope < y.scope ? -1 : 1));
    t.deepEqual(written, [
      { scope: 'address 10.0.0.1', count: 3 },
      { scope: 'address 10.0.0.3', count: 100 },
      { scope: 'key AKMAAAAAAAAAAAAAAAAA 10.0.0.1', count: 3 },
    ]);
    // Read back from the store (another server would see the same), and forgotten a minute on.
    const fresh = new FailureThrottle(backend, () => {}, throttle.limits);
    t.truthy(await fresh.addressBlocked('10.0.0.3', now + 1500));
    t.is(await fresh.addressBlocked('10.0.0.3', now + 60_000), null);
  },
);
