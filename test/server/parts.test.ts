/** The server's small parts on their own: replay guard, rate limiter, failure throttle and budget, lastUsedAt batching. */
import test from 'ava';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { deriveKeys } from '../../src/crypto/keys.js';
import { AuthFailureLog } from '../../src/server/authFailures.js';
import { LastUsedBatcher } from '../../src/server/lastUsed.js';
import { clientKey, RateLimiter } from '../../src/server/rateLimit.js';
import { CLOCK_MARGIN_MS, ReplayGuard } from '../../src/server/replay.js';
import { FailureThrottle } from '../../src/server/throttle.js';
import { openDatabase } from '../../src/store/open.js';
import { tempStore } from '../helpers/store.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

test('replay guard: a token is refused while its request could still pass the clock check, on any connection', (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const [one, two] = [openDatabase(store.path), openDatabase(store.path)];
  t.teardown(() => [one, two].forEach((db) => db.close()));
  const [guard, other] = [new ReplayGuard(one, 5 * 60_000), new ReplayGuard(two, 5 * 60_000)];
  t.is(guard.check('a', T0, T0), 'fresh');
  t.is(guard.check('a', T0, at(1000)), 'replayed');
  t.is(other.check('a', T0, at(1000)), 'replayed', 'another server on the store knows it too');
  t.is(guard.check('a', T0, at(5 * 60_000 + CLOCK_MARGIN_MS)), 'replayed');
  // Once the window (and the clock margin) has passed, the clock check would refuse it anyway.
  t.is(other.check('a', T0, at(5 * 60_000 + CLOCK_MARGIN_MS + 1)), 'fresh');
  // Only a hash of the token is stored.
  const stored = one.prepare('SELECT token FROM replay_tokens').all() as Array<{ token: Buffer }>;
  t.deepEqual(
    stored.map((r) => r.token),
    [createHash('sha256').update('a').digest()],
  );
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

test('failure log: at most N records a minute, the rest counted in one summary record', (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const db = openDatabase(store.path);
  t.teardown(() => db.close());
  const keys = deriveKeys(Buffer.from(store.masterKey, 'base64'));
  const log = new AuthFailureLog(
    db,
    () => keys,
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
  log.flush(base + 2000);
  log.flush(base + 61_000); // the minute is over: the summary is written
  const rows = db.prepare("SELECT action, details FROM audit WHERE action LIKE 'auth.%' ORDER BY seq").all() as Array<{
    action: string;
    details: string;
  }>;
  t.is(rows.filter((r) => r.action === 'auth.failed').length, 5);
  const summary = rows.filter((r) => r.action === 'auth.failed.summary');
  t.is(summary.length, 1);
  t.is(JSON.parse(summary[0]!.details).count, 995);
});

test('lastUsed batcher: many uses, one row write per key per flush; failures are retried', (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const local = store.open();
  const db = local.ctx.db;
  t.teardown(() => local.close());
  const errors: unknown[] = [];
  const batcher = new LastUsedBatcher(db, (e) => errors.push(e));
  const id = (db.prepare('SELECT id FROM keys LIMIT 1').get() as { id: string } | undefined)?.id;
  t.is(id, undefined, 'a fresh store has no keys yet');
  for (let i = 0; i < 10_000; i += 1)
    batcher.record('AKMAAAAAAAAAAAAAAAAB', new Date(Date.parse('2030-01-01T00:00:00Z') + i).toISOString());
  t.is(batcher.pendingCount, 1);
  t.is(batcher.flush(), 1);
  t.is(batcher.pendingCount, 0);

  // While another connection holds the write lock, the flush gives up quickly and keeps the notes.
  const other = new Database(store.path);
  other.exec('BEGIN IMMEDIATE');
  batcher.record('AKMAAAAAAAAAAAAAAAAC', '2030-01-02T00:00:00.000Z');
  const started = Date.now();
  t.is(batcher.flush(), 0);
  t.true(Date.now() - started < 2000);
  t.is(errors.length, 1);
  t.is(batcher.pendingCount, 1);
  other.exec('ROLLBACK');
  other.close();
  t.is(batcher.flush(), 1);
});

test('failure throttle: counted in memory, written in one transaction per flush; a failed flush keeps its counts', (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const db = openDatabase(store.path, { busyTimeoutMs: 50 });
  t.teardown(() => db.close());
  const errors: unknown[] = [];
  const throttle = new FailureThrottle(db, (e) => errors.push(e), {
    perAddress: 5,
    addressMinutes: 1,
    perKeyAndAddress: 3,
    keyMinutes: 1,
  });
  const now = T0.getTime();
  const rows = () => (db.prepare('SELECT count(*) AS n FROM auth_failures').get() as { n: number }).n;
  for (let i = 0; i < 2; i++) throttle.note('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now);
  t.is(throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now), null);
  throttle.note('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now);
  t.truthy(throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.1', now), 'the third failure of the key from there');
  t.is(throttle.keyBlocked('AKMAAAAAAAAAAAAAAAAA', '10.0.0.2', now), null, 'not from another address');
  t.is(throttle.addressBlocked('10.0.0.1', now), null, 'three failures are under the address limit');
  for (let i = 0; i < 100; i++) throttle.note(null, '10.0.0.3', now);
  t.is(rows(), 0, 'nothing written on the request path');

  // The store is locked by another process: the flush fails, and the counts wait for the next one.
  const other = new Database(store.path);
  other.exec('BEGIN IMMEDIATE');
  throttle.flush(now);
  t.is(errors.length, 1);
  other.exec('ROLLBACK');
  other.close();
  throttle.flush(now + 1000);
  const written = db.prepare('SELECT scope, count FROM auth_failures ORDER BY scope').all();
  t.deepEqual(written, [
    { scope: 'address 10.0.0.1', count: 3 },
    { scope: 'address 10.0.0.3', count: 100 },
    { scope: 'key AKMAAAAAAAAAAAAAAAAA 10.0.0.1', count: 3 },
  ]);
  // Read back from the store (another server would see the same), and forgotten a minute on.
  const fresh = new FailureThrottle(db, () => {}, throttle.limits);
  t.truthy(fresh.addressBlocked('10.0.0.3', now + 1500));
  t.is(fresh.addressBlocked('10.0.0.3', now + 60_000), null);
});
