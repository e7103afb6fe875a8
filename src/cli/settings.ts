/**
 * Global options resolved against the environment and the profile, in the order a user
 * expects: flag, then environment variable, then profile, then default.
 */
import { defaultStorePath, isRemoteStore } from '../config/paths.js';
import { readProfile, type Profile } from '../config/profiles.js';

export interface GlobalOptions {
  store?: string;
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
}

export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv): Settings {
  const profileName = options.profile ?? env.AKM_PROFILE ?? 'default';
  const profile = readProfile(env, profileName);
  const store = options.store ?? env.AKM_STORE ?? profile.store ?? defaultStorePath(env);
  return {
    profileName,
    profile,
    store,
    remote: isRemoteStore(store),
    tenant: options.tenant ?? env.AKM_TENANT ?? profile.tenant,
    masterKeyFile: options.masterKeyFile ?? env.AKM_MASTER_KEY_FILE ?? profile.masterKeyFile,
  };
}
