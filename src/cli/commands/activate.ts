/** akm activate / akm deactivate: inactive keys fail every verification until activated again. */
import type { Command } from 'commander';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyTable } from '../render/keys.js';

export function registerActivation(program: Command, ctx: CommandContext): void {
  for (const status of ['active', 'inactive'] as const) {
    const verb = status === 'active' ? 'activate' : 'deactivate';
    program
      .command(verb)
      .description(
        status === 'active' ? 'make a key usable again' : 'make a key fail verification until activated again',
      )
      .argument('<key>', 'access key id, or a unique key name')
      .addHelpText('after', examples(`akm ${verb} deploy-bot`, `akm ${verb} AKMEXAMPLE7Q2XK4ZL5PA --json`))
      .action(async (key: string, _flags: object, command: Command) => runSetStatus(key, status, ctx.deps(command)));
  }
}

export async function runSetStatus(ref: string, status: 'active' | 'inactive', deps: Deps): Promise<void> {
  const key = await (await deps.service()).setKeyStatus(ref, status);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
