/**
 * argv → parsed options → service call → rendered result. Returns the exit code; bin/akm.js
 * is the only place that sets it.
 */
import { CommanderError } from 'commander';
import type { AkmService } from '../service/types.js';
import type { Deps } from './deps.js';
import { createDeps } from './deps.js';
import { colourPossible, loadChalk } from './io/style.js';
import { reportError, toAkmError } from './errors.js';
import type { Streams } from './io/io.js';
import { invocation, runnable } from './nextSteps.js';
import { buildProgram } from './program.js';
import type { GlobalOptions } from './settings.js';

export interface MainOptions {
  /** from package.json, read by bin/akm.js */
  version: string;
  streams?: Streams;
  env?: NodeJS.ProcessEnv;
}

export async function main(argv: string[], options: MainOptions): Promise<number> {
  const streams = options.streams ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const env = options.env ?? process.env;
  const opened: AkmService[] = [];
  const chalk = colourPossible(streams as never, env) ? await loadChalk() : undefined;
  let deps: Deps | undefined;
  const program = buildProgram(options.version, {
    deps(command) {
      deps ??= createDeps(command.optsWithGlobals<GlobalOptions>(), streams, env, opened, chalk);
      return deps;
    },
  });
  program.configureOutput({
    writeOut: (text) => streams.stdout.write(text),
    writeErr: (text) => streams.stderr.write(text),
    outputError: () => {},
  });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // --help and --version end parsing through an exception with exit code 0.
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    let storePath: string | undefined;
    try {
      storePath = deps?.settings.store;
    } catch {
      // settings themselves failed; report the original error
    }
    const akmError = toAkmError(error, storePath);
    const json = deps?.io.json ?? argv.includes('--json');
    // A hint's command must work as printed: with the flags that reached this store and tenant.
    const prefix = deps ? invocation(deps.global) : 'akm';
    const commands = program.commands.map((c) => c.name());
    reportError(akmError, error, streams.stderr, json, env, (hint) => runnable(hint, prefix, commands));
    return akmError.exitCode;
  } finally {
    await Promise.allSettled(opened.map((service) => service.close()));
  }
}
