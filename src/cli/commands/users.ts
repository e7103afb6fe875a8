/** akm users add|list|remove */
import type { Command } from 'commander';
import { printable } from '../../core/validate.js';
import { examples, type CommandContext } from '../command.js';
import { helpOrUnknown } from '../parsing.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { printChange, printList, printRemoval, usersTable } from '../render/people.js';

export function registerUsers(program: Command, ctx: CommandContext): void {
  const users = helpOrUnknown(program.command('users').description('manage the users of the tenant'));
  users
    .command('add')
    .description('add a user')
    .argument('<email>', 'their email address')
    .option('--name <name>', 'display name')
    .addHelpText('after', examples('akm users add alice@acme.test --name "Alice Liddell"'))
    .action(async (email: string, flags: { name?: string }, command: Command) =>
      runUsersAdd(email, flags.name ?? '', ctx.deps(command)),
    );
  users
    .command('list')
    .alias('ls')
    .description('list users, their groups and how many keys they own')
    .addHelpText('after', examples('akm users list', 'akm users list --json'))
    .action(async (_flags: object, command: Command) => runUsersList(ctx.deps(command)));
  users
    .command('remove')
    .alias('rm')
    .description('remove a user who owns no keys (asks first; --yes without a terminal)')
    .argument('<email>', 'their email address')
    .addHelpText('after', examples('akm users remove bob@acme.test --yes'))
    .action(async (email: string, _flags: object, command: Command) => runUsersRemove(email, ctx.deps(command)));
}

export async function runUsersAdd(email: string, name: string, deps: Deps): Promise<void> {
  const user = await (await deps.service()).addUser(email, name);
  printChange(deps.io, user, `added ${printable(user.email)}`, usersTable);
}

export async function runUsersList(deps: Deps): Promise<void> {
  printList(deps.io, await (await deps.service('read')).listUsers(), usersTable);
}

export async function runUsersRemove(email: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  await confirmDestructive(deps, `Remove the user ${printable(email)}?`, 'not removed');
  const user = await service.removeUser(email);
  printRemoval(deps.io, 'removed', user, `removed ${printable(user.email)}`);
}
