/**
 * runAkm: the whole CLI (argv parsing, settings, service, rendering, error reporting) run
 * in this process through main(), after wrangler's runWrangler. Streams are captured, and
 * the keychain, clipboard, clock and the person answering prompts are the test's own.
 * Milliseconds per run instead of a Node start-up: use it for flag parsing, prompt
 * fallbacks, JSON shapes and terminal rendering. What only a real process shows (start-up,
 * signals, pipes, the real keychain, clipboard and pty) belongs to Sandbox.run(). This
 * process keeps its own umask (bin/akm.js sets 077), so a file mode checked here is the one
 * akm asks for explicitly.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clipboard } from '../../src/cli/io/clipboard.js';
import { InquirerPrompter, type Inquirer } from '../../src/cli/io/prompter.js';
import { main } from '../../src/cli/main.js';
import { buildProgram } from '../../src/cli/program.js';
import { UnavailableError } from '../../src/core/errors.js';
import type { Keychain } from '../../src/keychain/keychain.js';
import { ROOT } from './paths.js';
import { testStreams, type TerminalShape } from './io.js';

// Output meant for a run's own streams that reaches this process's stdout is a leak (a stream
// taken from a global instead of the host): every run checks that none happened.
let leakedToStdout = 0;
const realWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = ((...args: Parameters<typeof realWrite>) => {
  leakedToStdout++;
  return realWrite(...args);
}) as typeof process.stdout.write;

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface RunAkmOptions extends TerminalShape {
  /** the whole environment of the run (nothing is inherited from this process) */
  env?: NodeJS.ProcessEnv;
  /** stdin */
  input?: string;
  /** a person at the terminal: the answers, in order (see scripted()); needs tty */
  answers?: Script;
  clipboard?: Clipboard;
  keychain?: Keychain;
  now?: () => Date;
}

/** Every command of the program, as typed ("users add"); `group` when it has subcommands. */
export function commandPaths(): Array<{ path: string; group: boolean }> {
  const program = buildProgram(VERSION, { deps: () => ({}) as never }, testStreams());
  const walk = (command: Command, prefix: string[]): Array<{ path: string; group: boolean }> => {
    const path = [...prefix, command.name()];
    return [
      { path: path.join(' '), group: command.commands.length > 0 },
      ...command.commands.flatMap((c) => walk(c, path)),
    ];
  };
  return program.commands.flatMap((c) => walk(c, []));
}

export interface AkmResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON; throws with stdout and stderr when it is not */
  json<T = any>(): T;
}

