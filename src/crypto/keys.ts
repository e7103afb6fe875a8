/**
 * Everything derived from the master key. One 32-byte master key (outside the database)
 * yields separate subkeys with HKDF, so a digest key can never decrypt and the audit MAC key
 * can never forge a digest or seal an authorization row.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { UnavailableError, UsageError } from '../core/errors.js';

export const MASTER_KEY_BYTES = 32;

export interface DerivedKeys {
  seal: Buffer;
  digest: Buffer;
  audit: Buffer;
  /** MACs over the rows that decide authentication and authorization (store/integrity.ts) */
  integrity: Buffer;
  check: Buffer;
}

function derive(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `akm v1 ${info}`, 32));
}

export function deriveKeys(master: Buffer): DerivedKeys {
  if (master.length !== MASTER_KEY_BYTES) throw new UsageError(`the master key must be ${MASTER_KEY_BYTES} bytes`);
  return {
    seal: derive(master, 'seal'),
    digest: derive(master, 'digest'),
    audit: derive(master, 'audit'),
    integrity: derive(master, 'integrity'),
    check: derive(master, 'check'),
  };
}

/** A value stored beside the data so that a wrong master key is caught at once, not as garbage. */
export function checkValue(keys: DerivedKeys, storeId: string): string {
  return createHmac('sha256', keys.check).update(`akm master key check ${storeId}`).digest('base64');
}

export function checkMatches(keys: DerivedKeys, storeId: string, stored: string): boolean {
  return constantTimeEqual(Buffer.from(checkValue(keys, storeId)), Buffer.from(stored));
}

export function assertCheckValue(keys: DerivedKeys, storeId: string, stored: string): void {
  if (!checkMatches(keys, storeId, stored)) {
    throw new UnavailableError('the master key does not match this store', {
      hint: 'use the master key this store was initialised with (keychain, AKM_MASTER_KEY or --master-key-file)',
      code: 'wrong_master_key',
    });
  }
}

const COMPARE_KEY = Buffer.from('akm constant-time compare');

/**
 * Constant-time equality for inputs of any length: both sides are first reduced to HMACs of
 * equal length, so neither the position of the first difference nor a length mismatch shows
 * in the timing.
 */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  const ha = createHmac('sha256', COMPARE_KEY).update(a).digest();
  const hb = createHmac('sha256', COMPARE_KEY).update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export function parseMasterKey(base64: string, source: string): Buffer {
  const text = base64.trim();
  const key = Buffer.from(text, 'base64');
  if (key.length !== MASTER_KEY_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new UnavailableError(`${source} is not a base64-encoded ${MASTER_KEY_BYTES}-byte key`, {
      hint: 'generate one with: openssl rand -base64 32',
      code: 'bad_master_key',
    });
  }
  return key;
}
