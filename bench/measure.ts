/** Timing whole commands: repeated runs, medians, peak RSS through the preloaded hook. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RSS_HOOK = fileURLToPath(new URL('./rssHook.js', import.meta.url));

export interface RunStats {
  medianMs: number;
  minMs: number;
  runs: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function runOnce(
  args: string[],
  env: NodeJS.ProcessEnv,
  withRss = false,
): { ms: number; rssKb?: number; stdoutBytes: number } {
  const rssFile = join(tmpdir(), `akm-rss-${process.pid}-${Date.now()}`);
  const nodeArgs = withRss ? ['--import', RSS_HOOK, ...args] : args;
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, nodeArgs, {
    env: withRss ? { ...env, AKM_BENCH_RSS_FILE: rssFile } : env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stderr.toString()}`);
  let rssKb: number | undefined;
  if (withRss) {
    rssKb = Number(readFileSync(rssFile, 'utf8'));
    rmSync(rssFile, { force: true });
  }
  return { ms, rssKb, stdoutBytes: result.stdout.length };
}

/** Two variants run alternately, so a change in the machine's load touches both alike. */
export function timeInterleaved(
  a: { args: string[]; env: NodeJS.ProcessEnv },
  b: { args: string[]; env: NodeJS.ProcessEnv },
  runs: number,
): [RunStats, RunStats] {
  runOnce(a.args, a.env);
  runOnce(b.args, b.env);
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    times[0].push(runOnce(a.args, a.env).ms);
    times[1].push(runOnce(b.args, b.env).ms);
  }
  return times.map((t) => ({ medianMs: median(t), minMs: Math.min(...t), runs })) as [RunStats, RunStats];
}

export function timeRuns(args: string[], env: NodeJS.ProcessEnv, runs: number): RunStats {
  runOnce(args, env); // warm the page cache
  const times = Array.from({ length: runs }, () => runOnce(args, env).ms);
  return { medianMs: median(times), minMs: Math.min(...times), runs };
}
