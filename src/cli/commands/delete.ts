/** akm delete: removes keys for good (asks first; --yes without a terminal). */
import type { Command } from 'commander';
import { printable } from '../../core/validate.js';
import { acceptingKeys, isBulk, keysFrom, runBulk, type BulkFlags } from '../bulk.js';
import { examples, type CommandContext } from '../command.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';

export function registerDelete(program: Command, ctx: CommandContext): void {
  acceptingKeys(
    program
      .command('delete')
      .alias('rm')
      .description('delete keys for good (asks first; pass --yes without a terminal)'),
  )
    .addHelpText(
      'after',
      examples(
        'akm delete old-laptop',
        'akm delete AKMEXAMPLE7Q2XK4ZL5PA --yes --json',
        'akm list --status expired --json | akm delete --stdin --dry-run',
      ),
    )
    .action(async (keys: string[], flags: BulkFlags, command: Command) => runDelete(keys, flags, ctx.deps(command)));
}

export async function runDelete(refs: string[], flags: BulkFlags, deps: Deps): Promise<void> {
  const keys = await keysFrom(refs, flags, deps, 'delete');
  if (isBulk(refs, flags))
    return runBulk({ kind: 'delete' }, keys, flags, { verb: 'delete', done: 'deleted', destructive: true }, deps);
  const service = await deps.service();
  // Show what is about to go, by its id and name, before asking.
  const key = await service.showKey(keys[0]!);
  await confirmDestructive(
    deps,
    `Delete ${key.accessKeyId} ("${printable(key.name)}")${key.owner ? ` owned by ${key.owner}` : ''}? ` +
      'This cannot be undone.',
    'not deleted',
  );
  const deleted = await service.deleteKey(key.accessKeyId);
  if (deps.io.json) return deps.io.outJson({ deleted: true, ...deleted });
  deps.io.info(`deleted ${deleted.accessKeyId} ("${printable(deleted.name)}")`);
}
