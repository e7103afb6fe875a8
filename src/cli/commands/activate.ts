/** akm activate / akm deactivate: inactive keys fail every verification until activated again. */
import type { Command } from 'commander';
import { BULK_OPTIONS, isBulk, keysFrom, runBulk, type BulkFlags } from '../bulk.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyTable } from '../render/keys.js';

export function registerActivation(program: Command, ctx: CommandContext): void {
  for (const status of ['active', 'inactive'] as const) {
    const verb = status === 'active' ? 'activate' : 'deactivate';
    program
      .command(verb)
      .description(
        status === 'active'
          ? 'make keys usable again'
          : 'make keys fail verification until activated again (several at once: all or none)',
      )
      .argument('[key...]', 'access key ids, or unique key names')
      .option(...BULK_OPTIONS.stdin)
      .option(...BULK_OPTIONS.dryRun)
      .addHelpText(
        'after',
        examples(
          `akm ${verb} deploy-bot`,
          `akm ${verb} AKMEXAMPLE7Q2XK4ZL5PA old-laptop --yes --json`,
          status === 'active'
            ? 'akm list --status inactive --name "ci-*" --json | akm activate --stdin --dry-run'
            : 'akm list --unused-for 90 --status active --json | akm deactivate --stdin --yes',
        ),
      )
      .action(async (keys: string[], flags: BulkFlags, command: Command) =>
        runSetStatus(keys, status, flags, ctx.deps(command)),
      );
  }
}

export async function runSetStatus(
  refs: string[],
  status: 'active' | 'inactive',
  flags: BulkFlags,
  deps: Deps,
): Promise<void> {
  const verb = status === 'active' ? 'activate' : 'deactivate';
  const keys = await keysFrom(refs, flags, deps, verb);
  if (isBulk(refs, flags)) {
    const words = { verb, done: `${verb}d`, destructive: false };
    return runBulk({ kind: status === 'active' ? 'activate' : 'deactivate' }, keys, flags, words, deps);
  }
  const key = await (await deps.service()).setKeyStatus(keys[0]!, status);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
