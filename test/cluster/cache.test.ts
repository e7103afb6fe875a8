/**
 * The /v1/verify cache of every replica learns of a change made elsewhere (another replica, a
 * CLI, plain SQL) within a second: each replica LISTENs for the change notifications the
 * store's triggers send, on a connection of its own that it reconnects by itself, and re-reads a
 * cached key after a second in any case (the fallback when a notification is lost).
 */
import type { ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { REVALIDATE_MS } from '../../src/store/postgres/store.js';
import { until } from '../helpers/children.js';
import { scrape, startCluster, type Cluster } from '../helpers/cluster.js';
import { postgresOnly } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { postVerify } from '../helpers/server.js';

const POLL_MS = 10;

/**
 * Polls verify on every replica but `except` until each refuses (or accepts) the key, and returns
 * how long that took from now. Requests are sent until REVALIDATE_MS plus a margin for a busy
 * machine: an answer from the cache is at most REVALIDATE_MS old when served, whatever happens
 * to the notification. Paced (POLL_MS) to stay within the default per-client verify rate, which
 * the answers from the cache would otherwise exhaust.
 */
async function learned(cluster: Cluster, keyString: string, status: number, except: number): Promise<number> {
  const started = performance.now();
  const deadline = started + REVALIDATE_MS + 500;
  await Promise.all(
    cluster.replicas
      .filter((r) => r.index !== except)
      .map(async (replica) => {
        for (;;) {
          const sent = performance.now();
          if ((await postVerify(replica.url, { keyString })).status === status) return;
          if (sent > deadline) throw new Error(`replica ${replica.index} still answers otherwise`);
          await sleep(POLL_MS);
        }
      }),
  );
  return performance.now() - started;
}

const notifications = async (url: string) => (await scrape(url))?.get('akm_store_change_notifications_total') ?? -1;

async function cached(t: ExecutionContext, cluster: Cluster, keyString: string): Promise<void> {
  for (const replica of cluster.replicas)
    for (let i = 0; i < 2; i++) t.is((await postVerify(replica.url, { keyString })).status, 200);
}

postgresOnly.serial('deactivated through one replica, a key is refused by the others within a second', async (t) => {
  const cluster = await startCluster();
  t.teardown(cluster.stop);
  const key = await cluster.remote(0).createKey(keyInput({ name: 'svc', roles: ['ReadOnly'] }));
  await cached(t, cluster, key.keyString);
  const heard = await notifications(cluster.replicas[1]!.url);

  await cluster.remote(0).setKeyStatus(key.accessKeyId, 'inactive');
  const ms = await learned(cluster, key.keyString, 401, 0);
  t.log(`the other replicas refused it ${ms.toFixed(0)} ms after the change was acknowledged`);

  // Told by the notification, not by the interval: once one has arrived, the very next answer
  // refuses a key cached moments before (well within the second it could otherwise be used).
  await cluster.remote(0).setKeyStatus(key.accessKeyId, 'active');
  await learned(cluster, key.keyString, 200, 0);
  await cached(t, cluster, key.keyString);
  const before = await notifications(cluster.replicas[1]!.url);
  t.true(before > heard, 'the change was notified');
  await cluster.remote(0).setKeyStatus(key.accessKeyId, 'inactive');
  await until(async () => (await notifications(cluster.replicas[1]!.url)) > before, 'a notification on replica 1');
  t.is((await postVerify(cluster.replicas[1]!.url, { keyString: key.keyString })).status, 401);

  // A change by an akm CLI on the database (no server involved), and one made with plain SQL.
  const cli = await cluster.store.open();
  t.teardown(() => cli.close());
  await cluster.remote(1).setKeyStatus(key.accessKeyId, 'active');
  await learned(cluster, key.keyString, 200, 1);
  await cli.setKeyStatus(key.accessKeyId, 'inactive');
  await learned(cluster, key.keyString, 401, -1);
  await cli.setKeyStatus(key.accessKeyId, 'active');
  await learned(cluster, key.keyString, 200, -1);
  const raw = await cluster.store.raw();
  t.teardown(() => raw.close());
  await raw.run("UPDATE keys SET expires_at = '2099-01-01T00:00:00.000Z' WHERE id = @id", { id: key.accessKeyId });
  await learned(cluster, key.keyString, 401, -1);
});

postgresOnly.serial(
  'the LISTEN connection comes back by itself, and a lost notification costs a second at most',
  async (t) => {
    const cluster = await startCluster();
    t.teardown(cluster.stop);
    const key = await cluster.remote(0).createKey(keyInput({ name: 'svc', roles: ['ReadOnly'] }));
    const raw = await cluster.store.raw();
    t.teardown(() => raw.close());
    const listening = async () =>
      (await Promise.all(cluster.replicas.map((r) => scrape(r.url)))).map((m) => m?.get('akm_store_listening'));

    // PostgreSQL drops every replica's LISTEN connection (an administrator, a failover, a proxy).
    t.deepEqual(await listening(), [1, 1, 1]);
    const dropped = await raw.all<{ done: boolean }>(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
      WHERE application_name = 'akm-listen' AND datname = current_database()`,
    );
    t.true(dropped.length >= 3);
    await until(async () => (await listening()).every((v) => v === 1), 'every replica listening again');
    await cached(t, cluster, key.keyString);
    const heard = await notifications(cluster.replicas[2]!.url);
    await cluster.remote(0).setKeyStatus(key.accessKeyId, 'inactive');
    await learned(cluster, key.keyString, 401, 0);
    // The replica may have learned by its re-read before the notification came: wait for that too.
    await until(
      async () => (await notifications(cluster.replicas[2]!.url)) > heard,
      'a notification on the new connection',
    );

    // Notifications lost altogether (the trigger disabled): the re-read after a second still tells.
    await raw.run('ALTER TABLE keys DISABLE TRIGGER akm_keys_updated');
    await cluster.remote(0).setKeyStatus(key.accessKeyId, 'active');
    await learned(cluster, key.keyString, 200, 0);
    await cached(t, cluster, key.keyString);
    const before = await notifications(cluster.replicas[2]!.url);
    await cluster.remote(0).setKeyStatus(key.accessKeyId, 'inactive');
    const ms = await learned(cluster, key.keyString, 401, 0);
    t.is(await notifications(cluster.replicas[2]!.url), before, 'no notification this time');
    t.log(`without a notification the replicas refused the key after ${ms.toFixed(0)} ms`);
  },
);
