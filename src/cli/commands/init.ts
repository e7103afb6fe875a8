/** akm init: a store (or one more tenant in it), its built-in groups and roles, and the first admin. */
import type { Command } from 'commander';
import { randomString, BASE32 } from '../../core/base.js';
import { UsageError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import { updateProfile } from '../../config/profiles.js';
import { displayStore } from '../../config/storeUrl.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { renderFields } from '../io/table.js';

export interface InitOptions {
  tenant?: string;
  tenantName?: string;
  admin?: string;
  adminName?: string;
}

export function registerInit(program: Command, ctx: CommandContext): void {
  program
    .command('init')
    .description('set up a store: tenant, built-in groups and roles, first administrator, master key')
    .option('--tenant <id>', 'tenant id, a short slug (generated when omitted)')
    .option('--tenant-name <name>', 'display name of the tenant')
    .option('--admin <email>', 'email of the first administrator')
    .option('--admin-name <name>', 'display name of the first administrator')
    .addHelpText(
      'after',
      examples(
        'akm init --tenant acme --admin alice@acme.test',
        'akm init --tenant acme --admin alice@acme.test --master-key-file ~/.config/akm/master.key',
        'AKM_STORE=/srv/akm/akm.db akm init --tenant acme --tenant-name "Acme Inc" --admin ops@acme.test',
        'AKM_STORE=postgres://akm@db.internal:5432/akm PGPASSWORD=… akm init --tenant acme --admin ops@acme.test',
      ),
    )
    .action(async (flags: InitOptions, command: Command) => runInit(flags, ctx.deps(command)));
}

function generatedTenantId(): string {
  return `t-${randomString(BASE32, 8).toLowerCase()}`;
}

export async function runInit(options: InitOptions, deps: Deps): Promise<void> {
  const { io, prompter, settings } = deps;
  if (settings.remote)
    throw new UsageError('akm init sets up a local store', {
      hint: 'on a server, run akm init there; from here use akm login <url>',
    });
  // --tenant may also come as the global option (it is the same flag name).
  const tenantId = validate.tenantId(options.tenant ?? settings.tenant ?? generatedTenantId());
  const adminEmail = validate.email(
    options.admin ??
      (await prompter.input({
        message: 'Email of the first administrator',
        flag: '--admin <email>',
        validate: (v) => {
          try {
            validate.email(v);
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
      })),
  );
  const tenantName = validate.displayName(options.tenantName ?? tenantId);
  const adminName = validate.displayName(options.adminName ?? '');

  // Loaded here: the only command that creates a store.
  const { initStore } = await import('../../service/local/bootstrap.js');
  const { cliSource } = await import('../../service/local/service.js');
  const { masterKey: source } = await initStore({
    store: settings.store,
    masterKey: { file: settings.masterKeyFile, env: deps.env, keychain: deps.keychain },
    env: deps.env,
    tenantId,
    tenantName,
    adminEmail,
    adminName,
    now: deps.now(),
    source: cliSource(),
  });
  // Remember where this store and its master key file are, so later commands need no flags.
  // Never a password: a PostgreSQL URL is remembered without it (PGPASSWORD or ~/.pgpass supply it).
  const store = displayStore(settings.store);
  if (!deps.global.store && !deps.global.storeEnv && !deps.env.AKM_STORE)
    updateProfile(deps.env, settings.profileName, { store });
  if (settings.masterKeyFile)
    updateProfile(deps.env, settings.profileName, { masterKeyFile: settings.masterKeyFile, store });
  const result = { tenantId, tenantName, admin: adminEmail, store, masterKey: source };
  if (io.json) return io.outJson(result);
  io.out(
    renderFields(io, [
      ['tenant', `${tenantId} (${validate.printable(tenantName)})`],
      ['admin', adminEmail],
      ['store', store],
      [
        'master key',
        source === 'keychain' ? 'OS keychain' : source === 'file' ? settings.masterKeyFile! : 'AKM_MASTER_KEY',
      ],
    ]),
  );
  io.info(io.errStyle.green('✓ ready') + ` — next: akm create --name <name> --expires-in 90 --owner ${adminEmail}`);
}
