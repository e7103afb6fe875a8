/** Minting and sealing a fresh secret: shared by create and rotate. */
import { generateSecretKey } from '../../core/credentials.js';
import { formatKeyString } from '../../core/keyString.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import { sealSecret, secretDigest } from '../../crypto/seal.js';

export interface FreshSecret {
  secretKey: string;
  sealed: Buffer;
  digest: Buffer;
}

export function mintSecret(keys: DerivedKeys, tenantId: string, accessKeyId: string): FreshSecret {
  const secretKey = generateSecretKey();
  return {
    secretKey,
    sealed: sealSecret(keys, tenantId, accessKeyId, secretKey),
    digest: secretDigest(keys, tenantId, accessKeyId, secretKey),
  };
}

export function keyStringFor(tenantId: string, accessKeyId: string, secretKey: string): string {
  return formatKeyString(accessKeyId, secretKey, tenantId);
}
