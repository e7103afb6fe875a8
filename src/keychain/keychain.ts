/**
 * The OS keychain through @napi-rs/keyring: macOS Keychain, Windows Credential Manager,
 * Secret Service on Linux. On Linux the store is pinned to Secret Service: the library would
 * otherwise fall back to the kernel keyring, which forgets everything at logout, and a master
 * key that vanishes makes a store unreadable for good.
 */
import { createRequire } from 'node:module';
import { UnavailableError } from '../core/errors.js';

export const KEYCHAIN_SERVICE = 'akm';

export interface Keychain {
  get(account: string): string | null;
  set(account: string, secret: string): void;
  delete(account: string): boolean;
}

type EntryClass = typeof import('@napi-rs/keyring').Entry;

let entryClass: EntryClass | undefined;
function loadEntry(): EntryClass {
  // Loaded on first use: the native module costs start-up time that most commands do not need.
  entryClass ??= (createRequire(import.meta.url)('@napi-rs/keyring') as typeof import('@napi-rs/keyring')).Entry;
  return entryClass;
}

function unavailable(error: unknown): UnavailableError {
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new UnavailableError(`the OS keychain is not available (${detail})`, {
    hint:
      'on a server without a keychain use --master-key-file or AKM_MASTER_KEY; ' +
      'for remote credentials use AKM_ACCESS_KEY_ID/AKM_SECRET_ACCESS_KEY',
    code: 'keychain_unavailable',
  });
}

/**
 * Fails (keychain_unavailable) unless the keychain can keep a secret now: there is none, or it
 * is locked and cannot be unlocked. A throw-away entry is written and removed, because reading
 * succeeds (finding nothing) on a locked keychain that would refuse the write.
 */
export function checkKeychain(keychain: Keychain): void {
  const probe = 'availability-check';
  keychain.set(probe, 'akm checks that it can keep a secret here');
  keychain.delete(probe);
}

export class OsKeychain implements Keychain {
  constructor(private readonly service = KEYCHAIN_SERVICE) {}

  private entry(account: string) {
    const Entry = loadEntry();
    return new Entry(
      this.service,
      account,
      process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined,
    );
  }

  get(account: string): string | null {
    try {
      return this.entry(account).getPassword() ?? null;
    } catch (error) {
      if (/no (matching )?entry|not found/i.test(String(error))) return null;
      throw unavailable(error);
    }
  }

  set(account: string, secret: string): void {
    try {
      this.entry(account).setPassword(secret);
    } catch (error) {
      throw unavailable(error);
    }
  }

  delete(account: string): boolean {
    try {
      return this.entry(account).deletePassword();
    } catch (error) {
      if (/no (matching )?entry|not found/i.test(String(error))) return false;
      throw unavailable(error);
    }
  }
}
