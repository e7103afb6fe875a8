/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce and the tenant and key id as
 * additional authenticated data, so a sealed secret moved to another key or tenant fails to
 * open. Plus an HMAC digest for verification, compared in constant time.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { AkmError, ExitCode } from '../core/errors.js';
import { ENCRYPTED_PREFIX } from '../core/keyString.js';
import { constantTimeEqual, type DerivedKeys } from './keys.js';

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function aad(tenantId: string, accessKeyId: string): Buffer {
  return Buffer.from(`akm secret v${VERSION}\0${tenantId}\0${accessKeyId}`, 'utf8');
}

/** version(1) | nonce(12) | ciphertext | tag(16) */
export function sealSecret(keys: DerivedKeys, tenantId: string, accessKeyId: string, secret: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.seal, nonce);
  cipher.setAAD(aad(tenantId, accessKeyId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

export class TamperedSecretError extends AkmError {
  constructor(accessKeyId: string) {
    super(`the stored secret of ${accessKeyId} failed its integrity check`, ExitCode.unavailable, {
      code: 'tampered_secret',
      hint: 'the store was modified outside akm; rotate the key to issue a new secret',
    });
  }
}

export function openSecret(keys: DerivedKeys, tenantId: string, accessKeyId: string, sealed: Buffer): string {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES + 1 || sealed[0] !== VERSION)
    throw new TamperedSecretError(accessKeyId);
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.seal, nonce);
    decipher.setAAD(aad(tenantId, accessKeyId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new TamperedSecretError(accessKeyId);
  }
}

/** What `akm copy` shows in the secret's place: the sealed bytes, never the secret. */
export function sealedForDisplay(sealed: Buffer): string {
  return ENCRYPTED_PREFIX + sealed.toString('base64url');
}

export function secretDigest(keys: DerivedKeys, tenantId: string, accessKeyId: string, secret: string): Buffer {
  return createHmac('sha256', keys.digest).update(`${tenantId}\0${accessKeyId}\0${secret}`).digest();
}

export function digestMatches(
  keys: DerivedKeys,
  tenantId: string,
  accessKeyId: string,
  secret: string,
  stored: Buffer | null,
): boolean {
  if (!stored) return false;
  return constantTimeEqual(secretDigest(keys, tenantId, accessKeyId, secret), stored);
}
