/**
 * Where the master key comes from, in order: --master-key-file (or the profile's file),
 * AKM_MASTER_KEY (base64), the OS keychain entry for this store. The key never enters the
 * database; the store holds only a check value to recognise the right key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnavailableError } from '../core/errors.js';
import type { Keychain } from '../keychain/keychain.js';
import { MASTER_KEY_BYTES, parseMasterKey } from './keys.js';

export interface MasterKeyOptions {
  file?: string;
  env: NodeJS.ProcessEnv;
  keychain: () => Keychain;
}

export type MasterKeySourceName = 'file' | 'env' | 'keychain';

export function keychainAccount(storeId: string): string {
  return `master-key:${storeId}`;
}

export function masterKeySource(options: MasterKeyOptions): MasterKeySourceName {
  if (options.file) return 'file';
  if (options.env.AKM_MASTER_KEY) return 'env';
  return 'keychain';
}

export function loadMasterKey(options: MasterKeyOptions, storeId: string): Buffer {
  if (options.file) return readKeyFile(options.file);
  if (options.env.AKM_MASTER_KEY) return parseMasterKey(options.env.AKM_MASTER_KEY, 'AKM_MASTER_KEY');
  const stored = options.keychain().get(keychainAccount(storeId));
  if (!stored) {
    throw new UnavailableError('the master key for this store is not in the OS keychain', {
      hint:
        'set AKM_MASTER_KEY or pass --master-key-file, ' +
        'or run akm on the machine where `akm init` created the store',
      code: 'master_key_missing',
    });
  }
  return parseMasterKey(stored, 'the keychain entry');
}

/** Like ssh with a private key: a key file that group or others can read is refused, not used. */
function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    const mode = statSync(path).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new UnavailableError(
        `the master key file ${path} is open to other users (mode ${(mode & 0o777).toString(8)}); it was not used`,
        {
          hint: `chmod 600 ${path}; if others may have read it, treat every secret in the store as exposed`,
          code: 'master_key_exposed',
        },
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError(
      `cannot read the master key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { code: 'master_key_missing' },
    );
  }
  return parseMasterKey(text, `the master key file ${path}`);
}

/**
 * For `akm init`: reuse the key the options point at, or make a new one and keep it where
 * they say (a new 0600 file, or the keychain).
 */
export function provisionMasterKey(
  options: MasterKeyOptions,
  storeId: string,
): { key: Buffer; source: MasterKeySourceName } {
  const source = masterKeySource(options);
  if (source === 'file' && !existsSync(options.file!)) {
    const key = randomBytes(MASTER_KEY_BYTES);
    mkdirSync(dirname(options.file!), { recursive: true, mode: 0o700 });
    writeFileSync(options.file!, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { key, source };
  }
  if (source === 'keychain') {
    const keychain = options.keychain();
    const existing = keychain.get(keychainAccount(storeId));
    if (existing) return { key: parseMasterKey(existing, 'the keychain entry'), source };
    const key = randomBytes(MASTER_KEY_BYTES);
    keychain.set(keychainAccount(storeId), key.toString('base64'));
    return { key, source };
  }
  return { key: loadMasterKey(options, storeId), source };
}
