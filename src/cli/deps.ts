/**
 * The dependencies a command's run function receives: they come in, never from globals, so a
 * test can run any command in-process with its own streams, environment, clock, keychain,
 * clipboard and answers to prompts (test/helpers/akm.ts). The real ones are the defaults.
 */
import { OsKeychain, type Keychain } from '../keychain/keychain.js';
import type { AkmService } from '../service/types.js';
import { SystemClipboard, type Clipboard } from './io/clipboard.js';
import { Io, type Streams } from './io/io.js';
import { InquirerPrompter, type Prompter } from './io/prompter.js';
import type { ChalkClass } from './io/style.js';
import { detectTerminal } from './io/terminal.js';
import { openService, type Access } from './serviceFactory.js';
import { resolveSettings, type GlobalOptions, type Settings } from './settings.js';

/**
 * Everything outside the process that a run talks to. Whether the streams are terminals
 * (isTTY) and how wide (columns) is read from the streams themselves, as Node reports it.
 */
export interface Host {
  streams: Streams;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  clipboard: Clipboard;
  keychain: Keychain;
  /** the person at the terminal; `canPrompt` says whether one can answer at all */
  prompter: (canPrompt: boolean) => Prompter;
}

export function systemHost(streams: Streams, env: NodeJS.ProcessEnv): Host {
  return {
    streams,
    env,
    now: () => new Date(),
    clipboard: new SystemClipboard(),
    keychain: new OsKeychain(),
    // stdin is looked up when a prompt reads it, not before (main.ts makes it on first use).
    prompter: (canPrompt) =>
      new InquirerPrompter(canPrompt, {
        get input() {
          return streams.stdin;
        },
        output: streams.stderr,
      }),
  };
}

export interface Deps {
  io: Io;
  prompter: Prompter;
  clipboard: Clipboard;
  keychain: () => Keychain;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  settings: Settings;
  global: GlobalOptions;
  /** opened on first call (read-only when the command only reads) and closed by main() after the command */
  service: (access?: Access) => Promise<AkmService>;
}

export function createDeps(global: GlobalOptions, host: Host, opened: AkmService[], chalk?: ChalkClass): Deps {
  const { streams, env } = host;
  const terminal = detectTerminal({
    stdin: { isTTY: streams.stdinIsTTY ?? streams.stdin.isTTY },
    stdout: streams.stdout,
    stderr: streams.stderr,
    env,
    noColorFlag: global.color === false,
    noInputFlag: global.input === false,
  });
  const io = new Io(
    streams,
    terminal,
    { json: global.json === true, quiet: global.quiet === true, wide: global.wide === true },
    chalk,
  );
  let settings: Settings | undefined;
  let service: Promise<AkmService> | undefined;
  const deps: Deps = {
    io,
    prompter: host.prompter(terminal.canPrompt),
    clipboard: host.clipboard,
    keychain: () => host.keychain,
    env,
    now: host.now,
    get settings() {
      if (settings) return settings;
      settings = resolveSettings(global, env);
      if (settings.passwordInArgv)
        io.warn(
          'the password in --store can be read by anyone in the process list; ' +
            'use --store-env VAR, PGPASSWORD or ~/.pgpass',
        );
      return settings;
    },
    global,
    service: (access = 'write') =>
      (service ??= openService(deps, access).then((s) => {
        opened.push(s);
        return s;
      })),
  };
  return deps;
}
