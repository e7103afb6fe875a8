/**
 * The real Commander program with a fake service: flags, conflicts, rendering and exit codes of
 * a command, without a store. The fake records each call; methods not given throw.
 */
import { PassThrough } from 'node:stream';
import type { Deps } from '../../src/cli/deps.js';
import { toAkmError } from '../../src/cli/errors.js';
import { UsageError } from '../../src/core/errors.js';
import { Io } from '../../src/cli/io/io.js';
import type { Prompter } from '../../src/cli/io/prompter.js';
import { detectTerminal } from '../../src/cli/io/terminal.js';
import { buildProgram } from '../../src/cli/program.js';
import type { GlobalOptions } from '../../src/cli/settings.js';
import type { AkmService } from '../../src/service/types.js';

export interface FakeRun {
  code: number;
  errorCode: string | null;
  message: string | null;
  stdout: string;
  stderr: string;
  calls: Array<[string, unknown[]]>;
}

export const FAKE_NOW = new Date('2026-05-01T12:00:00.000Z');

export async function runFake(
  args: string[],
  methods: Partial<Record<keyof AkmService, (...args: never[]) => unknown>>,
  options: { stdoutIsTTY?: boolean } = {},
): Promise<FakeRun> {
  const calls: Array<[string, unknown[]]> = [];
  const service = new Proxy(
    {},
    {
      get(_target, name: string) {
        // Awaiting the service asks for `then`: it is not a promise.
        if (name === 'then') return undefined;
        return async (...callArgs: unknown[]) => {
          calls.push([name, callArgs]);
          const method = (methods as Record<string, (...a: unknown[]) => unknown>)[name];
          if (!method) throw new Error(`the fake service has no ${name}`);
          return method(...callArgs);
        };
      },
    },
  ) as AkmService;
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const prompter: Prompter = {
    canPrompt: false,
    input: () => Promise.reject(new Error('no prompts')),
    password: () => Promise.reject(new Error('no prompts')),
    select: () => Promise.reject(new Error('no prompts')),
    checkbox: () => Promise.reject(new Error('no prompts')),
    confirm: async (q) => {
      if (q.fallback !== undefined) return q.fallback;
      throw new UsageError(`missing ${q.flag}`, { code: 'missing_flag' });
    },
  };
  const program = buildProgram(
    '0.0.0-test',
    {
      deps(command) {
        const global = command.optsWithGlobals<GlobalOptions>();
        const terminal = detectTerminal({
          stdin: {},
          stdout: { isTTY: options.stdoutIsTTY ?? false, columns: 200 },
          stderr: {},
          env: { NO_COLOR: '1' },
          noColorFlag: true,
          noInputFlag: true,
        });
        const io = new Io({ stdout: out, stderr: err, stdin: new PassThrough() }, terminal, {
          json: global.json === true,
          quiet: global.quiet === true,
        });
        return { io, prompter, global, now: () => FAKE_NOW, service: async () => service } as unknown as Deps;
      },
    },
    { stdout: out, stderr: err },
  );
  program.configureOutput({ writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t), outputError: () => {} });
  try {
    await program.parseAsync(['node', 'akm', ...args]);
    return { code: 0, errorCode: null, message: null, stdout, stderr, calls };
  } catch (error) {
    const akm = toAkmError(error);
    return { code: akm.exitCode, errorCode: akm.code, message: akm.message, stdout, stderr, calls };
  }
}
