/**
 * Global options resolved against the environment and the profile, in the order a user
 * expects: flag, then environment variable, then profile, then default.
 */
import { defaultStorePath, isRemoteStore } from '../config/paths.js';
import { readProfile, type Profile } from '../config/profiles.js';
import { storeHasPassword } from '../config/storeUrl.js';
import { UsageError } from '../core/errors.js';

export interface GlobalOptions {
  store?: string;
  /** the name of an environment variable holding the store (a URL with a password stays out of argv) */
  storeEnv?: string;
  profile?: string;
  tenant?: string;
  masterKeyFile?: string;
  json?: boolean;
  yes?: boolean;
  input?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export interface Settings {
  profileName: string;
  profile: Profile;
  store: string;
  remote: boolean;
  tenant?: string;
  masterKeyFile?: string;
  /** set when --store itself carries a password, which anyone can read in the process list */
  passwordInArgv: boolean;
}

/**
 * --store-env VAR: the store from that variable. It beats AKM_STORE (a flag beats the
 * environment); --store with it is ambiguous.
 */
function storeFromVariable(options: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  const name = options.storeEnv;
  if (name === undefined) return undefined;
  if (options.store !== undefined && options.store !== env.AKM_STORE)
    throw new UsageError('--store and --store-env both name a store', { hint: 'pass one of them' });
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new UsageError(`--store-env needs the name of an environment variable, got "${name.slice(0, 40)}"`, {
      hint: 'e.g. --store-env DATABASE_URL',
    });
  const value = env[name];
  if (!value)
    throw new UsageError(`--store-env ${name}: the variable ${name} is not set`, {
      hint: `export ${name}=postgres://USER@HOST:PORT/DATABASE`,
      code: 'store_env_unset',
    });
  return value;
}

export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv): Settings {
  const profileName = options.profile ?? env.AKM_PROFILE ?? 'default';
  const profile = readProfile(env, profileName);
  const fromVariable = storeFromVariable(options, env);
  const store = fromVariable ?? options.store ?? env.AKM_STORE ?? profile.store ?? defaultStorePath(env);
  return {
    profileName,
    profile,
    store,
    passwordInArgv:
      fromVariable === undefined &&
      options.store !== undefined &&
      options.store !== env.AKM_STORE &&
      storeHasPassword(store),
    remote: isRemoteStore(store),
    tenant: options.tenant ?? env.AKM_TENANT ?? profile.tenant,
    masterKeyFile: options.masterKeyFile ?? env.AKM_MASTER_KEY_FILE ?? profile.masterKeyFile,
  };
}
