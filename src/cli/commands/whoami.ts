/** akm whoami: who the commands act as, in which tenant, against which store, with which credentials. */
import type { Command } from 'commander';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { list, printable, tenantLabel } from '../io/format.js';
import { renderFields } from '../io/table.js';
import { describeSettings } from './config.js';

export function registerWhoami(program: Command, ctx: CommandContext): void {
  program
    .command('whoami')
    .description('show who you act as, in which tenant and store, and where the credentials come from')
    .addHelpText(
      'after',
      examples(
        'akm whoami',
        'akm whoami --profile prod --json',
        'akm config show   # every setting and where it comes from',
      ),
    )
    .action(async (_flags: object, command: Command) => runWhoami(ctx.deps(command)));
}

export async function runWhoami(deps: Deps): Promise<void> {
  const identity = await (await deps.service('read')).whoami();
  const settings = describeSettings(deps);
  const credentials = settings.credentials?.from ?? 'none needed: local store (acting as the operator named at init)';
  const result = { ...identity, profile: deps.settings.profileName, credentials, settings };
  const { io } = deps;
  if (io.json) return io.outJson(result);
  const from = (key: string) => {
    const source = settings[key]!.from;
    return source === 'default' ? 'the default' : `from ${source}`;
  };
  io.out(
    renderFields(io, [
      ['acting as', `${printable(identity.actor)}${identity.admin ? ' (tenant administrator)' : ''}`],
      ['tenant', tenantLabel(identity.tenantId, identity.tenantName)],
      ['access key', identity.accessKeyId ?? '-'],
      ['permissions', list(identity.permissions)],
      ['store', `${identity.store} ${io.style.dim(`(${identity.mode}, ${from('store')})`)}`],
      ['profile', `${result.profile} ${io.style.dim(`(${from('profile')})`)}`],
      ['credentials', result.credentials],
    ]),
  );
}
