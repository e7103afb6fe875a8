/**
 * The dependencies a command's run function receives (DESIGN: deps come in, not from
 * globals). Tests build their own; the real ones are made here from the global options.
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

export function createDeps(
  global: GlobalOptions,
  streams: Streams,
  env: NodeJS.ProcessEnv,
  opened: AkmService[],
  chalk?: ChalkClass,
): Deps {
  const terminal = detectTerminal({
    stdin: streams.stdin,
    stdout: streams.stdout as { isTTY?: boolean; columns?: number },
    stderr: streams.stderr as { isTTY?: boolean },
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
  let keychain: Keychain | undefined;
  let service: Promise<AkmService> | undefined;
  const deps: Deps = {
    io,
    prompter: new InquirerPrompter(terminal.canPrompt, { input: streams.stdin, output: streams.stderr }),
    clipboard: new SystemClipboard(),
    keychain: () => (keychain ??= new OsKeychain()),
    env,
    now: () => new Date(),
    get settings() {
      return (settings ??= resolveSettings(global, env));
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
