/**
 * Where the remote client's access key comes from, in this order:
 *   1. AKM_ACCESS_KEY_ID + AKM_SECRET_ACCESS_KEY (CI)
 *   2. AKM_CREDENTIALS holding a key string (CI)
 *   3. the plaintext file written by `akm login --insecure-storage` (warned about on every use)
 *   4. the OS keychain entry `akm / credentials:<profile>` written by `akm login`
 * Stored credentials are one key string, so the tenant travels with the key.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isAccessKeyId, isWellFormedSecret } from '../core/credentials.js';
import { AkmError, DeniedError, UnavailableError, UsageError } from '../core/errors.js';
import { formatKeyString, parseKeyString } from '../core/keyString.js';
import { configHome } from '../config/paths.js';
import type { Profile } from '../config/profiles.js';
import type { Keychain } from '../keychain/keychain.js';
import type { RemoteCredentials } from './client.js';

export interface ResolvedCredentials extends RemoteCredentials {
  tenantId?: string;
  /** for `akm whoami`: where they were found */
  source: string;
}

export interface CredentialContext {
  url: string;
  profileName: string;
  profile: Profile;
  env: NodeJS.ProcessEnv;
  keychain: () => Keychain;
  warn: (text: string) => void;
}

export function keychainAccount(profileName: string): string {
  return `credentials:${profileName}`;
}

export function insecureFilePath(env: NodeJS.ProcessEnv, profileName: string): string {
  return join(configHome(env), 'akm', `credentials-${profileName.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
}

export function resolveCredentials(ctx: CredentialContext): ResolvedCredentials {
  const { env } = ctx;
  const id = env.AKM_ACCESS_KEY_ID;
  const secret = env.AKM_SECRET_ACCESS_KEY;
  if (id || secret) {
    if (!id || !secret)
      throw new UsageError(`${id ? 'AKM_SECRET_ACCESS_KEY' : 'AKM_ACCESS_KEY_ID'} is not set`, {
        hint: 'set both AKM_ACCESS_KEY_ID and AKM_SECRET_ACCESS_KEY, or neither',
        code: 'credentials_incomplete',
      });
    return {
      ...checkPair(id, secret, 'AKM_ACCESS_KEY_ID/AKM_SECRET_ACCESS_KEY'),
      ...(ctx.profile.tenant ? { tenantId: ctx.profile.tenant } : {}),
      source: 'environment (AKM_ACCESS_KEY_ID, AKM_SECRET_ACCESS_KEY)',
    };
  }
  if (env.AKM_CREDENTIALS)
    return { ...fromKeyString(env.AKM_CREDENTIALS, 'AKM_CREDENTIALS'), source: 'environment (AKM_CREDENTIALS)' };
  if (ctx.profile.credentialsFile) {
    const file = ctx.profile.credentialsFile;
    ctx.warn(
      `using plaintext credentials from ${file} (stored with --insecure-storage); ` +
        `the OS keychain is safer: akm logout && akm login ${ctx.url}`,
    );
    return { ...fromKeyString(readInsecureFile(file), file), source: `file ${file} (insecure storage)` };
  }
  let stored: string | null;
  try {
    stored = ctx.keychain().get(keychainAccount(ctx.profileName));
  } catch (error) {
    const detail = error instanceof AkmError ? error.message : String(error);
    throw new UnavailableError(`no credentials for ${ctx.url}: ${detail}`, {
      hint: 'set AKM_ACCESS_KEY_ID and AKM_SECRET_ACCESS_KEY (or AKM_CREDENTIALS), or use akm login --insecure-storage',
      code: 'no_credentials',
    });
  }
  if (!stored) {
    throw new DeniedError(`not logged in to ${ctx.url} (profile ${ctx.profileName})`, {
      hint: `run: akm login ${ctx.url}   (CI: set AKM_ACCESS_KEY_ID and AKM_SECRET_ACCESS_KEY, or AKM_CREDENTIALS)`,
      code: 'not_logged_in',
    });
  }
  return { ...fromKeyString(stored, 'the keychain entry'), source: `OS keychain (profile ${ctx.profileName})` };
}

function checkPair(accessKeyId: string, secret: string, where: string): RemoteCredentials {
  if (!isAccessKeyId(accessKeyId.trim()))
    throw new UsageError(`${where}: the access key id is not AKM + 17 base32 characters`, {
      code: 'credentials_invalid',
    });
  if (!isWellFormedSecret(secret.trim()))
    throw new UsageError(`${where}: the secret key is malformed (its checksum fails)`, {
      hint: 'check for a typo or a truncated copy',
      code: 'credentials_invalid',
    });
  return { accessKeyId: accessKeyId.trim(), secretAccessKey: secret.trim() };
}

function fromKeyString(text: string, where: string): RemoteCredentials & { tenantId: string } {
  let parts;
  try {
    parts = parseKeyString(text);
  } catch (error) {
    throw new UsageError(`${where}: ${(error as Error).message}`, {
      hint: 'expected key:<accessKeyId>::<secretKey>,tenant id:<tenantId>',
      code: 'credentials_invalid',
    });
  }
  if (parts.encrypted)
    throw new UsageError(`${where} holds the encrypted secret from \`akm copy\`, which cannot sign requests`, {
      hint: 'use the key string shown when the key was created or rotated',
      code: 'credentials_invalid',
    });
  return { accessKeyId: parts.accessKeyId, secretAccessKey: parts.secret, tenantId: parts.tenantId };
}

/** Like ssh with a private key: a file others can read is refused, not just warned about. */
function readInsecureFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new DeniedError(`the credentials file ${file} is missing`, {
      hint: 'log in again: akm login <url>',
      code: 'not_logged_in',
    });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new DeniedError(`the credentials file ${file} is readable by other users`, {
      hint: `chmod 600 ${file}, then check who may have read it`,
      code: 'credentials_exposed',
    });
  }
  return readFileSync(file, 'utf8');
}

export interface StoredCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  tenantId: string;
}

export function storeInKeychain(keychain: Keychain, profileName: string, c: StoredCredentials): void {
  keychain.set(keychainAccount(profileName), formatKeyString(c.accessKeyId, c.secretAccessKey, c.tenantId));
}

/** Written owner-only from the first byte (O_EXCL on a fresh file, never chmod after writing). */
export function storeInFile(file: string, c: StoredCredentials): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (existsSync(file)) rmSync(file);
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, `${formatKeyString(c.accessKeyId, c.secretAccessKey, c.tenantId)}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Removes what `akm login` stored for the profile; says where it removed something from. */
export function forgetCredentials(keychain: () => Keychain, profileName: string, profile: Profile): string[] {
  const removed: string[] = [];
  if (profile.credentialsFile && existsSync(profile.credentialsFile)) {
    rmSync(profile.credentialsFile);
    removed.push(`file ${profile.credentialsFile}`);
  }
  try {
    if (keychain().delete(keychainAccount(profileName))) removed.push('OS keychain');
  } catch (error) {
    // No keychain here: nothing can be stored in it either, unless the file above was used.
    if (removed.length === 0) throw error;
  }
  return removed;
}
