/**
 * Claims on a delivery queue (store/claims.ts): each row goes to one sender at a time, only
 * that sender settles it, a lapsed lease hands it on; on PostgreSQL, senders on other
 * connections pass over the rows being claimed instead of waiting for them (SKIP LOCKED).
 */
import { claimRows, settleClaim, type ClaimQueue } from '../../src/store/claims.js';
import type { Store } from '../../src/store/types.js';
import { perEngine, postgresOnly } from '../helpers/engines.js';
import { tempStore } from '../helpers/store.js';

interface QueueRow {
  id: number;
  state: string;
  claim_token: string;
  attempts: number;
}

const QUEUE: ClaimQueue = { table: 'outbox', where: 'kind = @kind', params: { kind: 'test.delivery' } };
const NOW = '2027-01-01T00:00:00.000Z';
const LATER = '2027-01-01T00:20:00.000Z';
const claim = (token: string, limit: number, now = NOW) => ({
  token,
  now,
  leaseUntil: new Date(Date.parse(now) + 10 * 60_000).toISOString(),
  limit,
});

async function queued(store: Store, n: number): Promise<void> {
  await store.write(null, async (q) => {
    for (let i = 0; i < n; i++)
      await q.run(
        `INSERT INTO outbox (tenant_id, kind, key_id, expires_at, recipient, payload, state, created_at)
         VALUES ('acme', 'test.delivery', @key, @at, 'x@acme.test', '{}', 'pending', @at)`,
        { key: `k${i}`, at: NOW },
      );
  });
}

perEngine(
  'a claimed row goes to one sender, is settled by it only, and is handed on when its lease ends',
  async (t, engine) => {
    const temp = await tempStore(engine);
    t.teardown(temp.cleanup);
    const store = (await temp.raw()).store;
    t.teardown(() => store.close());
    await queued(store, 5);
    const first = await store.write(null, (q) => claimRows<QueueRow>(q, QUEUE, claim('A', 3)));
    t.deepEqual(
      first.map((r) => [r.state, r.claim_token, r.attempts]),
      Array(3).fill(['sending', 'A', 1]),
    );
    const second = await store.write(null, (q) => claimRows<QueueRow>(q, QUEUE, claim('B', 10)));
    t.is(second.length, 2, 'only the rows nobody holds');
    t.deepEqual(
      second.map((r) => r.id).filter((id) => first.some((r) => r.id === id)),
      [],
    );
    t.deepEqual(await store.write(null, (q) => claimRows(q, QUEUE, claim('C', 10))), []);

    const settle = (id: number, token: string) =>
      store.write(null, (q) => settleClaim(q, 'outbox', { id, token }, { state: 'sent', sent_at: NOW }));
    t.false(await settle(first[0]!.id, 'B'), 'not by another sender');
    t.true(await settle(first[0]!.id, 'A'));
    t.false(await settle(first[0]!.id, 'A'), 'once');
    // The leases end with four rows unsettled: they are due again, for another sender.
    const after = await store.write(null, (q) => claimRows<QueueRow>(q, QUEUE, claim('D', 10, LATER)));
    const byId = (a: number, b: number) => a - b;
    t.deepEqual(after.map((r) => r.id).sort(byId), [...first.slice(1), ...second].map((r) => r.id).sort(byId));
    t.true(after.every((r) => r.attempts === 2));
    t.false(await settle(first[1]!.id, 'A'), 'A held it too long: its outcome no longer counts');
  },
);

postgresOnly('PostgreSQL: a sender passes over rows another is claiming, without waiting for it', async (t) => {
  const temp = await tempStore('postgres');
  t.teardown(temp.cleanup);
  const raw = await temp.raw();
  t.teardown(() => raw.close());
  const store = raw.store;
  await queued(store, 6);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let firstDone = false;
  let firstRows: QueueRow[] = [];
  let claimed: () => void = () => {};
  const claiming = new Promise<void>((resolve) => (claimed = resolve));
  // Sender A claims three rows and keeps its transaction open (it holds their row locks)…
  const first = store
    .write(null, async (q) => {
      firstRows = await claimRows<QueueRow>(q, QUEUE, claim('A', 3));
      claimed();
      await held;
    })
    .then(() => (firstDone = true));
  await claiming;
  // …while sender B, on another connection, claims: it gets the other three at once.
  const second = await store.write(null, (q) => claimRows<QueueRow>(q, QUEUE, claim('B', 10)), { waitMs: 3000 });
  t.false(firstDone, 'B did not wait for A');
  t.is(second.length, 3);
  t.deepEqual(
    second.map((r) => r.id).filter((id) => firstRows.some((r) => r.id === id)),
    [],
  );
  release();
  await first;
  t.deepEqual(await store.write(null, (q) => claimRows(q, QUEUE, claim('C', 10))), [], 'all six are out');
});
