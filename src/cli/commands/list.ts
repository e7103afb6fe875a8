/** akm list: keys page by page, so memory stays flat however many there are. */
import { Option, type Command } from 'commander';
import type { KeyFilter, KeyStatus, KeyType } from '../../service/types.js';
import { parseDays } from '../../core/expiry.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';

export interface ListOptions {
  status?: KeyStatus;
  type?: KeyType;
  owner?: string;
  expiringWithin?: string;
}

export function registerList(program: Command, ctx: CommandContext): void {
  program
    .command('list')
    .alias('ls')
    .description('list keys (never their secrets)')
    .addOption(new Option('--status <status>', 'only keys with this status').choices(['active', 'inactive', 'expired']))
    .addOption(new Option('--type <type>', 'only keys of this type').choices(['access', 'api']))
    .option('--owner <email>', 'only keys owned by this user')
    .option('--expiring-within <days>', 'only keys that expire within this many days')
    .addHelpText(
      'after',
      examples(
        'akm list',
        'akm list --status active --owner alice@acme.test',
        'akm list --expiring-within 7',
        "akm list --json | jq -r '.[].accessKeyId'",
      ),
    )
    .action(async (flags: ListOptions, command: Command) => runList(flags, ctx.deps(command)));
}

export async function runList(options: ListOptions, deps: Deps): Promise<void> {
  const filter: KeyFilter = {
    status: options.status,
    type: options.type,
    owner: options.owner,
    expiringWithinDays:
      options.expiringWithin === undefined ? undefined : parseDays(options.expiringWithin, '--expiring-within'),
  };
  const service = await deps.service('read');
  const { io } = deps;
  if (io.json) {
    // One JSON array, written a page at a time.
    let first = true;
    let after: string | undefined;
    await io.stream('[');
    do {
      const page = await service.listKeys(filter, { after });
      if (page.items.length > 0) {
        const body = page.items.map((k) => JSON.stringify(k)).join(',\n  ');
        await io.stream(`${first ? '\n  ' : ',\n  '}${body}`);
        first = false;
      }
      after = page.next;
    } while (after);
    await io.stream(first ? ']\n' : '\n]\n');
    return;
  }
  const { keyTable } = await import('../render/keys.js');
  let count = 0;
  let after: string | undefined;
  do {
    const page = await service.listKeys(filter, { after });
    if (page.items.length > 0) await io.stream(`${keyTable(io, page.items, deps.now())}\n`);
    count += page.items.length;
    after = page.next;
  } while (after);
  if (count === 0) io.info('no keys match');
}
