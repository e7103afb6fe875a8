/**
 * Writes across replicas: three real `akm serve` processes on one PostgreSQL store. The checks
 * that guard a write (the two-key limit) and the audit chain hold exactly as with one server,
 * because every write of a tenant first takes the tenant's row lock (docs/storage.md).
 */
import type { ExecutionContext } from 'ava';
import type { AkmError } from '../../src/core/errors.js';
import type { RemoteService } from '../../src/remote/service.js';
import { envInt, mostAtOnce } from '../helpers/children.js';
import { startCluster } from '../helpers/cluster.js';
import { postgresOnly } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';

interface Outcome<T> {
  value?: T;
  error?: AkmError;
  t0: number;
  t1: number;
}

async function timed<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, t0, t1: performance.now() };
  } catch (error) {
    return { error: error as AkmError, t0, t1: performance.now() };
  }
}

postgresOnly.serial('the two-key limit holds under 8 concurrent creators spread over three replicas', async (t) => {
  const cluster = await startCluster();
  t.teardown(cluster.stop);
  const rounds = envInt('AKM_RACE_ROUNDS', 3);
  for (let round = 0; round < rounds; round++) {
    const owner = `racer${round}@acme.test`;
    await cluster.remote(round).addUser(owner, 'Racer');
    // Each creator is a client of its own (its own connection), on replica i mod 3.
    const calls = await Promise.all(
      Array.from({ length: 8 }, (_, i) => timed(() => cluster.remote(i).createKey(keyInput({ name: `k${i}`, owner })))),
    );
    const created = calls.filter((c) => c.value);
    t.is(created.length, 2, `round ${round}: exactly two keys`);
    for (const refused of calls.filter((c) => c.error))
      t.like(refused.error, { code: 'key_limit', exitCode: 4 }, refused.error?.message);
    t.true(mostAtOnce(calls) >= 4, `round ${round}: the creators raced (${mostAtOnce(calls)} at once)`);
    const listed = await cluster.remote(round + 1).listKeys({ owner });
    t.is(listed.items.length, 2, 'and the store holds two');
  }
});

/** A tenant's worth of changes through one replica: keys created, extended, deactivated, deleted. */
async function changes(client: RemoteService, tag: string, keys: number): Promise<number> {
  let done = 0;
  for (let i = 0; i < keys; i++) {
    const key = await client.createKey(keyInput({ name: `${tag}-${i}` }));
    await client.extendKey(key.accessKeyId, { kind: 'days', days: 60 });
    await client.setKeyStatus(key.accessKeyId, 'inactive');
    await client.deleteKey(key.accessKeyId);
    done += 4;
  }
  return done;
}

async function verifiedEverywhere(t: ExecutionContext, clients: RemoteService[], records: number): Promise<void> {
  const reports = await Promise.all(clients.map((c) => c.verifyAudit()));
  for (const report of reports) {
    t.true(report.ok, JSON.stringify(report.problems));
    t.deepEqual(report.alteredRows, []);
    t.is(report.records, records);
  }
  t.is(new Set(reports.map((r) => r.head)).size, 1, 'every replica sees the same head');
}

postgresOnly.serial("each tenant's audit trail stays one chain after concurrent writes on every replica", async (t) => {
  const cluster = await startCluster();
  t.teardown(cluster.stop);
  // A second tenant with an administrator key of its own: two chains, written at the same time.
  const globex = await cluster.store.addTenant('globex');
  const globexAdmin = await globex.createKey(
    keyInput({ name: 'admin', owner: 'admin@globex.test', groups: ['Administrators'], expiry: { kind: 'never' } }),
  );
  await globex.close();
  const acmeBefore = (await cluster.remote(0).verifyAudit()).records;
  const globexBefore = (await cluster.remote(0, globexAdmin).verifyAudit()).records;

  const keys = envInt('AKM_CLUSTER_KEYS', 3);
  const workers = cluster.replicas.flatMap((_, r) => [
    timed(() => changes(cluster.remote(r), `acme-r${r}`, keys)),
    timed(() => changes(cluster.remote(r, globexAdmin), `globex-r${r}`, keys)),
  ]);
  const results = await Promise.all(workers);
  for (const result of results) t.is(result.error, undefined, result.error?.message);
  t.true(mostAtOnce(results) >= 4, 'the writers overlapped');
  const acmeWrites = results.filter((_, i) => i % 2 === 0).reduce((sum, r) => sum + r.value!, 0);
  const globexWrites = results.filter((_, i) => i % 2 === 1).reduce((sum, r) => sum + r.value!, 0);

  await verifiedEverywhere(
    t,
    cluster.replicas.map((_, r) => cluster.remote(r)),
    acmeBefore + acmeWrites,
  );
  await verifiedEverywhere(
    t,
    cluster.replicas.map((_, r) => cluster.remote(r, globexAdmin)),
    globexBefore + globexWrites,
  );
});
