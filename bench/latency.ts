/**
 * Create and rotate latency through the local service, per store engine: what one `akm create`
 * or `akm rotate` costs beyond starting the process. SQLite is a file in a temp folder;
 * PostgreSQL is a database of its own on the cluster in AKM_TEST_PG_URL (npm run bench starts a
 * throw-away one through scripts/with-postgres.sh), skipped when there is none.
 *
 * Run: node dist/bench/latency.js
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { deriveKeys } from '../src/crypto/keys.js';
import { ensureStoreId, initTenant } from '../src/service/local/bootstrap.js';
import { LocalService } from '../src/service/local/service.js';
import { openStore } from '../src/store/open.js';
import type { Engine } from '../src/store/types.js';
import { printBenchRows, type BenchRow } from './report.js';

const OPERATIONS = Number(process.env.AKM_BENCH_LATENCY_OPS ?? 300);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timed(count: number, work: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await work(i);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** A store for the engine and a way to drop it afterwards. */
export async function benchStore(engine: Engine): Promise<{ location: string; drop: () => Promise<void> } | null> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'akm-bench-'));
    return { location: join(dir, 'akm.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env.AKM_TEST_PG_URL;
  if (!admin) return null;
  const name = `akm_bench_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { location: url.toString(), drop: () => run(`DROP DATABASE ${name} WITH (FORCE)`) };
}

async function measure(engine: Engine): Promise<BenchRow[]> {
  const target = await benchStore(engine);
  if (!target) return [{ what: `${engine}: create, rotate`, value: 'skipped (no PostgreSQL)', target: '-', ok: true }];
  try {
    const masterKey = randomBytes(32);
    const store = await openStore(target.location, { create: true });
    await initTenant(store, await ensureStoreId(store), deriveKeys(masterKey), {
      tenantId: 'bench',
      tenantName: 'Bench',
      adminEmail: 'admin@bench.test',
      adminName: '',
      now: new Date(),
      source: 'bench',
    });
    await store.close();
    const service = await LocalService.open({
      store: target.location,
      masterKey: { env: { AKM_MASTER_KEY: masterKey.toString('base64') }, keychain: () => ({}) as never },
      source: 'bench',
    });
    try {
      const ids: string[] = [];
      const create = await timed(OPERATIONS, async (i) => {
        const key = await service.createKey({
          name: `k${i}`,
          type: 'access',
          expiry: { kind: 'days', days: 90 },
          owner: null,
          groups: [],
          roles: ['ReadOnly'],
        });
        ids.push(key.accessKeyId);
      });
      const rotate = await timed(OPERATIONS, (i) => service.rotateKey(ids[i]!, 0));
      const row = (what: string, r: { p50: number; p99: number }): BenchRow => ({
        what: `${engine}: ${what} p50 / p99`,
        value: `${r.p50.toFixed(2)} ms / ${r.p99.toFixed(2)} ms`,
        target: 'reported',
        ok: true,
      });
      return [row('create', create), row('rotate', rotate)];
    } finally {
      await service.close();
    }
  } finally {
    await target.drop();
  }
}

export async function benchLatency(): Promise<BenchRow[]> {
  return [...(await measure('sqlite')), ...(await measure('postgres'))];
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  printBenchRows(`create and rotate through the service (${OPERATIONS} each, one at a time)`, await benchLatency());
