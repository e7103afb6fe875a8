/** akm edit: rename a key or change its description (names keep their uniqueness rules). */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import type { KeyEdit } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { keyTable } from '../render/keys.js';

export interface EditOptions {
  name?: string;
  description?: string;
}

export function registerEdit(program: Command, ctx: CommandContext): void {
  program
    .command('edit')
    .description('rename a key or change its description (for people: neither can authenticate anything)')
    .argument('<key>', 'access key id, or a unique key name')
    .option('--name <name>', "the new name (unique among the owner's keys)")
    .option('--description <text>', 'what the key is for, up to 500 characters ("" clears it)')
    .addHelpText(
      'after',
      examples(
        'akm edit deploy-bot --name deploy-bot-eu',
        'akm edit AKMEXAMPLE7Q2XK4ZL5PA --description "nightly backup to s3://acme-backups"',
        'akm edit old-laptop --description ""',
      ),
    )
    .action(async (key: string, flags: EditOptions, command: Command) => runEdit(key, flags, ctx.deps(command)));
}

export async function runEdit(ref: string, options: EditOptions, deps: Deps): Promise<void> {
  const edit: KeyEdit = {};
  // Checked here too, so a mistake is reported before the store is opened.
  if (options.name !== undefined) edit.name = validate.entityName(options.name, 'key name');
  if (options.description !== undefined) edit.description = validate.description(options.description);
  if (edit.name === undefined && edit.description === undefined)
    throw new UsageError('nothing to edit', { hint: 'pass --name or --description', code: 'missing_flag' });
  const key = await (await deps.service()).editKey(ref, edit);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.out(keyTable(deps.io, [key], deps.now(), ['accessKeyId', 'name', 'description', 'status', 'owner']));
}
