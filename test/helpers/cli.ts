/**
 * A sandbox for CLI tests: its own HOME, XDG folders and master key, with CI=1 and NO_COLOR=1
 * (what a script or pipeline sees). `akm()` runs the CLI in this process (test/helpers/akm.ts,
 * the default for new tests); `run()` spawns the real binary, for what only a process shows.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAkm, type AkmResult, type RunAkmOptions } from './akm.js';
import { BIN } from './paths.js';

export { BIN, ROOT } from './paths.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}

export function runNode(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {}); // the child may exit before reading
    child.stdin.end(options.input ?? '');
  });
}

export class Sandbox {
  readonly home: string;
  readonly masterKey = randomBytes(32).toString('base64');
  constructor(prefix = 'akm-e2e-') {
    this.home = mkdtempSync(join(tmpdir(), prefix));
  }

  get storePath(): string {
    return join(this.home, '.local', 'share', 'akm', 'akm.db');
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_DATA_HOME: join(this.home, '.local', 'share'),
      XDG_CONFIG_HOME: join(this.home, '.config'),
      CI: '1',
      NO_COLOR: '1',
      AKM_MASTER_KEY: this.masterKey,
      LANG: 'C.UTF-8',
    };
    const merged = { ...base, ...extra };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    return merged;
  }

  /** In-process: `env` is merged over the sandbox's (a key set to undefined is removed). */
  akm(args: string[], options: RunAkmOptions = {}): Promise<AkmResult> {
    return runAkm(args, { ...options, env: this.env(options.env) });
  }

  /** In-process with --json: the parsed stdout as `value`. */
  async akmJson<T = any>(args: string[], options: RunAkmOptions = {}): Promise<AkmResult & { value: T }> {
    const result = await this.akm([...args, '--json'], options);
    return { ...result, value: result.json<T>() };
  }

  /** The real binary in a child process. */
  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runNode([BIN, ...args], { ...options, env: this.env(options.env) });
  }

  /** the real binary with --json: the parsed stdout as `value` */
  async json<T = any>(args: string[], options: RunOptions = {}): Promise<{ code: number; value: T; stderr: string }> {
    const result = await this.run([...args, '--json'], options);
    let value: T;
    try {
      value = JSON.parse(result.stdout) as T;
    } catch {
      throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
    }
    return { code: result.code, value, stderr: result.stderr };
  }

  /** tenant acme with admin@acme.test, made in-process */
  async init(): Promise<this> {
    const result = await this.akm(['init', '--tenant', 'acme', '--admin', 'admin@acme.test']);
    if (result.code !== 0) throw new Error(`init failed: ${result.stderr}`);
    return this;
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}
