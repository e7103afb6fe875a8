/**
 * CLI start-up and listing, each against bare Node measured in the same run:
 *   akm --version            target ≤ 2.0× `node -e 0`
 *   akm list --json (1,000)  target ≤ 3.0× `node -e 0`; the V8 code cache must save > 10% of it
 *   akm list --json (100,000) target ≤ 3 s and peak RSS ≤ 200 MB
 *   akm report --format csv (100,000) target ≤ 3 s and peak RSS ≤ 200 MB
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runOnce, timeInterleaved, timeRuns } from './measure.js';
import { printBenchRows, type BenchRow } from './report.js';
import { seedStore } from './seed.js';

const BIN = fileURLToPath(new URL('../../bin/akm.js', import.meta.url));

export interface CliBenchResult {
  rows: BenchRow[];
}

export async function benchCli(runs = Number(process.env.AKM_BENCH_RUNS ?? 15)): Promise<CliBenchResult> {
  const small = await seedStore(1_000);
  const large = await seedStore(100_000);
  try {
    const env = (store: string, masterKey: string): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: small.dir,
      AKM_STORE: store,
      AKM_MASTER_KEY: masterKey,
    });
    const bare = timeRuns(['-e', '0'], { PATH: process.env.PATH }, runs);
    const version = timeRuns([BIN, '--version'], env(small.path, small.masterKey), runs);
    const listEnv = env(small.path, small.masterKey);
    const list = timeRuns([BIN, 'list', '--json'], listEnv, runs);
    // What bin/loadBundle.js's V8 code cache is worth: the same command without it, interleaved.
    const [cached, uncached] = timeInterleaved(
      { args: [BIN, 'list', '--json'], env: listEnv },
      { args: [BIN, 'list', '--json'], env: { ...listEnv, AKM_CODE_CACHE: '0' } },
      runs * 4,
    );
    const cacheSaves = (uncached.medianMs - cached.medianMs) / uncached.medianMs;
    const big = [0, 1, 2].map(() => runOnce([BIN, 'list', '--json'], env(large.path, large.masterKey), true));
    const bigMs = Math.min(...big.map((b) => b.ms));
    const bigRss = Math.max(...big.map((b) => b.rssKb ?? 0)) / 1024;
    const reportArgs = [BIN, 'report', '--format', 'csv'];
    const report = [0, 1, 2].map(() => runOnce(reportArgs, env(large.path, large.masterKey), true));
    const reportMs = Math.min(...report.map((r) => r.ms));
    const reportRss = Math.max(...report.map((r) => r.rssKb ?? 0)) / 1024;
    const ratio = (x: number) => x / bare.medianMs;
    return {
      rows: [
        { what: 'node -e 0 (median)', value: `${bare.medianMs.toFixed(1)} ms`, target: 'baseline', ok: true },
        {
          what: 'akm --version',
          value: `${version.medianMs.toFixed(1)} ms = ${ratio(version.medianMs).toFixed(2)}×`,
          target: '≤ 2.0×',
          ok: ratio(version.medianMs) <= 2,
        },
        {
          what: 'akm list --json, 1,000 keys',
          value: `${list.medianMs.toFixed(1)} ms = ${ratio(list.medianMs).toFixed(2)}×`,
          target: '≤ 3.0×',
          ok: ratio(list.medianMs) <= 3,
        },
        {
          what: '  without the V8 code cache',
          value: `${uncached.medianMs.toFixed(1)} ms: the cache saves ${(cacheSaves * 100).toFixed(0)}%`,
          target: '> 10% saved',
          ok: cacheSaves > 0.1,
        },
        {
          what: 'akm list --json, 100,000 keys',
          value: `${(bigMs / 1000).toFixed(2)} s (${(big[0]!.stdoutBytes / 1e6).toFixed(1)} MB of JSON)`,
          target: '≤ 3 s',
          ok: bigMs <= 3000,
        },
        { what: '  peak RSS', value: `${bigRss.toFixed(0)} MB`, target: '≤ 200 MB', ok: bigRss <= 200 },
        {
          what: 'akm report --format csv, 100,000 keys',
          value: `${(reportMs / 1000).toFixed(2)} s (${(report[0]!.stdoutBytes / 1e6).toFixed(1)} MB of CSV)`,
          target: '≤ 3 s',
          ok: reportMs <= 3000,
        },
        { what: '  peak RSS', value: `${reportRss.toFixed(0)} MB`, target: '≤ 200 MB', ok: reportRss <= 200 },
      ],
    };
  } finally {
    rmSync(small.dir, { recursive: true, force: true });
    rmSync(large.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  printBenchRows('CLI start-up and listing (medians of repeated runs)', (await benchCli()).rows);
