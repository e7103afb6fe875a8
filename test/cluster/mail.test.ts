/**
 * Expiry mail with three replicas on one PostgreSQL store, every one of them running the job
 * (--job-interval 1): each message is delivered exactly once. One replica, the job leader
 * (the holder of the store's advisory lock), runs the timed job; when it dies another takes over.
 * And when every replica runs the job at the same moment anyway (POST /v1/notifications/expiring
 * on each), the outbox claims (FOR UPDATE SKIP LOCKED) still hand each message to one sender.
 */
import type { ExecutionContext } from 'ava';
import { killHard, mostAtOnce, until } from '../helpers/children.js';
import { scrape, startCluster, type Cluster } from '../helpers/cluster.js';
import { postgresOnly } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';

const ADMINS = ['admin@acme.test', 'bob@acme.test', 'carol@acme.test'];

/** "recipient key" for each message received: the same pair twice is a duplicate. */
const pairs = (smtp: TestSmtp) =>
  smtp.received.map((m) => `${m.to.join(',')} ${/\((AKM[A-Z2-7]{17})\)/.exec(m.subject)![1]}`);

/** Keys expiring tomorrow, made through the replicas `via` in turn. */
async function expiringKeys(cluster: Cluster, names: string[], via = [0, 1, 2]): Promise<void> {
  for (const [i, name] of names.entries())
    await cluster.remote(via[i % via.length]!).createKey(keyInput({ name, expiry: { kind: 'days', days: 1 } }));
}

async function delivered(t: ExecutionContext, smtp: TestSmtp, expected: number): Promise<void> {
  await until(() => smtp.received.length >= expected, `${expected} messages`, 30_000);
  const seen = pairs(smtp);
  t.is(new Set(seen).size, seen.length, 'no message twice');
  t.is(seen.length, expected);
}

async function leaders(cluster: Cluster, alive: number[]): Promise<number[]> {
  const samples = await Promise.all(alive.map((i) => scrape(cluster.replicas[i]!.url)));
  return alive.filter((_, n) => samples[n]?.get('akm_job_leader') === 1);
}

postgresOnly.serial('expiry mail goes out exactly once with every replica running the job', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const cluster = await startCluster({
    args: ['--job-interval', '1'],
    env: { AKM_SMTP_URL: smtp.settings.url, AKM_MAIL_FROM: 'akm@acme.test' },
  });
  t.teardown(cluster.stop);
  for (const email of ADMINS.slice(1)) {
    await cluster.remote(0).addUser(email, '');
    await cluster.remote(1).addGroupMember('Administrators', email);
  }

  // The timed job: one leader among the three sends everything once.
  await expiringKeys(cluster, ['a1', 'a2', 'a3', 'a4']);
  await delivered(t, smtp, 4 * ADMINS.length);
  const [leader, ...others] = await until(async () => {
    const found = await leaders(cluster, [0, 1, 2]);
    return found.length === 1 ? found : null;
  }, 'one job leader');
  t.is(others.length, 0);

  // The leader dies: another replica takes the lock over and goes on, without resending.
  await killHard(cluster.replicas[leader!]!.child);
  const alive = [0, 1, 2].filter((i) => i !== leader);
  await until(async () => (await leaders(cluster, alive)).length === 1, 'a new job leader', 15_000);
  await expiringKeys(cluster, ['b1', 'b2'], alive);
  await delivered(t, smtp, 6 * ADMINS.length);

  // Every replica runs the job at the same moment (and the leader's timer too): claims keep them apart.
  smtp.delayMs = 20;
  await expiringKeys(
    cluster,
    Array.from({ length: 6 }, (_, i) => `c${i}`),
    alive,
  );
  const clients = alive.map((i) => cluster.remote(i));
  const runs = await Promise.all(
    clients.map(async (client) => {
      const t0 = performance.now();
      const result = await client.notifyExpiring({ withinDays: 2 });
      return { ...result, t0, t1: performance.now() };
    }),
  );
  await delivered(t, smtp, 12 * ADMINS.length);
  t.true(mostAtOnce(runs) >= 2, 'the runs overlapped');
  t.log(`runs on two replicas sent ${runs.map((r) => r.sent).join(' and ')}; the leader's timer the rest`);

  const raw = await cluster.store.raw();
  t.teardown(() => raw.close());
  const rows = await raw.all<{ state: string; attempts: number }>('SELECT state, attempts FROM outbox');
  t.is(rows.length, 12 * ADMINS.length);
  t.true(
    rows.every((r) => r.state === 'sent' && r.attempts === 1),
    'each row claimed once',
  );
});