export async function runAkm(argv: string[], options: RunAkmOptions = {}): Promise<AkmResult> {
  const streams = testStreams(options);
  const answers = options.answers;
  const leaksBefore = leakedToStdout;
  const code = await main(['node', 'akm', ...argv], {
    version: VERSION,
    streams,
    env: options.env ?? {},
    clipboard: options.clipboard ?? new MemoryClipboard(),
    keychain: options.keychain ?? new MemoryKeychain(),
    ...(options.now ? { now: options.now } : {}),
    prompter: (canPrompt) =>
      new InquirerPrompter(
        canPrompt,
        { input: streams.stdin, output: streams.stderr },
        answers ? async () => answers.inquirer : () => Promise.reject(new Error('runAkm: a prompt, but no answers')),
      ),
  });
  if (leakedToStdout !== leaksBefore) throw new Error(`akm ${argv.join(' ')} wrote to the process's own stdout`);
  const stdout = streams.stdoutText();
  const stderr = streams.stderrText();
  return {
    code,
    stdout,
    stderr,
    json<T>(): T {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`);
      }
    },
  };
}

/** A clipboard that keeps what was copied; `unavailable` makes it behave like a machine without one. */
export class MemoryClipboard implements Clipboard {
  readonly copied: string[] = [];
  /** what akm asked to clear later, and after how long */
  readonly clearings: Array<{ text: string; seconds: number }> = [];
  constructor(private readonly unavailable?: string) {}

  clearLater(text: string, seconds: number): void {
    this.clearings.push({ text, seconds });
  }

  async write(text: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (this.unavailable) return { ok: false, reason: this.unavailable };
    this.copied.push(text);
    return { ok: true };
  }
}

export class MemoryKeychain implements Keychain {
  readonly entries = new Map<string, string>();
  get(account: string): string | null {
    return this.entries.get(account) ?? null;
  }
  set(account: string, secret: string): void {
    this.entries.set(account, secret);
  }
  delete(account: string): boolean {
    return this.entries.delete(account);
  }
}

/** A machine without a keychain: every use fails as the OS keychain does when it is missing. */
export const NO_KEYCHAIN: Keychain = {
  get: unavailableKeychain,
  set: unavailableKeychain,
  delete: unavailableKeychain,
};

function unavailableKeychain(): never {
  throw new UnavailableError('the OS keychain is not available (no Secret Service in this test)', {
    code: 'keychain_unavailable',
  });
}

/** Press Enter on the highlighted default. */
export const ENTER = Symbol('enter');
/** Ctrl-C at this prompt. */
export const CTRL_C = Symbol('ctrl-c');

type Answer =
  string | number | boolean | unknown[] | typeof ENTER | typeof CTRL_C | { value: unknown } | { name: RegExp };

export interface Script {
  inquirer: Inquirer;
  /** every prompt's message, in the order asked */
  asked: string[];
  /** what a validate function refused, in order */
  refused: string[];
  /** answers never asked for */
  unused(): number;
}

interface Question {
  message: string;
  default?: unknown;
  validate?: (value: string) => string | boolean | Promise<string | boolean>;
  choices?: Array<{ name?: string; value: unknown; disabled?: boolean | string }>;
}

/**
 * A person answering prompts from a script of [message pattern, answer] pairs, in order.
 * Answers go through the prompt's own validation (a refused answer is typed again from the
 * next pair), and a select or checkbox answer must be one of the offered, enabled choices.
 * A `{ value }` answer picks a select choice by value, `{ name: /pattern/ }` by what it shows.
 */
export function scripted(...answers: Array<[RegExp, Answer]>): Script {
  const queue = [...answers];
  const asked: string[] = [];
  const refused: string[] = [];
  const next = (question: Question): Answer => {
    asked.push(question.message);
    const entry = queue.shift();
    if (!entry) throw new Error(`scripted: nothing left to answer "${question.message}"`);
    const [pattern, answer] = entry;
    if (!pattern.test(question.message))
      throw new Error(`scripted: asked "${question.message}", the script expected ${pattern}`);
    if (answer === CTRL_C) throw Object.assign(new Error('User force closed the prompt'), { name: 'ExitPromptError' });
    return answer;
  };
  const offered = (question: Question, value: unknown): unknown => {
    const choice = question.choices?.find((c) => c.value === value);
    if (!choice) throw new Error(`scripted: "${String(value)}" is not offered by "${question.message}"`);
    if (choice.disabled) throw new Error(`scripted: "${String(value)}" is disabled in "${question.message}"`);
    return value;
  };
  const text = async (question: Question): Promise<string> => {
    for (;;) {
      const answer = next(question);
      const typed = answer === ENTER ? ((question.default as string | undefined) ?? '') : answer;
      if (typeof typed !== 'string') throw new Error(`scripted: "${question.message}" needs text`);
      const verdict = question.validate ? await question.validate(typed) : true;
      if (verdict === true) return typed;
      refused.push(typeof verdict === 'string' ? verdict : 'invalid');
    }
  };
  const inquirer = {
    input: text,
    password: text,
    confirm: async (question: Question) => {
      const answer = next(question);
      return answer === ENTER ? question.default === true : answer === true;
    },
    select: async (question: Question) => {
      const answer = next(question);
      if (answer === ENTER) return question.default ?? question.choices?.find((c) => !c.disabled)?.value;
      if (typeof answer === 'object' && 'name' in answer) {
        const choice = question.choices?.find((c) => c.name !== undefined && answer.name.test(c.name));
        if (!choice) throw new Error(`scripted: no choice like ${answer.name} in "${question.message}"`);
        return offered(question, choice.value);
      }
      return offered(question, typeof answer === 'object' && 'value' in answer ? answer.value : answer);
    },
    checkbox: async (question: Question) => {
      const answer = next(question);
      if (answer === ENTER) return [];
      if (!Array.isArray(answer)) throw new Error(`scripted: "${question.message}" needs a list`);
      return answer.map((value) => offered(question, value));
    },
  } as unknown as Inquirer;
  return { inquirer, asked, refused, unused: () => queue.length };
}
