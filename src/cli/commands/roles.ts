/** akm roles create|list|delete */
import type { Command } from 'commander';
import { printable } from '../../core/validate.js';
import { collect, examples, type CommandContext } from '../command.js';
import { helpOrUnknown } from '../parsing.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { printChange, printList, printRemoval, rolesTable } from '../render/people.js';

export function registerRoles(program: Command, ctx: CommandContext): void {
  const roles = helpOrUnknown(program.command('roles').description('manage roles: named sets of permissions'));
  roles
    .command('create')
    .description('create a role')
    .argument('<name>', 'role name')
    .requiredOption('--permission <resource:action>', 'a permission (repeatable), e.g. keys:read, data:ingest', collect)
    .addHelpText('after', examples('akm roles create Deployer --permission deploy:run --permission keys:read'))
    .action(async (name: string, flags: { permission: string[] }, command: Command) =>
      runRolesCreate(name, flags.permission, ctx.deps(command)),
    );
  roles
    .command('list')
    .alias('ls')
    .description('list roles and their permissions')
    .addHelpText('after', examples('akm roles list'))
    .action(async (_flags: object, command: Command) => runRolesList(ctx.deps(command)));
  roles
    .command('delete')
    .alias('rm')
    .description('delete a role that nothing uses (asks first; --yes without a terminal)')
    .argument('<name>', 'role name')
    .addHelpText('after', examples('akm roles delete Deployer --yes'))
    .action(async (name: string, _flags: object, command: Command) => runRolesDelete(name, ctx.deps(command)));
}

export async function runRolesCreate(name: string, permissions: string[], deps: Deps): Promise<void> {
  const role = await (await deps.service()).createRole(name, permissions);
  printChange(deps.io, role, `created role ${printable(role.name)}`, rolesTable);
}

export async function runRolesList(deps: Deps): Promise<void> {
  printList(deps.io, await (await deps.service('read')).listRoles(), rolesTable);
}

export async function runRolesDelete(name: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  await confirmDestructive(deps, `Delete the role ${printable(name)}?`, 'not deleted');
  const role = await service.deleteRole(name);
  printRemoval(deps.io, 'deleted', role, `deleted role ${printable(role.name)}`);
}
