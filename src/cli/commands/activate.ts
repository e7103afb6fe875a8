/**
 * akm activate / akm deactivate: inactive keys fail every verification until activated again.
 * `deactivate --for` is a brownout ("scream test"): the key comes back by itself when the time
 * is up, and `akm show` lists every attempt refused meanwhile, so you see what would break.
 */
import type { Command } from 'commander';
import { parseBrownout } from '../../core/brownout.js';
import { printable } from '../../core/validate.js';
import { acceptingKeys, isBulk, keysFrom, runBulk, type BulkFlags } from '../bulk.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { localDateTime, relativeTime } from '../io/dates.js';
import { keyTable } from '../render/keys.js';

type StatusFlags = BulkFlags & { for?: string };

export function registerActivation(program: Command, ctx: CommandContext): void {
  acceptingKeys(program.command('activate').description('make keys usable again (also ends a brownout early)'))
    .addHelpText(
      'after',
      examples(
        'akm activate deploy-bot',
        'akm activate AKMEXAMPLE7Q2XK4ZL5PA old-laptop --yes --json',
        'akm list --status inactive --name "ci-*" --json | akm activate --stdin --dry-run',
      ),
    )
    .action(async (keys: string[], flags: StatusFlags, command: Command) =>
      runSetStatus(keys, 'active', flags, ctx.deps(command)),
    );
  acceptingKeys(
    program
      .command('deactivate')
      .description(
        'make keys fail verification until activated again, or for a while (--for: a brownout); ' +
          'several at once: all or none',
      ),
  )
    .option('--for <duration>', 'a brownout: inactive for this long (1m to 7d), then active again by itself')
    .addHelpText(
      'after',
      `${examples(
        'akm deactivate deploy-bot',
        'akm deactivate deploy-bot --for 30m        # scream test: what breaks? (akm show deploy-bot)',
        'akm deactivate AKMEXAMPLE7Q2XK4ZL5PA old-laptop --yes --json',
        'akm list --unused-for 90 --status active --json | akm deactivate --stdin --yes',
        'akm list --name "legacy-*" --json | akm deactivate --stdin --for 1h --yes',
      )}
During a brownout every refused attempt with the right secret is recorded with its source (client
address, user agent, the service a verifier names); akm show lists them. akm activate ends it early.
A second --for on a key already browned out can only make it longer. With several keys, --for
browns out each of them (all or none: a key inactive until activated refuses the whole change).
`,
    )
    .action(async (keys: string[], flags: StatusFlags, command: Command) =>
      runSetStatus(keys, 'inactive', flags, ctx.deps(command)),
    );
}

export async function runSetStatus(
  refs: string[],
  status: 'active' | 'inactive',
  flags: StatusFlags,
  deps: Deps,
): Promise<void> {
  const verb = status === 'active' ? 'activate' : 'deactivate';
  const forMs = flags.for === undefined ? undefined : parseBrownout(flags.for);
  const keys = await keysFrom(refs, flags, deps, verb);
  if (isBulk(refs, flags)) {
    const words = { verb, done: `${verb}d`, destructive: false };
    const brownout = forMs === undefined ? {} : { forMs };
    return runBulk({ kind: status === 'active' ? 'activate' : 'deactivate', ...brownout }, keys, flags, words, deps);
  }
  const key = await (await deps.service()).setKeyStatus(keys[0]!, status, forMs === undefined ? {} : { forMs });
  if (deps.io.json) return deps.io.outJson(key);
  const until = key.inactiveUntil === null ? null : new Date(key.inactiveUntil);
  const local = until && `${localDateTime(until)} (${relativeTime(until, deps.now())})`;
  // The service names a brownout's end in ISO-8601 UTC; a person at a terminal reads it in local time.
  for (const warning of key.warnings ?? [])
    deps.io.warn(local && deps.io.terminal.stderrIsTTY ? warning.replace(key.inactiveUntil!, local) : warning);
  if (local)
    deps.io.info(
      `${key.accessKeyId} ("${printable(key.name)}") is inactive until ${local}, then active again by itself`,
    );
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
