/**
 * Which implementation of AkmService a command gets: the local store (a SQLite file or a
 * PostgreSQL database), or a server when the store (flag, AKM_STORE or profile) is an http(s)
 * URL. Commands never know which.
 */
import { readConfig } from '../config/profiles.js';
import { mailSettingsFromEnv } from '../notify/smtp.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { AkmService } from '../service/types.js';
import type { Deps } from './deps.js';

/** `read`: the command only reads (list, show, verify…), so a read-only store file is enough. */
export type Access = 'read' | 'write';

/**
 * `akm --profile prod list` with no profile prod would open the default store and answer "no
 * keys match", as if every key were gone. When the profile is what names the store, a profile
 * that does not exist is an error. (`init` and `login` create profiles; they open no service.)
 */
function refuseUnknownProfile(deps: Deps): void {
  const { profileName, origins } = deps.settings;
  if (profileName === 'default' || origins.profile === 'default' || origins.store !== 'default') return;
  const profiles = Object.keys(readConfig(deps.env).profiles);
  if (profiles.includes(profileName)) return;
  throw new NotFoundError(`no profile "${profileName}" (${origins.profile})`, {
    hint:
      didYouMean(profileName, profiles) ??
      `known profiles: ${profiles.join(', ') || 'none yet'} (init and login make one with --profile NAME)`,
    code: 'profile_not_found',
  });
}

export async function openService(deps: Deps, access: Access): Promise<AkmService> {
  const { settings } = deps;
  refuseUnknownProfile(deps);
  if (settings.remote) return openRemoteService(deps);
  // Loaded on demand: a remote run never needs a store, and --help needs neither.
  const { LocalService } = await import('../service/local/service.js');
  const service = await LocalService.open({
    store: settings.store,
    tenantId: settings.tenant,
    masterKey: { file: settings.masterKeyFile, env: deps.env, keychain: deps.keychain },
    now: deps.now,
    env: deps.env,
    mail: mailSettingsFromEnv(deps.env),
    warn: (text) => deps.io.warn(text),
    readOnly: access === 'read',
    actAs: deps.global.as,
    // SQLite waits for a lock in silence; a person at a terminal is told after a second.
    onLockWait: deps.io.terminal.stderrIsTTY ? () => deps.io.info(LOCK_WAIT_NOTICE) : undefined,
  });
  // A master key given explicitly (file or environment) is checked at once, so a wrong one
  // fails before anything runs. The keychain is read on first use: listing needs no key.
  if (settings.masterKeyFile || deps.env.AKM_MASTER_KEY) {
    try {
      await service.checkMasterKey();
    } catch (error) {
      await service.close();
      throw error;
    }
  }
  return service;
}

export const LOCK_WAIT_NOTICE = 'waiting for another akm process to finish with the store…';

// Remote mode: the remote client (src/remote), with credentials from env, keychain or file.
async function openRemoteService(deps: Deps): Promise<AkmService> {
  const { openRemote } = await import('../remote/open.js');
  const { settings } = deps;
  if (deps.global.as !== undefined)
    throw new UsageError('--as works on a local store only', {
      hint: 'on a server, the key you signed in with is who acts',
    });
  return openRemote({
    url: settings.store,
    profileName: settings.profileName,
    profile: settings.profile,
    tenant: settings.tenant,
    env: deps.env,
    keychain: deps.keychain,
    warn: (text) => deps.io.warn(text),
  });
}
