/**
 * Checking presented credentials. Every path does the same work (one digest, one comparison)
 * and answers the same "not valid", whether the key is unknown, inactive, expired or the
 * secret wrong, so neither the answer nor its timing tells them apart.
 */
import { isAccessKeyId, isWellFormedSecret } from '../../core/credentials.js';
import { isExpired } from '../../core/expiry.js';
import { effectivePermissions } from '../../core/permissions.js';
import { digestMatches } from '../../crypto/seal.js';
import { getKeyById, keyRoleGrants, type KeyRow } from '../../store/keys.js';
import type { VerifyInput, VerifyResult } from '../types.js';
import type { LocalContext } from './context.js';

const PLACEHOLDER_ID = 'AKMAAAAAAAAAAAAAAAAA';
const PLACEHOLDER_DIGEST = Buffer.alloc(32);

/** Which stored secret (current, or previous within its grace period) the secret matches, if any. */
export function matchSecret(ctx: LocalContext, row: KeyRow | undefined, secret: string, now: Date): 'current' | 'previous' | null {
  const keys = ctx.keys();
  const tenantId = row?.tenant_id ?? ctx.tenant.id;
  const id = row?.id ?? PLACEHOLDER_ID;
  const current = digestMatches(keys, tenantId, id, secret, row?.secret_digest ?? PLACEHOLDER_DIGEST);
  const inGrace = row?.previous_valid_until != null && Date.parse(row.previous_valid_until) > now.getTime();
  const previous = digestMatches(keys, tenantId, id, secret, inGrace ? row!.previous_digest : PLACEHOLDER_DIGEST);
  if (!row) return null;
  if (current) return 'current';
  return inGrace && previous ? 'previous' : null;
}

/** Is this row usable right now (active, unexpired, in the expected tenant)? */
export function usable(row: KeyRow | undefined, tenantId: string | undefined, now: Date): row is KeyRow {
  return !!row && row.status === 'active' && !isExpired(row.expires_at, now) && (tenantId === undefined || row.tenant_id === tenantId);
}

export function verifyKey(ctx: LocalContext, input: VerifyInput): VerifyResult {
  const now = ctx.now();
  const wellFormed = isAccessKeyId(input.accessKeyId) && isWellFormedSecret(input.secretKey);
  const row = wellFormed ? getKeyById(ctx.db, input.accessKeyId) : undefined;
  const matched = matchSecret(ctx, row, input.secretKey, now);
  if (!wellFormed || !matched || !usable(row, input.tenantId, now)) return { valid: false };
  ctx.recordUse(row.id, now.toISOString());
  return {
    valid: true,
    accessKeyId: row.id,
    tenantId: row.tenant_id,
    owner: row.owner_email,
    name: row.name,
    type: row.type,
    permissions: effectivePermissions(keyRoleGrants(ctx.db, row.id)),
    expiresAt: row.expires_at,
  };
}
