/** akm assign: add or remove a key's groups and roles. */
import type { Command } from 'commander';
import { collect, examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyDetails } from '../render/keys.js';

export interface AssignOptions {
  group?: string[];
  role?: string[];
  removeGroup?: string[];
  removeRole?: string[];
}

export function registerAssign(program: Command, ctx: CommandContext): void {
  program
    .command('assign')
    .description("change a key's groups and roles (the people concerned are notified)")
    .argument('<key>', 'access key id, or a unique key name')
    .option('--group <name>', 'add a group (repeatable)', collect)
    .option('--role <name>', 'add a role (repeatable)', collect)
    .option('--remove-group <name>', 'remove a group (repeatable)', collect)
    .option('--remove-role <name>', 'remove a role (repeatable)', collect)
    .addHelpText(
      'after',
      examples(
        'akm assign deploy-bot --role KeyManager',
        'akm assign deploy-bot --group Deployers --remove-role ReadOnly',
      ),
    )
    .action(async (key: string, flags: AssignOptions, command: Command) => runAssign(key, flags, ctx.deps(command)));
}

export async function runAssign(ref: string, options: AssignOptions, deps: Deps): Promise<void> {
  const service = await deps.service();
  const updated = await service.assignKey(ref, {
    addGroups: options.group ?? [],
    addRoles: options.role ?? [],
    removeGroups: options.removeGroup ?? [],
    removeRoles: options.removeRole ?? [],
  });
  if (deps.io.json) return deps.io.outJson(updated);
  const details = await service.showKey(updated.accessKeyId);
  deps.io.out(keyDetails(deps.io, details, deps.now()));
}
