/** Where akm keeps things, following the XDG base directory convention. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user's home folder: $HOME, else what the system says. */
export function homeFolder(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

export function dataHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_DATA_HOME || join(homeFolder(env), '.local', 'share');
}

export function configHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_CONFIG_HOME || join(homeFolder(env), '.config');
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
