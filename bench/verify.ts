/**
 * POST /v1/verify under load, side by side with a bare node:http server in the same run:
 *   throughput   target ≥ 50% of the bare server's requests per second
 *   latency      target p99 ≤ 10 ms
 * with 100,000 keys in the store and with 1,000 (the cost must not grow with the store), and with
 * 100,000 keys and a forwarded `source` in every body. Every valid answer records a use of the
 * secret with its source (server/usage.ts), so each row measures recording too.
 * Both servers are child processes (the real `akm serve`); autocannon drives them from this
 * process, over loopback.
 *
 * Then the timing check (issue 5, item 7): median latency of "not valid" answers for an
 * unknown key, an inactive key, an expired key and a wrong secret must differ by < 10%.
 * Measured one request at a time on one keep-alive connection, the four kinds interleaved
 * round-robin so drift and noise fall on all of them alike.
 *
 * Throughput is measured in AKM_BENCH_ROUNDS interleaved rounds (default 3) of
 * AKM_BENCH_SECONDS each (default 4): requests/s and the share of bare are medians over the
 * rounds, p99 is the worst round's.
 *
 * Run: node dist/bench/verify.js
 */
import { printBenchRows, type BenchRow } from './report.js';
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAccessKeyId, generateSecretKey } from '../src/core/credentials.js';
import { storeKeys } from '../src/service/local/bootstrap.js';
import { openStore } from '../src/store/open.js';
import { updateExpiry, updateStatus } from '../src/store/keys.js';
import { median } from './measure.js';
import { seedStore, type SeededStore } from './seed.js';
import { BARE, load, startAkm, startChild, type AutocannonResult, type Credential, type Running } from './servers.js';

/** The same credentials, each body naming the verifier's caller: 8 services from 64 addresses. */
function forwarding(credentials: Credential[]): Credential[] {
  return credentials.map((c, i) => ({ ...c, source: { service: `svc-${i % 8}`, address: `10.0.${i % 4}.${i % 64}` } }));
}

function startSeeded(store: SeededStore): Promise<Running> {
  return startAkm({
    store: store.path,
    masterKey: store.masterKey,
    home: store.dir,
    logFile: join(store.dir, 'serve.log'),
  });
}

/** One request at a time, on one connection: latency in microseconds. */
function timeOne(agent: Agent, url: URL, body: string): Promise<{ us: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/verify',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ us: Number(process.hrtime.bigint() - started) / 1000, status: res.statusCode ?? 0 }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function timing(
  url: string,
  kinds: Record<string, Credential>,
  rounds: number,
): Promise<Record<string, { medianUs: number; status: number }>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const names = Object.keys(kinds);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const statuses: Record<string, number> = {};
  for (let round = 0; round < rounds + 200; round += 1) {
    for (const name of names) {
      const { us, status } = await timeOne(agent, target, JSON.stringify(kinds[name]));
      statuses[name] = status;
      if (round >= 200) samples[name]!.push(us); // the first 200 rounds warm up
    }
  }
  agent.destroy();
  return Object.fromEntries(names.map((n) => [n, { medianUs: median(samples[n]!), status: statuses[n]! }]));
}

/** Make the "not valid" kinds out of seeded keys: one deactivated, one expired, one with a wrong secret. */
async function notValidKinds(seeded: SeededStore): Promise<Record<string, Credential>> {
  const [inactive, expired, wrong] = [seeded.samples[1]!, seeded.samples[2]!, seeded.samples[3]!];
  const store = await openStore(seeded.path);
  // With the keys, as akm itself writes: the rows stay sealed (store/integrity.ts), so these are
  // genuinely inactive and expired keys, not altered ones.
  await storeKeys(store, { env: { AKM_MASTER_KEY: seeded.masterKey }, keychain: () => ({}) as never });
  const at = new Date().toISOString();
  await store.write(null, async (q) => {
    await updateStatus(
      q,
      inactive.accessKeyId,
      { status: 'inactive', byAdmin: true, inactiveUntil: null },
      at,
      'bench',
    );
    await updateExpiry(q, expired.accessKeyId, new Date(Date.now() - 86_400_000).toISOString(), at, 'bench');
  });
  await store.close();
  return {
    'unknown key': { accessKeyId: generateAccessKeyId(), secretKey: generateSecretKey() },
    'inactive key': inactive,
    'expired key': expired,
    'wrong secret': { accessKeyId: wrong.accessKeyId, secretKey: generateSecretKey() },
  };
}

