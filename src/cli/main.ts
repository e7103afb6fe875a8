/**
 * argv → parsed options → service call → rendered result. Returns the exit code; bin/akm.js
 * is the only place that sets it. Everything the run touches outside the process comes from
 * the host: the real one by default, a test's own when given (test/helpers/akm.ts).
 */
import { CommanderError } from 'commander';
import { isatty } from 'node:tty';
import type { AkmService } from '../service/types.js';
import { createDeps, systemHost, type Deps, type Host } from './deps.js';
import { colourPossible, loadChalk } from './io/style.js';
import { reportError, toAkmError } from './errors.js';
import { terminalWidth } from './io/terminal.js';
import { wrappingStream } from './io/wrap.js';
import type { Streams } from './io/io.js';
import { invocation, runnable } from './nextSteps.js';
import { buildProgram } from './program.js';
import type { GlobalOptions } from './settings.js';

export interface MainOptions extends Partial<Host> {
  /** from package.json, read by bin/akm.js */
  version: string;
}

/**
 * The process's own streams. process.stdin is made on first use, and making it for a file or
 * /dev/null (cron, CI) loads Node's file streams and readline: milliseconds of every start, for
 * the few commands that read stdin. Whether it is a terminal needs no stream.
 */
function processStreams(): Streams {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin() {
      return process.stdin;
    },
    stdinIsTTY: isatty(0),
  };
}

/** Where the error report goes: wrapped to a terminal's width, except JSON and AKM_DEBUG's stacks. */
function errorStream(streams: Streams, json: boolean, env: NodeJS.ProcessEnv): NodeJS.WritableStream {
  const { stderr } = streams;
  const width = terminalWidth(stderr);
  return width === undefined || json || env.AKM_DEBUG === '1' ? stderr : wrappingStream(stderr, width);
}

export async function main(argv: string[], options: MainOptions): Promise<number> {
  const { version, ...given } = options;
  const streams = given.streams ?? processStreams();
  const system = systemHost(streams, given.env ?? process.env);
  const host: Host = {
    streams,
    env: system.env,
    now: given.now ?? system.now,
    clipboard: given.clipboard ?? system.clipboard,
    keychain: given.keychain ?? system.keychain,
    prompter: given.prompter ?? system.prompter,
  };
  const opened: AkmService[] = [];
  const chalk = colourPossible(streams, host.env) ? await loadChalk() : undefined;
  let deps: Deps | undefined;
  const program = buildProgram(
    version,
    {
      deps(command) {
        deps ??= createDeps(command.optsWithGlobals<GlobalOptions>(), host, opened, chalk);
        return deps;
      },
    },
    streams,
  );
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // --help and --version end parsing through an exception with exit code 0.
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    const akmError = toAkmError(error);
    const json = deps?.io.json ?? argv.includes('--json');
    // A hint's command must work as printed: with the flags that reached this store and tenant.
    const prefix = deps ? invocation(deps.global) : 'akm';
    const commands = program.commands.map((c) => c.name());
    reportError(akmError, error, errorStream(streams, json, host.env), json, host.env, (hint) =>
      runnable(hint, prefix, commands),
    );
    return akmError.exitCode;
  } finally {
    await Promise.allSettled(opened.map((service) => service.close()));
  }
}
