/** Minting and sealing a fresh secret: shared by create and rotate. */
import { generateSecretKey } from '../../core/credentials.js';
import { formatKeyString } from '../../core/keyString.js';
import { sealSecret, secretDigest } from '../../crypto/seal.js';
import type { LocalContext } from './context.js';

export interface FreshSecret {
  secretKey: string;
  sealed: Buffer;
  digest: Buffer;
}

export function mintSecret(ctx: LocalContext, accessKeyId: string): FreshSecret {
  const keys = ctx.keys();
  const secretKey = generateSecretKey();
  return {
    secretKey,
    sealed: sealSecret(keys, ctx.tenant.id, accessKeyId, secretKey),
    digest: secretDigest(keys, ctx.tenant.id, accessKeyId, secretKey),
  };
}

export function keyStringFor(ctx: LocalContext, accessKeyId: string, secretKey: string): string {
  return formatKeyString(accessKeyId, secretKey, ctx.tenant.id);
}
