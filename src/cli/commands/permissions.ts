/** akm permissions: each effective permission of a key with the role (and group) it comes from. */
import type { Command } from 'commander';
import { printable } from '../../core/validate.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { renderTable } from '../io/table.js';

export function registerPermissions(program: Command, ctx: CommandContext): void {
  program
    .command('permissions')
    .description("a key's effective permissions, each with the role or group it comes from")
    .argument('<key>', 'access key id, or a unique key name')
    .addHelpText('after', examples('akm permissions deploy-bot', 'akm permissions deploy-bot --json'))
    .action(async (key: string, _flags: object, command: Command) => runPermissions(key, ctx.deps(command)));
}

export async function runPermissions(ref: string, deps: Deps): Promise<void> {
  const result = await (await deps.service('read')).keyPermissions(ref);
  const { io } = deps;
  if (io.json) return io.outJson(result);
  if (result.permissions.length === 0) {
    io.info(
      `${result.accessKeyId} has no permissions; assign a role with: akm assign ${result.accessKeyId} --role <role>`,
    );
    return;
  }
  io.out(
    renderTable(
      io,
      ['PERMISSION', 'ROLE', 'VIA'],
      result.permissions.map((p) => [
        p.permission,
        printable(p.role),
        p.viaGroup === null ? io.style.dim('direct') : `group ${printable(p.viaGroup)}`,
      ]),
    ),
  );
}
