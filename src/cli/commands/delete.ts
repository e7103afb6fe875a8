/** akm delete: removes a key for good (asks first; --yes without a terminal). */
import type { Command } from 'commander';
import { printable } from '../../core/validate.js';
import { examples, type CommandContext } from '../command.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';

export function registerDelete(program: Command, ctx: CommandContext): void {
  program
    .command('delete')
    .alias('rm')
    .description('delete a key for good (asks first; pass --yes without a terminal)')
    .argument('<key>', 'access key id, or a unique key name')
    .addHelpText('after', examples('akm delete old-laptop', 'akm delete AKMEXAMPLE7Q2XK4ZL5PA --yes --json'))
    .action(async (key: string, _flags: object, command: Command) => runDelete(key, ctx.deps(command)));
}

export async function runDelete(ref: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  // Show what is about to go, by its id and name, before asking.
  const key = await service.showKey(ref);
  await confirmDestructive(
    deps,
    `Delete ${key.accessKeyId} ("${printable(key.name)}")${key.owner ? ` owned by ${key.owner}` : ''}? This cannot be undone.`,
    'not deleted',
  );
  const deleted = await service.deleteKey(key.accessKeyId);
  if (deps.io.json) return deps.io.outJson({ deleted: true, ...deleted });
  deps.io.info(`deleted ${deleted.accessKeyId} ("${printable(deleted.name)}")`);
}
