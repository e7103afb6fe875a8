/** Child processes for the concurrency, crash and migration suites (compiled fixtures under dist/test/fixtures). */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of a compiled fixture, e.g. fixture('worker') → dist/test/fixtures/worker.js. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

export interface Child {
  process: ChildProcess;
  /** complete stdout lines received so far */
  lines: string[];
  stderr(): string;
  /** resolves with the first line (already received or future) that satisfies the predicate */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(line: string): void;
}

export function spawnNode(script: string, args: string[], options: SpawnOptions = {}): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  const lines: string[] = [];
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let partial = '';
  let errText = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.predicate(line)) waiters.splice(i, 1)[0]!.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (errText.length < 20_000) errText += chunk;
  });
  child.stdin!.on('error', () => {
    // the child may be killed while we write to it
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    process: child,
    lines,
    stderr: () => errText,
    exited,
    send: (line) => {
      if (child.stdin!.writable) child.stdin!.write(`${line}\n`);
    },
    waitForLine(predicate, timeoutMs = 30_000) {
      const seen = lines.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no matching line from child within ${timeoutMs} ms; stderr: ${errText.slice(0, 2000)}`)),
          timeoutMs,
        );
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ predicate, resolve: done });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(
            new Error(
              `child exited (code ${code}, signal ${signal}) before the expected line; stderr: ${errText.slice(0, 2000)}`,
            ),
          );
        });
      });
    },
  };
}

/** Kill with SIGKILL and wait until the process is really gone (its locks released). */
export async function killHard(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await child.exited;
}

export function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `probe` returns something truthy, and returns it; fails after `timeoutMs`.
 * Waiting on the condition itself, not a fixed time, keeps a check as strong on a slow machine.
 */
export async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The most calls in flight at one moment, from their start (t0) and end (t1) times: a race
 * test asserts it, so a slow start cannot turn the race into calls made one after another.
 */
export function mostAtOnce(calls: Array<{ t0: number; t1: number }>): number {
  const events = calls.flatMap((c) => [
    { at: c.t0, step: 1 },
    { at: c.t1, step: -1 },
  ]);
  // At equal times an end comes first: touching intervals did not overlap.
  events.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (now += e.step));
  return most;
}
