/**
 * Where the master key comes from, in order: --master-key-file (or the profile's file),
 * AKM_MASTER_KEY (base64), the OS keychain entry for this store. The key never enters the
 * database; the store holds only a check value to recognise the right key.
 *
 * A rotation (service/local/masterKey.ts) keeps the new key *beside* the old one before it
 * writes anything under it — the keychain entry `master-key-next:<store id>`, or the file
 * `<file>.next` — and moves it into the old one's place once the store has committed to it. A
 * run that finds the store under the key beside the old one finishes that move
 * (service/local/storeMasterKey.ts): so at every moment the key the store is under is kept
 * somewhere akm looks.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnavailableError } from '../core/errors.js';
import type { Keychain } from '../keychain/keychain.js';
import { moveKeyFile, readKeyFile, writeKeyFile } from './keyFile.js';
import { MASTER_KEY_BYTES, parseMasterKey } from './keys.js';

export interface MasterKeyOptions {
  file?: string;
  env: NodeJS.ProcessEnv;
  keychain: () => Keychain;
}

export type MasterKeySourceName = 'file' | 'env' | 'keychain';

/** Where a rotation keeps the new key until the store is committed to it, and how it then takes the old one's place. */
export interface PendingKeySlot {
  /** for messages: the keychain entry or the file */
  readonly description: string;
  read(): Buffer | null;
  /** durably, replacing what an earlier rotation that never committed may have left */
  write(key: Buffer): void;
  /** the pending key becomes the master key of this place */
  promote(key: Buffer): void;
}

export interface MasterKeyPlace {
  readonly source: MasterKeySourceName;
  /** for messages: "the OS keychain", the file's path, "AKM_MASTER_KEY" */
  readonly description: string;
  read(): Buffer;
  /** null for AKM_MASTER_KEY: akm cannot change the environment it was started with */
  readonly pending: PendingKeySlot | null;
}

export function keychainAccount(storeId: string): string {
  return `master-key:${storeId}`;
}

export function masterKeySource(options: MasterKeyOptions): MasterKeySourceName {
  if (options.file) return 'file';
  if (options.env.AKM_MASTER_KEY) return 'env';
  return 'keychain';
}

export function masterKeyPlace(options: MasterKeyOptions, storeId: string): MasterKeyPlace {
  const source = masterKeySource(options);
  if (source === 'file') return filePlace(options.file!);
  if (source === 'env') {
    const text = options.env.AKM_MASTER_KEY!;
    return {
      source,
      description: 'AKM_MASTER_KEY',
      read: () => parseMasterKey(text, 'AKM_MASTER_KEY'),
      pending: null,
    };
  }
  return keychainPlace(options.keychain(), storeId);
}

function filePlace(path: string): MasterKeyPlace {
  const next = `${path}.next`;
  return {
    source: 'file',
    description: path,
    read: () => readKeyFile(path),
    pending: {
      description: next,
      read: () => (existsSync(next) ? readKeyFile(next) : null),
      write: (key) => {
        rmSync(next, { force: true });
        writeKeyFile(next, key);
      },
      promote: (key) => {
        // Another run may have finished the move already.
        if (existsSync(next)) moveKeyFile(next, path);
        else if (!readKeyFile(path).equals(key)) throw new Error(`the new master key vanished from ${next}`);
      },
    },
  };
}

function keychainPlace(keychain: Keychain, storeId: string): MasterKeyPlace {
  const account = keychainAccount(storeId);
  const nextAccount = `master-key-next:${storeId}`;
  const read = (name: string) => {
    const stored = keychain.get(name);
    return stored ? parseMasterKey(stored, `the keychain entry ${name}`) : null;
  };
  return {
    source: 'keychain',
    description: 'the OS keychain',
    read: () => {
      const key = read(account);
      if (key) return key;
      throw new UnavailableError('the master key for this store is not in the OS keychain', {
        hint:
          'set AKM_MASTER_KEY or pass --master-key-file, ' +
          'or run akm on the machine where `akm init` created the store',
        code: 'master_key_missing',
      });
    },
    pending: {
      description: `the OS keychain (entry ${nextAccount})`,
      read: () => read(nextAccount),
      write: (key) => {
        keychain.set(nextAccount, key.toString('base64'));
        // Relied on as soon as this returns: make sure the keychain really holds it.
        if (!read(nextAccount)?.equals(key)) throw new UnavailableError('the OS keychain did not keep the new key');
      },
      // In this order: if interrupted, both entries hold the new key, and the store opens.
      promote: (key) => {
        keychain.set(account, key.toString('base64'));
        keychain.delete(nextAccount);
      },
    },
  };
}

/**
 * For `akm init`: reuse the key the options point at, or make a new one and keep it where
 * they say (a new 0600 file, or the keychain).
 */
export function provisionMasterKey(
  options: MasterKeyOptions,
  storeId: string,
): { key: Buffer; source: MasterKeySourceName } {
  const place = masterKeyPlace(options, storeId);
  const { source } = place;
  if (source === 'file' && !existsSync(options.file!)) {
    const key = randomBytes(MASTER_KEY_BYTES);
    mkdirSync(dirname(options.file!), { recursive: true, mode: 0o700 });
    writeKeyFile(options.file!, key);
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
  return { key: place.read(), source };
}
