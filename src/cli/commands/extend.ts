/** akm extend: a new expiry (also revives an expired key, keeping its id). */
import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { expiryFromFlags } from '../../core/expiry.js';
import { acceptingKeys, isBulk, keysFrom, runBulk, type BulkFlags } from '../bulk.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyTable } from '../render/keys.js';
import { NEVER_EXPIRES_WARNING } from '../wizards/expiry.js';

export interface ExtendOptions extends BulkFlags {
  days?: string;
  until?: string;
  never?: boolean;
}

export function registerExtend(program: Command, ctx: CommandContext): void {
  acceptingKeys(
    program.command('extend').description('set a new expiry: N days from now, a date, or never (revives expired keys)'),
  )
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
        'akm list --expiring-within 7 --owner bob@acme.test --json | akm extend --stdin --days 30 --yes',
      ),
    )
    .action(async (keys: string[], flags: ExtendOptions, command: Command) =>
      runExtend(keys, flags, ctx.deps(command)),
    );
}

export async function runExtend(refs: string[], options: ExtendOptions, deps: Deps): Promise<void> {
  const expiry = expiryFromFlags(
    { expiresIn: options.days, expiresOn: options.until, neverExpires: options.never },
    { in: '--days', on: '--until', never: '--never' },
  );
  if (!expiry) throw new UsageError('missing --days <n>, --until <date> or --never', { code: 'missing_flag' });
  const keys = await keysFrom(refs, options, deps, 'extend');
  if (expiry.kind === 'never') deps.io.warn(NEVER_EXPIRES_WARNING);
  if (isBulk(refs, options))
    return runBulk(
      { kind: 'extend', expiry },
      keys,
      options,
      { verb: 'extend', done: 'extended', destructive: false },
      deps,
    );
  const key = await (await deps.service()).extendKey(keys[0]!, expiry);
  for (const warning of key.warnings ?? []) deps.io.warn(warning);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