export async function benchVerify(
  seconds = Number(process.env.AKM_BENCH_SECONDS ?? 4),
): Promise<{ throughput: BenchRow[]; timing: BenchRow[] }> {
  const large = await seedStore(100_000);
  const small = await seedStore(1_000);
  const kinds = await notValidKinds(large);
  const valid = large.samples.slice(10);
  const servers: Running[] = [];
  try {
    const bare = await startChild([BARE], { PATH: process.env.PATH });
    servers.push(bare);
    const akmLarge = await startSeeded(large);
    servers.push(akmLarge);
    const akmSmall = await startSeeded(small);
    servers.push(akmSmall);

    // Interleaved rounds: each round measures the four back to back, under the same load
    // from whatever else runs on the machine; the ratios are taken per round.
    const rounds = Number(process.env.AKM_BENCH_ROUNDS ?? 3);
    type Pick = 'bare' | 'large' | 'small' | 'sourced';
    const results: Array<Record<Pick, AutocannonResult>> = [];
    const sourced = forwarding(valid);
    for (let i = 0; i < rounds; i += 1) {
      results.push({
        bare: await load(bare.url, valid, seconds),
        large: await load(akmLarge.url, valid, seconds),
        small: await load(akmSmall.url, small.samples, seconds),
        sourced: await load(akmLarge.url, sourced, seconds),
      });
    }
    const summary = (pick: Pick) => ({
      rps: median(results.map((r) => r[pick].requests.average)),
      share: median(results.map((r) => r[pick].requests.average / r.bare.requests.average)),
      p50: median(results.map((r) => r[pick].latency.p50)),
      p99: Math.max(...results.map((r) => r[pick].latency.p99)),
    });
    const row = (what: string, r: ReturnType<typeof summary>): BenchRow[] => [
      {
        what: `${what}: requests/s`,
        value: `${r.rps.toFixed(0)} (${(r.share * 100).toFixed(0)}% of bare)`,
        target: '≥ 50%',
        ok: r.share >= 0.5,
      },
      {
        what: `${what}: latency p50 / p99`,
        value: `${r.p50} ms / ${r.p99} ms`,
        target: 'p99 ≤ 10 ms',
        ok: r.p99 <= 10,
      },
    ];
    const bareSummary = summary('bare');
    const throughput: BenchRow[] = [
      { what: 'bare node:http: requests/s', value: bareSummary.rps.toFixed(0), target: 'baseline', ok: true },
      {
        what: 'bare node:http: latency p50 / p99',
        value: `${bareSummary.p50} ms / ${bareSummary.p99} ms`,
        target: 'baseline',
        ok: true,
      },
      ...row('/v1/verify, 100,000 keys', summary('large')),
      ...row('/v1/verify, 1,000 keys', summary('small')),
      ...row('/v1/verify, 100,000 keys, a forwarded source in each body', summary('sourced')),
    ];

    const timingRounds = Number(process.env.AKM_BENCH_TIMING_ROUNDS ?? 3000);
    const measured = await timing(akmLarge.url, kinds, timingRounds);
    const medians = Object.values(measured).map((m) => m.medianUs);
    const spread = (Math.max(...medians) - Math.min(...medians)) / Math.min(...medians);
    const timingRows: BenchRow[] = Object.entries(measured).map(([what, m]) => ({
      what: `median, ${what}`,
      value: `${m.medianUs.toFixed(0)} µs (HTTP ${m.status})`,
      target: 'all 401',
      ok: m.status === 401,
    }));
    timingRows.push({
      what: `spread of the medians (${timingRounds} each)`,
      value: `${(spread * 100).toFixed(1)}%`,
      target: '< 10%',
      ok: spread < 0.1,
    });
    return { throughput, timing: timingRows };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(large.dir, { recursive: true, force: true });
    rmSync(small.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { throughput, timing: timingRows } = await benchVerify();
  printBenchRows('/v1/verify throughput and latency (autocannon, 10 connections, loopback)', throughput);
  printBenchRows('/v1/verify timing of "not valid" answers (one connection, interleaved)', timingRows);
  if (![...throughput, ...timingRows].every((r) => r.ok)) process.exitCode = 1;
}
