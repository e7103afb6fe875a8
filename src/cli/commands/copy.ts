/** akm copy: the key string with the ENCRYPTED secret, for records and hand-over; never the secret. */
import type { Command } from 'commander';
import { UnavailableError } from '../../core/errors.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';

export interface CopyOptions {
  print?: boolean;
}

export function registerCopy(program: Command, ctx: CommandContext): void {
  program
    .command('copy')
    .description('copy the key string, with the encrypted secret in place of the secret')
    .argument('<key>', 'access key id, or a unique key name')
    .option('--print', 'print it on stdout instead of copying it')
    .addHelpText('after', examples('akm copy deploy-bot', 'akm copy deploy-bot --print'))
    .action(async (key: string, flags: CopyOptions, command: Command) => runCopy(key, flags, ctx.deps(command)));
}

export async function runCopy(ref: string, options: CopyOptions, deps: Deps): Promise<void> {
  const copy = await (await deps.service('read')).copyKey(ref);
  if (deps.io.json) return deps.io.outJson(copy);
  if (options.print) return deps.io.out(copy.keyString);
  const result = await deps.clipboard.write(copy.keyString);
  if (!result.ok)
    throw new UnavailableError(`no clipboard available (${result.reason})`, {
      hint: 'use --print to write it to stdout',
      code: 'no_clipboard',
    });
  deps.io.info(deps.io.errStyle.green('✓ key string (with the encrypted secret) copied to the clipboard'));
}
