/**
 * Global options resolved against the environment and the profile, in the order of aws and gh:
 * flag, then environment variable, then profile, then default. Each value remembers where it
 * came from, so `akm config show` and `akm whoami` can say why akm uses it.
 */
import { defaultStorePath, isRemoteStore } from '../config/paths.js';
import { readProfile, type Profile } from '../config/profiles.js';
import { displayStore, storeHasPassword } from '../core/storeUrl.js';
import { UsageError } from '../core/errors.js';

export interface GlobalOptions {
  store?: string;
  /** the name of an environment variable holding the store (a URL with a password stays out of argv) */
  storeEnv?: string;
  profile?: string;
  tenant?: string;
  masterKeyFile?: string;
  as?: string;
  json?: boolean;
  yes?: boolean;
  input?: boolean;
  color?: boolean;
  quiet?: boolean;
  wide?: boolean;
}

/** Where a setting came from: "flag --store", "env AKM_STORE", "profile default" or "default". */
export type Origin = string;

export interface Settings {
  profileName: string;
  profile: Profile;
  store: string;
  remote: boolean;
  /** unset: the store's first tenant (local), or the key's own tenant (remote) */
  tenant?: string;
  /** unset: AKM_MASTER_KEY if set, else the OS keychain */
  masterKeyFile?: string;
  origins: { profile: Origin; store: Origin; tenant: Origin; masterKey: Origin };
  /** set when --store itself carries a password, which anyone can read in the process list */
  passwordInArgv: boolean;
}

type Candidate = [value: string | undefined, origin: Origin];

/** The first candidate with a value (an empty environment variable counts as unset). */
function first(candidates: Candidate[], fallback: Candidate): { value: string | undefined; origin: Origin } {
  const [value, origin] = candidates.find(([v]) => v !== undefined && v !== '') ?? fallback;
  return { value, origin };
}

export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv): Settings {
  const profile = first(
    [
      [options.profile, 'flag --profile'],
      [env.AKM_PROFILE, 'env AKM_PROFILE'],
    ],
    ['default', 'default'],
  );
  const profileName = profile.value!;
  const stored = readProfile(env, profileName);
  const fromProfile = `profile ${profileName}`;
  const store = first(
    [
      [options.store, 'flag --store'],
      storeFromVariable(options, env),
      [env.AKM_STORE, 'env AKM_STORE'],
      [stored.store, fromProfile],
    ],
    [defaultStorePath(env), 'default'],
  );
  // The profile's tenant and key file belong to the profile's store, not to one named by --store.
  // (A profile remembers a PostgreSQL URL without its password.)
  const ofStore = stored.store === undefined || stored.store === displayStore(store.value!) ? stored : {};
  const tenant = first(
    [
      [options.tenant, 'flag --tenant'],
      [env.AKM_TENANT, 'env AKM_TENANT'],
      [ofStore.tenant, fromProfile],
    ],
    [undefined, 'default'],
  );
  const masterKey = masterKeyFile(options, env, ofStore, fromProfile);
  return {
    profileName,
    profile: stored,
    store: store.value!,
    remote: isRemoteStore(store.value!),
    tenant: tenant.value,
    masterKeyFile: masterKey.file,
    origins: { profile: profile.origin, store: store.origin, tenant: tenant.origin, masterKey: masterKey.origin },
    passwordInArgv: store.origin === 'flag --store' && storeHasPassword(store.value!),
  };
}

/** --store-env VAR: the store from that variable, as a flag (it beats AKM_STORE); with --store it is ambiguous. */
function storeFromVariable(options: GlobalOptions, env: NodeJS.ProcessEnv): Candidate {
  const name = options.storeEnv;
  if (name === undefined) return [undefined, 'flag --store-env'];
  if (options.store !== undefined)
    throw new UsageError('--store and --store-env both name a store', { hint: 'pass one of them' });
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new UsageError(`--store-env needs the name of an environment variable, got "${name.slice(0, 40)}"`, {
      hint: 'e.g. --store-env DATABASE_URL',
    });
  if (!env[name])
    throw new UsageError(`--store-env ${name}: the variable ${name} is not set`, {
      hint: `export ${name}=postgres://USER@HOST:PORT/DATABASE`,
      code: 'store_env_unset',
    });
  return [env[name], `flag --store-env (env ${name})`];
}

/** The master key file, if a file is what wins; AKM_MASTER_KEY (the key itself) outranks the profile's file. */
function masterKeyFile(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv,
  stored: Profile,
  fromProfile: Origin,
): { file?: string; origin: Origin } {
  if (options.masterKeyFile) return { file: options.masterKeyFile, origin: 'flag --master-key-file' };
  if (env.AKM_MASTER_KEY_FILE) return { file: env.AKM_MASTER_KEY_FILE, origin: 'env AKM_MASTER_KEY_FILE' };
  if (env.AKM_MASTER_KEY) return { origin: 'env AKM_MASTER_KEY' };
  if (stored.masterKeyFile) return { file: stored.masterKeyFile, origin: fromProfile };
  return { origin: 'default' };
}
