/**
 * Profiles: named settings in $XDG_CONFIG_HOME/akm/config.json — which store (a file or a
 * server URL) and, for a local store, where its master key lives. No secret is ever written
 * here; credentials go to the OS keychain.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnavailableError } from '../core/errors.js';
import { configFilePath } from './paths.js';

export interface Profile {
  store?: string;
  masterKeyFile?: string;
  tenant?: string;
  /** remote mode with --insecure-storage: where the plaintext credentials file is */
  credentialsFile?: string;
}

export interface ConfigFile {
  profiles: Record<string, Profile>;
}

export function readConfig(env: NodeJS.ProcessEnv): ConfigFile {
  const path = configFilePath(env);
  if (!existsSync(path)) return { profiles: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConfigFile>;
    return { profiles: parsed.profiles && typeof parsed.profiles === 'object' ? parsed.profiles : {} };
  } catch {
    throw new UnavailableError(`cannot read ${path}: not valid JSON`, {
      hint: 'fix or remove the file',
      code: 'config_invalid',
    });
  }
}

export function readProfile(env: NodeJS.ProcessEnv, name: string): Profile {
  return readConfig(env).profiles[name] ?? {};
}

/** Merge settings into a profile; written atomically (temp file + rename), owner-only. */
export function updateProfile(env: NodeJS.ProcessEnv, name: string, patch: Partial<Profile>): void {
  const path = configFilePath(env);
  const config = readConfig(env);
  const merged: Profile = { ...config.profiles[name], ...patch };
  for (const key of Object.keys(merged) as Array<keyof Profile>) if (merged[key] === undefined) delete merged[key];
  config.profiles[name] = merged;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}
