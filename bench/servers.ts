/**
 * What the HTTP benchmarks share: real `akm serve` processes (and the bare node:http baseline)
 * started as children on 127.0.0.1, and autocannon driving POST /v1/verify at them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/akm.js', import.meta.url));
export const BARE = fileURLToPath(new URL('./bareServer.js', import.meta.url));

export interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface Credential {
  accessKeyId: string;
  secretKey: string;
  /** what a verifier forwards about its caller */
  source?: { service: string; address: string };
}

export interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startChild(args: string[], env: NodeJS.ProcessEnv, logFile?: string): Promise<Running> {
  const errFd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', errFd] });
  if (typeof errFd === 'number') closeSync(errFd);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => /^https?:\/\//.test(l));
      if (!line) return;
      clearTimeout(timer);
      resolve({
        url: line.trim(),
        child,
        stop: () =>
          new Promise<void>((done) => {
            child.once('close', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

export interface AkmServeOptions {
  /** a SQLite file, or a postgres:// URL (handed over in a variable, never in argv) */
  store: string;
  masterKey: string;
  home: string;
  logFile: string;
}

export function startAkm(options: AkmServeOptions): Promise<Running> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: options.home, AKM_MASTER_KEY: options.masterKey };
  const where = options.store.startsWith('postgres')
    ? ['--store-env', 'AKM_BENCH_STORE_URL']
    : ['--store', options.store];
  if (options.store.startsWith('postgres')) env.AKM_BENCH_STORE_URL = options.store;
  // The rate limit is lifted: every request of the benchmark comes from one address.
  const args = [BIN, 'serve', ...where, '--listen', '127.0.0.1:0'];
  args.push('--verify-rate', '1000000000', '--verify-burst', '1000000000');
  return startChild(args, env, options.logFile);
}

/** POST /v1/verify for `seconds` over `connections` keep-alive connections, after a 1 s warm-up. */
export async function load(
  url: string,
  credentials: Credential[],
  seconds: number,
  connections = 10,
): Promise<AutocannonResult> {
  const bodies = credentials.map((c) => JSON.stringify(c));
  let next = 0;
  const options = {
    url: `${url}/v1/verify`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  };
  await autocannon({ ...options, duration: 1 }); // warm-up: JIT, page cache, connections
  const result = await autocannon({ ...options, duration: seconds });
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  return result;
}
