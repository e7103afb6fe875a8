/**
 * Access key ids and secret keys.
 *
 * accessKeyId: "AKM" + 17 base32 characters (85 random bits; not secret, but unguessable).
 * secretKey:   "akms_" + 44 base62 characters (261 random bits) + 6 base62 characters of CRC32
 *              over the prefix and the random part. The prefix lets secret scanners recognise a
 *              leaked secret; the checksum rejects a mistyped one before any database lookup.
 */
import { BASE32, BASE62, base62Fixed, crc32, randomString } from './base.js';

export const ACCESS_KEY_ID_PREFIX = 'AKM';
export const ACCESS_KEY_ID_LENGTH = 20;
export const SECRET_PREFIX = 'akms_';
export const SECRET_RANDOM_LENGTH = 44;
export const SECRET_CHECKSUM_LENGTH = 6;
export const SECRET_LENGTH = SECRET_PREFIX.length + SECRET_RANDOM_LENGTH + SECRET_CHECKSUM_LENGTH;

const ACCESS_KEY_ID_PATTERN = /^AKM[A-Z2-7]{17}$/;
const SECRET_PATTERN = new RegExp(`^${SECRET_PREFIX}[0-9A-Za-z]{${SECRET_RANDOM_LENGTH + SECRET_CHECKSUM_LENGTH}}$`);

export function generateAccessKeyId(): string {
  return ACCESS_KEY_ID_PREFIX + randomString(BASE32, ACCESS_KEY_ID_LENGTH - ACCESS_KEY_ID_PREFIX.length);
}

export function generateSecretKey(): string {
  const body = SECRET_PREFIX + randomString(BASE62, SECRET_RANDOM_LENGTH);
  return body + secretChecksum(body);
}

function secretChecksum(body: string): string {
  return base62Fixed(crc32(body), SECRET_CHECKSUM_LENGTH);
}

export function isAccessKeyId(text: string): boolean {
  return ACCESS_KEY_ID_PATTERN.test(text);
}

/** Shape and checksum only: says nothing about whether the secret belongs to any key. */
export function isWellFormedSecret(text: string): boolean {
  if (!SECRET_PATTERN.test(text)) return false;
  const body = text.slice(0, -SECRET_CHECKSUM_LENGTH);
  return secretChecksum(body) === text.slice(-SECRET_CHECKSUM_LENGTH);
}

export { BASE62, BASE32 };

/** Anything that may be a secret: a secret key (even mistyped or cut short), a key string, or a sealed secret. */
const SECRET_SHAPED = /akms_[0-9A-Za-z]{8,}|akmenc1_[0-9A-Za-z_-]{8,}|key:\s*AKM[A-Z2-7]{17}::/g;

export function looksSecret(text: string): boolean {
  SECRET_SHAPED.lastIndex = 0;
  return SECRET_SHAPED.test(text);
}

/** The same text with every secret-shaped part replaced: for log lines that carry what a client sent. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_SHAPED, (match) => `${match.slice(0, match.indexOf('_') + 1 || 4)}[redacted]`);
}
