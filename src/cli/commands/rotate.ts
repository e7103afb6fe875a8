/** akm rotate: a new secret, shown once; the old one stops now or after a grace period. */
import type { Command } from 'commander';
import { CancelledError } from '../../core/errors.js';
import { parseDuration } from '../../core/expiry.js';
import { examples, type CommandContext } from '../command.js';
import { copyKeyString } from '../io/clipboard.js';
import type { Deps } from '../deps.js';
import { printable } from '../io/format.js';
import { printIssuedKey } from '../render/keys.js';

export interface RotateOptions {
  grace?: string;
  /** undefined: copy only for a person at a terminal */
  copy?: boolean;
}

export function registerRotate(program: Command, ctx: CommandContext): void {
  program
    .command('rotate')
    .description('issue a new secret; the old one stops working now, or when --grace ends')
    .argument('<key>', 'access key id, or a unique key name')
    .option(
      '--grace <duration>',
      'keep the old secret working this long (e.g. 30m, 12h, 7d; at most 30d, never past expiry)',
    )
    .option('--copy', 'copy the key string to the clipboard even when stdout is not a terminal')
    .option('--no-copy', 'do not copy the key string to the clipboard')
    .addHelpText(
      'after',
      examples(
        'akm rotate deploy-bot                              # asks first; the old secret stops at once',
        'akm rotate deploy-bot --grace 1h --yes',
        'akm rotate AKMEXAMPLE7Q2XK4ZL5PA --grace 1h --json > new-key.json',
      ),
    )
    .action(async (key: string, flags: RotateOptions, command: Command) => runRotate(key, flags, ctx.deps(command)));
}

export async function runRotate(ref: string, options: RotateOptions, deps: Deps): Promise<void> {
  const graceMs = options.grace === undefined ? 0 : parseDuration(options.grace);
  // Without a terminal there is nobody to ask: scripts rotate on purpose. A person is asked,
  // and an old secret that stops working at once is destructive, so the default is No.
  const go =
    deps.global.yes === true ||
    (await deps.prompter.confirm({
      message:
        graceMs > 0
          ? `Issue a new secret for ${printable(ref)}? The old one keeps working for ${printable(options.grace!)}.`
          : `Issue a new secret for ${printable(ref)}? The old one stops working at once.`,
      flag: '--yes',
      default: false,
      fallback: true,
    }));
  if (!go) throw new CancelledError('not rotated');
  const issued = await (await deps.service()).rotateKey(ref, graceMs);
  printIssuedKey(deps.io, issued, deps.now());
  await copyKeyString(deps, issued.keyString, options.copy);
}
