/**
 * akm activate / akm deactivate: inactive keys fail every verification until activated again.
 * `deactivate --for` is a brownout ("scream test"): the key comes back by itself when the time
 * is up, and `akm show` lists every attempt refused meanwhile, so you see what would break.
 */
import type { Command } from 'commander';
import { parseBrownout } from '../../core/brownout.js';
import { printable } from '../../core/validate.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { localDateTime, relativeTime } from '../io/dates.js';
import { keyTable } from '../render/keys.js';

export function registerActivation(program: Command, ctx: CommandContext): void {
  program
    .command('activate')
    .description('make a key usable again (also ends a brownout early)')
    .argument('<key>', 'access key id, or a unique key name')
    .addHelpText('after', examples('akm activate deploy-bot', 'akm activate AKMEXAMPLE7Q2XK4ZL5PA --json'))
    .action(async (key: string, _flags: object, command: Command) =>
      runSetStatus(key, 'active', {}, ctx.deps(command)),
    );
  program
    .command('deactivate')
    .description('make a key fail verification until activated again, or for a while (--for: a brownout)')
    .argument('<key>', 'access key id, or a unique key name')
    .option('--for <duration>', 'a brownout: inactive for this long (1m to 7d), then active again by itself')
    .addHelpText(
      'after',
      `${examples(
        'akm deactivate deploy-bot',
        'akm deactivate deploy-bot --for 30m        # scream test: what breaks? (akm show deploy-bot)',
        'akm deactivate AKMEXAMPLE7Q2XK4ZL5PA --json',
      )}
During a brownout every refused attempt with the right secret is recorded with its source (client
address, user agent, the service a verifier names); akm show lists them. akm activate ends it early.
A second --for on a key already browned out can only make it longer.
`,
    )
    .action(async (key: string, flags: { for?: string }, command: Command) =>
      runSetStatus(key, 'inactive', flags, ctx.deps(command)),
    );
}

export async function runSetStatus(
  ref: string,
  status: 'active' | 'inactive',
  flags: { for?: string },
  deps: Deps,
): Promise<void> {
  const forMs = flags.for === undefined ? undefined : parseBrownout(flags.for);
  const key = await (await deps.service()).setKeyStatus(ref, status, forMs === undefined ? {} : { forMs });
  if (deps.io.json) return deps.io.outJson(key);
  if (key.inactiveUntil !== null) {
    const until = new Date(key.inactiveUntil);
    deps.io.info(
      `${key.accessKeyId} ("${printable(key.name)}") is inactive until ${localDateTime(until)} ` +
        `(${relativeTime(until, deps.now())}), then active again by itself`,
    );
  }
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
