/**
 * Several real `akm serve` processes (replicas) on 127.0.0.1 over one PostgreSQL store, for the
 * cluster suite: what must hold across replicas is tested on real processes, each with its own
 * pool, cache, LISTEN connection and timers. Also a PostgreSQL cluster of a test's own (the
 * restart test stops and starts it, which must not disturb the other tests' cluster).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { RemoteService } from '../../src/remote/service.js';
import type { IssuedKey } from '../../src/service/types.js';
import { killHard, type Child } from './children.js';
import { ROOT } from './paths.js';
import { serveOn } from './serveProcess.js';
import { rawRequest } from './server.js';
import { adminKey, tempStore, type TempStore } from './store.js';

const run = promisify(execFile);

export interface Replica {
  index: number;
  child: Child;
  url: string;
}

export interface Cluster {
  store: TempStore;
  admin: IssuedKey;
  replicas: Replica[];
  /** the akm client signing as `key`, talking to replica `i` (round-robin over the replicas) */
  remote(i: number, key?: { accessKeyId: string; secretKey: string }): RemoteService;
  /** another replica on the store (after one was killed, say) */
  add(): Promise<Replica>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  replicas?: number;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** the store (default: a new PostgreSQL schema in the test file's database) */
  store?: TempStore;
}

/** A store with tenant acme and an administrator key, and `replicas` servers on it (3 by default). */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const store = options.store ?? (await tempStore('postgres', 'akm-cluster-'));
  const admin = await adminKey(store);
  const replicas: Replica[] = [];
  const add = async () => {
    const started = await serveOn(store, options.args ?? [], options.env ?? {});
    const replica = { index: replicas.length, ...started };
    replicas.push(replica);
    return replica;
  };
  try {
    await Promise.all(Array.from({ length: options.replicas ?? 3 }, add));
  } catch (error) {
    await Promise.all(replicas.map((r) => killHard(r.child)));
    await store.cleanup();
    throw error;
  }
  replicas.sort((a, b) => a.index - b.index);
  return {
    store,
    admin,
    replicas,
    remote: (i, key = admin) =>
      new RemoteService({
        baseUrl: replicas[i % replicas.length]!.url,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretKey },
      }),
    add,
    stop: async () => {
      await Promise.all(replicas.map((r) => killHard(r.child)));
      await store.cleanup();
    },
  };
}

/** One sample of a replica's /metrics, by full series name (`name{labels}`); null when it does not answer. */
export async function scrape(url: string): Promise<Map<string, number> | null> {
  try {
    const reply = await rawRequest(url, { path: '/metrics' });
    if (reply.status !== 200) return null;
    const series = new Map<string, number>();
    for (const line of reply.body.split('\n')) {
      const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (match) series.set(match[1]!, Number(match[2]));
    }
    return series;
  } catch {
    return null;
  }
}

/** A PostgreSQL cluster of the test's own (scripts/pg-cluster.sh), to stop and start at will. */
export interface OwnPostgres {
  /** the cluster's admin URL (its `postgres` database) */
  url: string;
  /** stop it, as `pg_ctl restart` does first; then `resume` */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** a new database on it, for a store */
  database(name: string): Promise<string>;
  remove(): Promise<void>;
}

const SCRIPT = join(ROOT, 'scripts', 'pg-cluster.sh');

export async function ownPostgres(): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'akm-own-pg-'));
  let url: string;
  try {
    url = (await run('sh', [SCRIPT, 'start', dir])).stdout.trim();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    halt: async () => void (await run('sh', [SCRIPT, 'halt', dir])),
    resume: async () => void (await run('sh', [SCRIPT, 'resume', dir])),
    database: async (name) => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const target = new URL(url);
      target.pathname = `/${name}`;
      return target.toString();
    },
    remove: async () => void (await run('sh', [SCRIPT, 'stop', dir])),
  };
}
