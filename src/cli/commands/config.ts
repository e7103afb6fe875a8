/**
 * akm config show: which profile, store, tenant and master key (or credentials) akm uses, and
 * where each came from — flag, environment variable, profile or default. Opens nothing.
 */
import type { Command } from 'commander';
import { configFilePath } from '../../config/paths.js';
import { resolveCredentials } from '../../remote/credentials.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { renderTable } from '../io/table.js';
import { helpOrUnknown } from '../parsing.js';
import { displayStore } from '../../core/storeUrl.js';

export function registerConfig(program: Command, ctx: CommandContext): void {
  const config = helpOrUnknown(
    program.command('config').description('show the settings akm uses and where they come from'),
  );
  config
    .command('show')
    .description('each setting with its value and where it comes from: flag > environment > profile > default')
    .addHelpText(
      'after',
      examples('akm config show', 'AKM_STORE=/srv/akm/akm.db akm config show --json', 'akm config show --profile prod'),
    )
    .action(async (_flags: object, command: Command) => runConfigShow(ctx.deps(command)));
}

interface Shown {
  value: string | null;
  from: string;
}

/** Remote credentials: which key, from where (environment, keychain, file); reads the keychain, not the server. */
function credentials(deps: Deps): Shown {
  const { settings } = deps;
  try {
    const { accessKeyId, source } = resolveCredentials({
      url: settings.store,
      profileName: settings.profileName,
      profile: settings.profile,
      env: deps.env,
      keychain: deps.keychain,
      warn: () => {},
    });
    return { value: accessKeyId, from: source };
  } catch {
    return { value: null, from: 'none: run akm login <url>' };
  }
}

export function describeSettings(deps: Deps): Record<string, Shown> {
  const { settings } = deps;
  const { origins } = settings;
  const shown: Record<string, Shown> = {
    profile: { value: settings.profileName, from: origins.profile },
    store: { value: displayStore(settings.store), from: origins.store },
    tenant: {
      value: settings.tenant ?? null,
      from:
        settings.tenant === undefined
          ? settings.remote
            ? "default: the key's tenant"
            : "default: the store's first tenant"
          : origins.tenant,
    },
  };
  if (settings.remote) shown.credentials = credentials(deps);
  else
    shown.masterKey = {
      value: settings.masterKeyFile ?? (origins.masterKey === 'env AKM_MASTER_KEY' ? 'AKM_MASTER_KEY' : 'OS keychain'),
      from: origins.masterKey,
    };
  shown.configFile = {
    value: configFilePath(deps.env),
    from: deps.env.XDG_CONFIG_HOME ? 'env XDG_CONFIG_HOME' : 'default',
  };
  return shown;
}

export async function runConfigShow(deps: Deps): Promise<void> {
  const { io } = deps;
  const shown = describeSettings(deps);
  if (io.json) return io.outJson(shown);
  const label = (key: string) => key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
  io.out(
    renderTable(
      io,
      ['SETTING', { header: 'VALUE', shrinkTo: 20 }, 'FROM'],
      Object.entries(shown).map(([key, s]) => [label(key), s.value ?? '-', s.from]),
    ),
  );
}
