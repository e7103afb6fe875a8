/** The server's small parts on their own: replay guard, rate limiter, failure budget, lastUsedAt batching. */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { LocalBackend } from '../../src/service/local/backend.js';
import { AuthFailureLog } from '../../src/server/authFailures.js';
import { LastUsedBatcher } from '../../src/server/lastUsed.js';
import { clientKey, RateLimiter } from '../../src/server/rateLimit.js';
import { ReplayGuard } from '../../src/server/replay.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { tempStore, type TempStore } from '../helpers/store.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

test('replay guard: a token is refused while its request could still pass the clock check', (t) => {
  const guard = new ReplayGuard(10, 5 * 60_000);
  t.is(guard.check('a', T0, T0), 'fresh');
  t.is(guard.check('a', T0, at(1000)), 'replayed');
  t.is(guard.check('a', T0, at(5 * 60_000)), 'replayed');
  // Once the window (+1 s) has passed, the clock check would refuse it anyway: the token may go.
  t.is(guard.check('a', T0, at(5 * 60_000 + 1001)), 'fresh');
});

test('replay guard: memory is bounded; when full of live tokens it refuses instead of forgetting', (t) => {
  const guard = new ReplayGuard(3, 60_000);
  for (const token of ['a', 'b', 'c']) t.is(guard.check(token, T0, T0), 'fresh');
  t.is(guard.check('d', T0, at(1000)), 'full');
  t.is(guard.size, 3);
  t.is(guard.check('a', T0, at(1000)), 'replayed');
  // After the window the sweep makes room.
  t.is(guard.check('d', at(61_001), at(61_002)), 'fresh');
  t.is(guard.size, 1);
});

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
  t.false(limiter.peek('10.0.0.1', now + 500).allowed);
  t.true(limiter.peek('10.0.0.9', now).allowed);
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

/** Another writer holding what a write of this key needs; returns how to let go. */
async function holdLock(store: TempStore, keyId: string): Promise<() => Promise<void>> {
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
    await q.run('UPDATE keys SET name = name WHERE id = @id', { id: keyId });
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

async function backendFor(t: ExecutionContext, engine: Engine) {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const backend = await LocalBackend.open({
    store: store.location,
    masterKey: store.masterKeyOptions,
    recordUse: () => {},
  });
  t.teardown(() => backend.close());
  return { store, backend };
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
  const batcher = new LastUsedBatcher(
    (notes, waitMs) => backend.recordLastUsed(notes, waitMs),
    (e) => errors.push(e),
  );
  for (let i = 0; i < 10_000; i += 1)
    batcher.record(a.accessKeyId, new Date(Date.parse('2030-01-01T00:00:00Z') + i).toISOString());
  t.is(batcher.pendingCount, 1);
  t.is(await batcher.flush(), 1);
  t.is(batcher.pendingCount, 0);
  t.is(await lastUsed(a.accessKeyId), new Date(Date.parse('2030-01-01T00:00:00Z') + 9999).toISOString());

  // While another process holds the write lock (SQLite: a connection of its own, outside akm, as
  // another process's would be) or the key's row (PostgreSQL), the flush gives up quickly and
  // keeps the notes.
  const release = await holdLock(store, b.accessKeyId);
  batcher.record(b.accessKeyId, '2030-01-02T00:00:00.000Z');
  const started = Date.now();
  t.is(await batcher.flush(), 0);
  t.true(Date.now() - started < 2000);
  t.is(errors.length, 1);
  t.is(batcher.pendingCount, 1);
  await release();
  t.is(await batcher.flush(), 1);
  t.is(await lastUsed(b.accessKeyId), '2030-01-02T00:00:00.000Z');
});
