/** akm show: one key's details, assignments and last use. */
import type { Command } from 'commander';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyDetails } from '../render/keys.js';

export function registerShow(program: Command, ctx: CommandContext): void {
  program
    .command('show')
    .description('show a key: details, assignments, effective permissions, last use')
    .argument('<key>', 'access key id, or a unique key name')
    .addHelpText('after', examples('akm show AKMEXAMPLE7Q2XK4ZL5PA', 'akm show deploy-bot --json'))
    .action(async (key: string, _flags: object, command: Command) => runShow(key, ctx.deps(command)));
}

export async function runShow(ref: string, deps: Deps): Promise<void> {
  const key = await (await deps.service('read')).showKey(ref);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.out(keyDetails(deps.io, key, deps.now()));
}
