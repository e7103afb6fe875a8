/**
 * POST /v1/verify on PostgreSQL beside SQLite, in the same run, and one replica beside two:
 *   PostgreSQL   target ≥ 90% of SQLite's requests per second (both answer from their cache)
 *   two replicas reported as a ratio to one: the client spreads its connections over both
 *                (5 to each, where one replica gets all 10)
 * The same 10,000 keys on both engines: seeded into SQLite, then `akm store copy`'d into a
 * database of its own on the cluster in AKM_TEST_PG_URL; skipped without one. On a machine of
 * few cores the load generator and the replicas share them, which caps what a second replica
 * can add: the ratio says what this machine gives, not what a cluster would.
 *
 * Run: node dist/bench/replicas.js (beside a cluster: sh scripts/with-postgres.sh node …)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyStore } from '../src/service/local/storeCopy.js';
import { benchStore } from './latency.js';
import { median } from './measure.js';
import { printBenchRows, type BenchRow } from './report.js';
import { seedStore } from './seed.js';
import { load, startAkm, type AutocannonResult, type Running } from './servers.js';

interface Round {
  sqlite: number;
  postgres: number;
  replicas: number;
}

const rps = (r: AutocannonResult) => r.requests.average;

export async function benchReplicas(seconds = Number(process.env.AKM_BENCH_SECONDS ?? 4)): Promise<BenchRow[]> {
  const database = await benchStore('postgres');
  if (!database) return [{ what: '/v1/verify on PostgreSQL', value: 'skipped (no PostgreSQL)', target: '-', ok: true }];
  const seeded = await seedStore(10_000);
  const servers: Running[] = [];
  try {
    await copyStore({
      from: seeded.path,
      to: database.location,
      masterKey: { env: { AKM_MASTER_KEY: seeded.masterKey }, keychain: () => ({}) as never },
    });
    const serve = async (store: string, name: string) => {
      const running = await startAkm({
        store,
        masterKey: seeded.masterKey,
        home: seeded.dir,
        logFile: join(seeded.dir, `${name}.log`),
      });
      servers.push(running);
      return running;
    };
    const sqlite = await serve(seeded.path, 'sqlite');
    const [a, b] = [await serve(database.location, 'pg-a'), await serve(database.location, 'pg-b')];
    const keys = seeded.samples;
    const rounds: Round[] = [];
    for (let i = 0; i < Number(process.env.AKM_BENCH_ROUNDS ?? 3); i += 1) {
      const onSqlite = await load(sqlite.url, keys, seconds);
      const onPostgres = await load(a.url, keys, seconds);
      const both = await Promise.all([load(a.url, keys, seconds, 5), load(b.url, keys, seconds, 5)]);
      rounds.push({ sqlite: rps(onSqlite), postgres: rps(onPostgres), replicas: rps(both[0]) + rps(both[1]) });
    }
    const share = median(rounds.map((r) => r.postgres / r.sqlite));
    const ratio = median(rounds.map((r) => r.replicas / r.postgres));
    return [
      {
        what: 'SQLite: requests/s',
        value: median(rounds.map((r) => r.sqlite)).toFixed(0),
        target: 'baseline',
        ok: true,
      },
      {
        what: 'PostgreSQL, one replica: requests/s',
        value: `${median(rounds.map((r) => r.postgres)).toFixed(0)} (${(share * 100).toFixed(0)}% of SQLite)`,
        target: '≥ 90%',
        ok: share >= 0.9,
      },
      {
        what: 'PostgreSQL, two replicas: requests/s',
        value: `${median(rounds.map((r) => r.replicas)).toFixed(0)} (${ratio.toFixed(2)}× one replica)`,
        target: 'reported',
        ok: true,
      },
    ];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
    rmSync(seeded.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  printBenchRows(
    '/v1/verify per store engine, and over two replicas (autocannon, 10 connections)',
    await benchReplicas(),
  );
