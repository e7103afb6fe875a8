/** akm extend: a new expiry (also revives an expired key, keeping its id). */
import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { expiryFromFlags } from '../../core/expiry.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyTable } from '../render/keys.js';
import { NEVER_EXPIRES_WARNING } from '../wizards/expiry.js';

export interface ExtendOptions {
  days?: string;
  until?: string;
  never?: boolean;
}

export function registerExtend(program: Command, ctx: CommandContext): void {
  program
    .command('extend')
    .description('set a new expiry: N days from now, a date, or never (revives expired keys)')
    .argument('<key>', 'access key id, or a unique key name')
    .addOption(new Option('--days <n>', 'expire N days from now (1-3650)').conflicts(['until', 'never']))
    .addOption(
      new Option('--until <date>', 'expire at the end of this date, or at an ISO timestamp').conflicts('never'),
    )
    .option('--never', 'never expire (not recommended; administrators only)')
    .addHelpText(
      'after',
      examples(
        'akm extend deploy-bot --days 90',
        'akm extend AKMEXAMPLE7Q2XK4ZL5PA --until 2027-12-31',
        'akm extend old-key --never',
      ),
    )
    .action(async (key: string, flags: ExtendOptions, command: Command) => runExtend(key, flags, ctx.deps(command)));
}

export async function runExtend(ref: string, options: ExtendOptions, deps: Deps): Promise<void> {
  const expiry = expiryFromFlags(
    { expiresIn: options.days, expiresOn: options.until, neverExpires: options.never },
    { in: '--days', on: '--until', never: '--never' },
  );
  if (!expiry) throw new UsageError('missing --days <n>, --until <date> or --never', { code: 'missing_flag' });
  if (expiry.kind === 'never') deps.io.warn(NEVER_EXPIRES_WARNING);
  const key = await (await deps.service()).extendKey(ref, expiry);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
