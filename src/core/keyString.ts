/**
 * The key string: `key:<accessKeyId>::<secretKey>,tenant id:<tenantId>`.
 * Output is always exactly that; the parser also accepts one space after "tenant id:" and
 * surrounding white space (a trailing newline from `echo`). `akm copy` puts the sealed
 * secret (ENCRYPTED_PREFIX…) in the secret's place; such a string can never authenticate.
 */
import { UsageError } from './errors.js';
import { isAccessKeyId, isWellFormedSecret } from './credentials.js';
import { isTenantId } from './validate.js';

export const ENCRYPTED_PREFIX = 'akmenc1_';

export interface KeyStringParts {
  accessKeyId: string;
  secret: string;
  tenantId: string;
  /** true when the secret position holds the sealed form produced by `akm copy`. */
  encrypted: boolean;
}

export function formatKeyString(accessKeyId: string, secret: string, tenantId: string): string {
  return `key:${accessKeyId}::${secret},tenant id:${tenantId}`;
}

const KEY_STRING = /^key:([^:]+)::([^,]+),tenant id: ?([^\s]+)$/;

/** Throws a UsageError (exit 2) naming what is wrong; never echoes the secret part. */
export function parseKeyString(input: string): KeyStringParts {
  const text = input.trim();
  const match = KEY_STRING.exec(text);
  if (!match) {
    throw new UsageError('malformed key string', {
      hint: 'expected key:<accessKeyId>::<secretKey>,tenant id:<tenantId>',
      code: 'malformed_key_string',
    });
  }
  const [, accessKeyId, secret, tenantId] = match as unknown as [string, string, string, string];
  if (!isAccessKeyId(accessKeyId)) {
    throw new UsageError('malformed key string: the access key id is not AKM + 17 base32 characters', {
      code: 'malformed_key_string',
    });
  }
  if (!isTenantId(tenantId)) {
    throw new UsageError('malformed key string: invalid tenant id', { code: 'malformed_key_string' });
  }
  const encrypted = secret.startsWith(ENCRYPTED_PREFIX);
  if (!encrypted && !isWellFormedSecret(secret)) {
    throw new UsageError('malformed key string: the secret key fails its checksum', {
      hint: 'check for a typo or a truncated copy',
      code: 'malformed_key_string',
    });
  }
  return { accessKeyId, secret, tenantId, encrypted };
}
