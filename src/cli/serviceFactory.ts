/**
 * Which implementation of AkmService a command gets: the local store, or a server when the
 * store (flag, AKM_STORE or profile) is an http(s) URL. Commands never know which.
 */
import { UnavailableError } from '../core/errors.js';
import type { AkmService } from '../service/types.js';
import type { Deps } from './deps.js';

export async function openService(deps: Deps): Promise<AkmService> {
  const { settings } = deps;
  if (settings.remote) return openRemoteService(deps);
  // Loaded on demand: a remote run never needs SQLite, and --help needs neither.
  const { LocalService } = await import('../service/local/service.js');
  return LocalService.open({
    storePath: settings.store,
    tenantId: settings.tenant,
    masterKey: { file: settings.masterKeyFile, env: deps.env, keychain: deps.keychain },
    now: deps.now,
  });
}

// REMOTE MODE: the remote client (src/remote) plugs in here.
async function openRemoteService(deps: Deps): Promise<AkmService> {
  throw new UnavailableError(`remote stores are not supported yet (${deps.settings.store})`);
}
