/**
 * Checking presented credentials. Every path does the same work (one digest, two fixed-length
 * comparisons) and answers the same "not valid", whether the key is unknown, inactive,
 * expired, altered at rest (store/integrity.ts) or the secret wrong, so neither the answer nor
 * its timing tells them apart.
 * The server's cached fast path (server/verifyCache.ts) makes the same decision through
 * checkCredentials() with another lookup.
 */
import { timingSafeEqual } from 'node:crypto';
import { isAccessKeyId, isWellFormedSecret } from '../../core/credentials.js';
import { inGracePeriod, isExpired } from '../../core/expiry.js';
import { effectivePermissions } from '../../core/permissions.js';
import { secretDigest } from '../../crypto/seal.js';
import { TamperedRecordError } from '../../store/integrity.js';
import { getKeyById, keyRoleGrants, type KeyRow } from '../../store/keys.js';
import type { VerifyInput, VerifyResult } from '../types.js';
import type { LocalContext } from './context.js';

const DIGEST_BYTES = 32;
const PLACEHOLDER_ID = 'AKMAAAAAAAAAAAAAAAAA';
const PLACEHOLDER_DIGEST = Buffer.alloc(DIGEST_BYTES);

/** What a verification needs to know about a key, however it was looked up. */
export interface KeyForVerification {
  /** null or undefined: no key with this id */
  row: KeyRow | null | undefined;
  permissions(): string[];
}

function sameDigest(computed: Buffer, stored: Buffer | null | undefined): boolean {
  // A missing or damaged digest is compared against a placeholder, so the work stays the same.
  const candidate = stored && stored.length === DIGEST_BYTES ? stored : PLACEHOLDER_DIGEST;
  return timingSafeEqual(computed, candidate) && candidate !== PLACEHOLDER_DIGEST;
}

/** Does the secret match the current secret, or the previous one within its grace period? */
export function secretMatches(ctx: LocalContext, row: KeyRow | null | undefined, secret: string, now: Date): boolean {
  const digest = secretDigest(ctx.keys(), row?.tenant_id ?? ctx.tenant.id, row?.id ?? PLACEHOLDER_ID, secret);
  const inGrace = !!row && inGracePeriod(row.previous_valid_until, now);
  const current = sameDigest(digest, row?.secret_digest);
  const previous = sameDigest(digest, inGrace ? row?.previous_digest : null);
  return !!row && (current || previous);
}

/** Is this row usable right now (active, unexpired, in the expected tenant)? */
export function usable(row: KeyRow | null | undefined, tenantId: string | undefined, now: Date): row is KeyRow {
  return (
    !!row &&
    row.status === 'active' &&
    !isExpired(row.expires_at, now) &&
    (tenantId === undefined || row.tenant_id === tenantId)
  );
}

export function checkCredentials(
  ctx: LocalContext,
  input: VerifyInput,
  lookup: (accessKeyId: string) => KeyForVerification,
): VerifyResult {
  const now = ctx.now();
  const wellFormed = isAccessKeyId(input.accessKeyId) && isWellFormedSecret(input.secretKey);
  const found = wellFormed ? lookup(input.accessKeyId) : undefined;
  const row = found?.row;
  const matched = secretMatches(ctx, row, input.secretKey, now);
  if (!wellFormed || !matched || !usable(row, input.tenantId, now)) return { valid: false };
  const permissions = unlessTampered(() => found!.permissions());
  if (permissions === null) return { valid: false };
  ctx.recordUse(row.id, now.toISOString());
  return {
    valid: true,
    accessKeyId: row.id,
    tenantId: row.tenant_id,
    owner: row.owner_email,
    name: row.name,
    type: row.type,
    permissions,
    expiresAt: row.expires_at,
  };
}

/** An altered row (or role, or group) verifies as nothing: null. */
export function unlessTampered<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (error instanceof TamperedRecordError) return null;
    throw error;
  }
}

export function verifyKey(ctx: LocalContext, input: VerifyInput): VerifyResult {
  ctx.keys(); // arms the integrity checks before the key is read
  return checkCredentials(ctx, input, (id) => ({
    row: unlessTampered(() => getKeyById(ctx.db, id)),
    permissions: () => effectivePermissions(keyRoleGrants(ctx.db, id)),
  }));
}
