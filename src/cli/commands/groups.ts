/** akm groups create|list|delete|add-member|remove-member|add-role|remove-role */
import type { Command } from 'commander';
import { printable } from '../../core/validate.js';
import type { AkmService, Group } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import { helpOrUnknown } from '../parsing.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { groupsTable, printChange, printList, printRemoval } from '../render/people.js';

type GroupChange = (service: AkmService, group: string, other: string) => Promise<Group>;

const PAIR_COMMANDS: Array<{
  verb: string;
  other: string;
  description: string;
  change: GroupChange;
  done: string;
  example: string;
}> = [
  {
    verb: 'add-member',
    other: '<email>',
    description: 'add a user to a group',
    change: (s, g, o) => s.addGroupMember(g, o),
    done: 'added',
    example: 'akm groups add-member Administrators bob@acme.test',
  },
  {
    verb: 'remove-member',
    other: '<email>',
    description: 'remove a user from a group',
    change: (s, g, o) => s.removeGroupMember(g, o),
    done: 'removed',
    example: 'akm groups remove-member Deployers bob@acme.test',
  },
  {
    verb: 'add-role',
    other: '<role>',
    description: 'give a group a role',
    change: (s, g, o) => s.addGroupRole(g, o),
    done: 'added',
    example: 'akm groups add-role Deployers KeyManager',
  },
  {
    verb: 'remove-role',
    other: '<role>',
    description: 'take a role from a group',
    change: (s, g, o) => s.removeGroupRole(g, o),
    done: 'removed',
    example: 'akm groups remove-role Deployers KeyManager',
  },
];

export function registerGroups(program: Command, ctx: CommandContext): void {
  const groups = helpOrUnknown(program.command('groups').description('manage groups: sets of users that carry roles'));
  groups
    .command('create')
    .description('create a group')
    .argument('<name>', 'group name')
    .addHelpText('after', examples('akm groups create Deployers'))
    .action(async (name: string, _flags: object, command: Command) => runGroupsCreate(name, ctx.deps(command)));
  groups
    .command('list')
    .alias('ls')
    .description('list groups with their roles and members')
    .addHelpText('after', examples('akm groups list', 'akm groups list --json'))
    .action(async (_flags: object, command: Command) => runGroupsList(ctx.deps(command)));
  groups
    .command('delete')
    .alias('rm')
    .description('delete a group no key uses (asks first; --yes without a terminal)')
    .argument('<name>', 'group name')
    .addHelpText('after', examples('akm groups delete Deployers --yes'))
    .action(async (name: string, _flags: object, command: Command) => runGroupsDelete(name, ctx.deps(command)));
  for (const pair of PAIR_COMMANDS) {
    groups
      .command(pair.verb)
      .description(pair.description)
      .argument('<group>', 'group name')
      .argument(pair.other)
      .addHelpText('after', examples(pair.example))
      .action(async (group: string, other: string, _flags: object, command: Command) =>
        runGroupChange(pair, group, other, ctx.deps(command)),
      );
  }
}

export async function runGroupsCreate(name: string, deps: Deps): Promise<void> {
  const group = await (await deps.service()).createGroup(name);
  printChange(deps.io, group, `created group ${printable(group.name)}`, groupsTable);
}

export async function runGroupsList(deps: Deps): Promise<void> {
  printList(deps.io, await (await deps.service('read')).listGroups(), groupsTable);
}

export async function runGroupsDelete(name: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  await confirmDestructive(deps, `Delete the group ${printable(name)}?`, 'not deleted');
  const group = await service.deleteGroup(name);
  printRemoval(deps.io, 'deleted', group, `deleted group ${printable(group.name)}`);
}

async function runGroupChange(
  pair: (typeof PAIR_COMMANDS)[number],
  group: string,
  other: string,
  deps: Deps,
): Promise<void> {
  const updated = await pair.change(await deps.service(), group, other);
  printChange(deps.io, updated, `${pair.done} ${printable(other)} (${printable(updated.name)})`, groupsTable);
}
