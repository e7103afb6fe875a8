/** Where akm keeps things, following the XDG base directory convention. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function dataHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
}

export function configHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
}

export function defaultStorePath(env: NodeJS.ProcessEnv): string {
  return join(dataHome(env), 'akm', 'akm.db');
}

export function configFilePath(env: NodeJS.ProcessEnv): string {
  return join(configHome(env), 'akm', 'config.json');
}

export function isRemoteStore(store: string): boolean {
  return /^https?:\/\//i.test(store);
}
