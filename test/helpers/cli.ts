/**
 * End-to-end runs of the real binary (bin/akm.js) with a temp HOME, CI=1 and NO_COLOR=1,
 * as DESIGN.md asks: what a script or pipeline would see.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'bin', 'akm.js');

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

/** A sandbox: its own HOME/XDG folders and master key, so runs never touch the real user's. */
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

  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runNode([BIN, ...args], { ...options, env: this.env(options.env) });
  }

  /** run and parse stdout as JSON (adds --json) */
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

  async init(): Promise<this> {
    const result = await this.run(['init', '--tenant', 'acme', '--admin', 'admin@acme.test']);
    if (result.code !== 0) throw new Error(`init failed: ${result.stderr}`);
    return this;
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}
