/** akm init: a store (or one more tenant in it), its built-in groups and roles, and the first admin. */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { AkmError, UnavailableError, UsageError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import { homeFolder } from '../../config/paths.js';
import { updateProfile } from '../../config/profiles.js';
import { displayStore } from '../../core/storeUrl.js';
import { masterKeySource, type MasterKeySourceName } from '../../crypto/masterKey.js';
import { checkKeychain } from '../../keychain/keychain.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { tenantLabel } from '../io/format.js';
import { renderFields } from '../io/table.js';
import { shellQuote } from '../nextSteps.js';
import { LOCK_WAIT_NOTICE } from '../serviceFactory.js';
import { askInit } from '../wizards/init.js';

export interface InitOptions {
  tenant?: string;
  tenantName?: string;
  admin?: string;
  adminName?: string;
  makeDefault?: boolean;
}

export function registerInit(program: Command, ctx: CommandContext): void {
  program
    .command('init')
    .description('set up a store: tenant, built-in groups and roles, first administrator, master key')
    .option('--tenant <id>', 'tenant id, a short slug in every key string (asked for, or made from the name)')
    .option('--tenant-name <name>', 'display name of the tenant')
    .option('--admin <email>', 'email of the first administrator')
    .option('--admin-name <name>', 'display name of the first administrator')
    .option('--make-default', "make this store and tenant the profile's default, even if it has one")
    .addHelpText(
      'after',
      `${examples(
        'akm init                                     # asks for the tenant and the first administrator',
        'akm init --tenant acme --admin alice@acme.test',
        'akm init --tenant acme --admin alice@acme.test --master-key-file ~/.config/akm/master.key',
        'akm init --store ./staging.db --tenant acme --admin alice@acme.test --profile staging',
        'DATABASE_URL=postgres://akm@db.internal/akm akm --store-env DATABASE_URL init \\\n' +
          '      --tenant acme --admin ops@acme.test',
      )}
The first store you set up becomes your default (remembered in the profile, with its master key
file if you gave one). A later init leaves the default alone unless you pass --profile NAME or
--make-default; it prints how to reach the new store instead.
`,
    )
    .action(async (flags: InitOptions, command: Command) => runInit(flags, ctx.deps(command)));
}

export async function runInit(options: InitOptions, deps: Deps): Promise<void> {
  const { io, prompter, settings } = deps;
  if (settings.remote)
    throw new UsageError('akm init sets up a local store', {
      hint: 'on a server, run akm init there; from here use akm login <url>',
    });
  const keyPlace = () => ({ file: settings.masterKeyFile, env: deps.env, keychain: deps.keychain });
  if (masterKeySource(keyPlace()) === 'keychain') await keychainFirst(deps);
  const masterKey = keyPlace();
  // Loaded here: the only command that creates a store.
  const { existingTenants, initStore } = await import('../../service/local/bootstrap.js');
  const { cliSource } = await import('../../service/local/service.js');
  // --tenant may also come as the global option (it is the same flag name).
  const answers = await askInit(
    { tenantId: options.tenant ?? settings.tenant, tenantName: options.tenantName, adminEmail: options.admin },
    prompter,
    await existingTenants(settings.store, deps.env),
  );
  const adminName = validate.displayName(options.adminName ?? '');

  const {
    masterKey: source,
    newStore,
    firstTenant,
  } = await initStore({
    store: settings.store,
    masterKey,
    env: deps.env,
    onLockWait: io.terminal.stderrIsTTY ? () => io.info(LOCK_WAIT_NOTICE) : undefined,
    ...answers,
    adminName,
    now: deps.now(),
    source: cliSource(),
  });
  // Shown and remembered without a password: a PostgreSQL URL's comes from PGPASSWORD or ~/.pgpass.
  const store = displayStore(settings.store);
  const remembered = rememberAsDefault(options, answers.tenantId, deps);
  const akm = akmAsTyped(firstTenant, answers.tenantId, remembered, deps);
  const next = [`${akm} create --name first-key --owner ${answers.adminEmail} --expires-in 90`, `${akm} list`];
  const result = {
    tenantId: answers.tenantId,
    tenantName: answers.tenantName,
    admin: answers.adminEmail,
    store,
    masterKey: source,
    profile: remembered ? settings.profileName : null,
    next,
  };
  if (io.json) return io.outJson(result);
  io.out(
    renderFields(io, [
      ['tenant', tenantLabel(answers.tenantId, answers.tenantName)],
      ['admin', answers.adminEmail],
      ['store', store],
      [
        'master key',
        source === 'keychain' ? 'OS keychain' : source === 'file' ? settings.masterKeyFile! : 'AKM_MASTER_KEY',
      ],
    ]),
  );
  // The warning comes before "ready" so that the last lines on screen are the next steps.
  if (newStore)
    io.notice(
      masterKeyWarning(source, settings.masterKeyFile, akm, answers.tenantId, deps.env, io.errStyle.bold.yellow),
    );
  io.info(`${io.errStyle.green('✓ ready')}. Next:\n${next.map((line) => `  ${line}`).join('\n')}`);
  if (!remembered && settings.profile.store !== undefined && settings.profile.store !== store)
    io.info(
      `Your default store is still ${settings.profile.store} (profile ${settings.profileName}): this one needs ` +
        `the options above, or export AKM_STORE=${shellQuote(store)}`,
    );
}

const KEY_FILE = '~/.config/akm/master.key';

/**
 * No keychain to keep the master key in: said before any question, not after the last answer. A
 * person at a terminal is offered a key file instead (as --master-key-file); a script is told how.
 */
async function keychainFirst(deps: Deps): Promise<void> {
  try {
    checkKeychain(deps.keychain());
    return;
  } catch (error) {
    if (!(error instanceof AkmError && error.code === 'keychain_unavailable')) throw error;
    const detail = /\((.*)\)$/.exec(error.message)?.[1] ?? error.message;
    const problem = `no OS keychain can keep the master key of a new store here (${detail})`;
    if (!deps.prompter.canPrompt)
      throw new UnavailableError(problem, {
        hint:
          `keep it in a file instead: akm init --master-key-file ${KEY_FILE}, ` +
          'or set AKM_MASTER_KEY (base64 of 32 random bytes: openssl rand -base64 32)',
        code: 'keychain_unavailable',
      });
    deps.io.warn(problem);
    const file = await deps.prompter.input({
      message: 'Keep the master key in this file instead (owner-only; Ctrl-C to stop)',
      flag: '--master-key-file <file>',
      default: KEY_FILE,
      validate: (text) => text.trim() !== '' || 'a file name, e.g. ' + KEY_FILE,
    });
    deps.settings.masterKeyFile = resolve(file.trim().replace(/^~(?=\/|$)/, homeFolder(deps.env)));
    // As if given as a flag: printed next steps carry it unless the profile remembers it.
    deps.settings.origins.masterKey = 'flag --master-key-file (answered at the prompt)';
  }
}

/**
 * The first store set up becomes the profile's default; later ones only when asked (--profile
 * NAME, --make-default), so a second `init` does not silently move every later command to it.
 */
function rememberAsDefault(options: InitOptions, tenantId: string, deps: Deps): boolean {
  const { settings } = deps;
  const first = settings.profile.store === undefined;
  if (!first && settings.origins.profile === 'default' && !options.makeDefault) return false;
  updateProfile(deps.env, settings.profileName, {
    store: displayStore(settings.store),
    tenant: tenantId,
    ...(settings.masterKeyFile ? { masterKeyFile: settings.masterKeyFile } : {}),
  });
  return true;
}

/** `akm` with the options later commands will need, exactly as it must be typed. */
function akmAsTyped(firstTenant: string | undefined, tenantId: string, remembered: boolean, deps: Deps): string {
  const { settings, global } = deps;
  const flags: string[] = [];
  if (global.profile !== undefined) flags.push('--profile', shellQuote(global.profile));
  if (!remembered && settings.origins.store.startsWith('flag --store-env'))
    flags.push('--store-env', shellQuote(deps.global.storeEnv!));
  else if (!remembered && settings.origins.store.startsWith('flag'))
    flags.push('--store', shellQuote(displayStore(settings.store)));
  if (!remembered && settings.origins.masterKey.startsWith('flag'))
    flags.push('--master-key-file', shellQuote(settings.masterKeyFile!));
  // Which tenant a later command gets without a flag: the remembered one, the environment's, or the store's first.
  const later = remembered
    ? tenantId
    : (deps.env.AKM_TENANT ??
      (settings.profile.store === displayStore(settings.store) ? settings.profile.tenant : undefined));
  if ((later ?? firstTenant) !== tenantId) flags.push('--tenant', tenantId);
  return ['akm', ...flags].join(' ');
}

/**
 * Said once, when a store gets its master key: where the key is, that nothing opens the store
 * without it, and how to keep a copy.
 */
function masterKeyWarning(
  source: MasterKeySourceName,
  file: string | undefined,
  akm: string,
  tenantId: string,
  env: NodeJS.ProcessEnv,
  emphasis: (text: string) => string,
): string {
  const where = {
    keychain: 'in the OS keychain of this machine, and nowhere else',
    file: `in the file ${validate.printable(file ?? '')}, and nowhere else`,
    env: 'in AKM_MASTER_KEY: akm keeps no copy of it',
  }[source];
  const backup = join(homeFolder(env), `akm-master-key-${tenantId}.backup`);
  return [
    emphasis(`! The master key of this store is ${where}.`),
    // One line: a terminal gets it wrapped to its width, a log keeps it whole.
    '  Without it nobody can read the store, you included: lose it (a new machine, a reset keychain, ' +
      'a deleted file) and every secret in it is gone for good. Back it up now, and keep the copy offline:',
    `    ${akm} master-key export --to ${shellQuote(backup)}`,
  ].join('\n');
}
