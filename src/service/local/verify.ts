/**
 * Checking presented credentials. Every path does the same work (one digest, two fixed-length
 * comparisons) and answers the same "not valid", whether the key is unknown, inactive,
 * expired, altered at rest (store/integrity.ts) or the secret wrong, so neither the answer nor
 * its timing tells them apart.
 * The server's cached fast path (server/verifyCache.ts) makes the same decision through
 * checkCredentials() with another lookup.
 */
import { timingSafeEqual } from 'node:crypto';
import { inBrownout, statusAt } from '../../core/brownout.js';
import { isAccessKeyId, isWellFormedSecret } from '../../core/credentials.js';
import { isExpired } from '../../core/expiry.js';
import { previousAccepted } from '../../core/grace.js';
import { requestSource } from '../../core/source.js';
import { effectivePermissions } from '../../core/permissions.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import { secretDigest } from '../../crypto/seal.js';
import { TamperedRecordError } from '../../store/integrity.js';
import { keyRoleGrants } from '../../store/keyAssignments.js';
import { getKeyById, type KeyRow } from '../../store/keys.js';
import { DeniedError } from '../../core/errors.js';
import type { VerifyExplanation, VerifyInput, VerifyResult } from '../types.js';
import { checking, type CanaryTrip, type LocalContext } from './context.js';
import { graceOf } from './keyState.js';

const DIGEST_BYTES = 32;
const PLACEHOLDER_ID = 'AKMAAAAAAAAAAAAAAAAA';
const PLACEHOLDER_DIGEST = Buffer.alloc(DIGEST_BYTES);

/** What a verification needs to know about a key, however it was looked up. */
export interface KeyForVerification {
  /** undefined: no key with this id; null: its row was altered at rest (it verifies as nothing) */
  row: KeyRow | null | undefined;
  /** null: a role or group on the way was altered at rest (the key verifies as nothing) */
  permissions: string[] | null;
}

function sameDigest(computed: Buffer, stored: Buffer | null | undefined): boolean {
  // A missing or damaged digest is compared against a placeholder, so the work stays the same.
  const candidate = stored && stored.length === DIGEST_BYTES ? stored : PLACEHOLDER_DIGEST;
  return timingSafeEqual(computed, candidate) && candidate !== PLACEHOLDER_DIGEST;
}

/**
 * Which of the key's secrets this is: the current one, or the previous one while its grace
 * lasts (core/grace.ts); null for neither. Both comparisons are always made.
 */
export function matchedSecret(
  keys: DerivedKeys,
  fallbackTenant: string,
  row: KeyRow | null | undefined,
  secret: string,
  now: Date,
): 'current' | 'previous' | null {
  const digest = secretDigest(keys, row?.tenant_id ?? fallbackTenant, row?.id ?? PLACEHOLDER_ID, secret);
  const inGrace = !!row && previousAccepted(graceOf(row), now);
  const current = sameDigest(digest, row?.secret_digest);
  const previous = sameDigest(digest, inGrace ? row?.previous_digest : null);
  if (!row) return null;
  return current ? 'current' : previous ? 'previous' : null;
}

/** The generation of the secret that matched: the current one's, or the one before. */
export function generationOf(row: KeyRow, matched: 'current' | 'previous'): number {
  return matched === 'current' ? row.secret_generation : row.secret_generation - 1;
}

/**
 * Is this row usable right now: active (a brownout over), unexpired, in the expected tenant,
 * and not a canary (which never authenticates)?
 */
export function usable(row: KeyRow | null | undefined, tenantId: string | undefined, now: Date): row is KeyRow {
  return (
    !!row &&
    row.canary !== 1 &&
    statusAt(row.status, row.inactive_until, now) === 'active' &&
    !isExpired(row.expires_at, now) &&
    (tenantId === undefined || row.tenant_id === tenantId)
  );
}

/** Where a verification came from: the client the server saw and its user agent (none for the CLI's own). */
export interface Origin {
  clientAddress: string | null;
  userAgent: string | null;
  path: CanaryTrip['path'];
}

const LOCAL: Origin = { clientAddress: null, userAgent: null, path: 'local' };

/**
 * The one decision, however the key was looked up. A valid answer records a use of the secret
 * that matched; the right secret on a key in a brownout records a refusal; any attempt on a
 * canary raises its alarm. All three are noted in memory (or, for the CLI, by a hook) after the
 * same work as any other answer, and a canary's answer is any invalid key's.
 */
export async function checkCredentials(
  ctx: LocalContext,
  input: VerifyInput,
  lookup: (accessKeyId: string) => KeyForVerification | Promise<KeyForVerification>,
  origin: Origin = LOCAL,
): Promise<VerifyResult> {
  const now = ctx.now();
  const at = now.toISOString();
  const keys = await ctx.loadKeys();
  const idOk = isAccessKeyId(input.accessKeyId);
  const wellFormed = idOk && isWellFormedSecret(input.secretKey);
  // A mistyped secret (its checksum fails) is refused before any lookup, a canary's too; any
  // well-formed secret, right or wrong, trips a canary.
  const found = wellFormed ? await lookup(input.accessKeyId) : undefined;
  const row = found?.row;
  const matched = wellFormed ? matchedSecret(keys, ctx.tenant.id, row, input.secretKey, now) : null;
  if (row && row.canary === 1) {
    const source = requestSource(origin.clientAddress, origin.userAgent, input.source);
    const trip = {
      accessKeyId: row.id,
      tenantId: row.tenant_id,
      at,
      source,
      path: origin.path,
      secretMatched: !!matched,
    };
    await ctx.onCanary(trip);
    return { valid: false };
  }
  if (!matched || !row) return { valid: false };
  const tenantOk = input.tenantId === undefined || row.tenant_id === input.tenantId;
  if (!usable(row, input.tenantId, now) || found.permissions === null) {
    if (tenantOk && inBrownout(row.status, row.inactive_until, now) && !isExpired(row.expires_at, now))
      await ctx.recordUse(use(row, matched, 'refused', at, origin, input));
    return { valid: false };
  }
  await ctx.recordUse(use(row, matched, 'use', at, origin, input));
  return {
    valid: true,
    accessKeyId: row.id,
    tenantId: row.tenant_id,
    owner: row.owner_email,
    name: row.name,
    type: row.type,
    permissions: found.permissions,
    expiresAt: row.expires_at,
  };
}

function use(
  row: KeyRow,
  matched: 'current' | 'previous',
  kind: 'use' | 'refused',
  at: string,
  origin: Origin,
  input: VerifyInput,
) {
  const source = requestSource(origin.clientAddress, origin.userAgent, input.source);
  return { accessKeyId: row.id, generation: generationOf(row, matched), kind, at, source };
}

/** An altered row (or role, or group) verifies as nothing: null. */
export async function unlessTampered<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TamperedRecordError) return null;
    throw error;
  }
}

/**
 * A key and its effective permissions, in one snapshot (what a verification needs), with the
 * keys loaded first so that the key, its owner, and every role and group on the way are checked.
 */
export function loadForVerification(ctx: LocalContext, accessKeyId: string): Promise<KeyForVerification> {
  return checking(ctx, async (s) => {
    const row = await unlessTampered(() => getKeyById(s.q, accessKeyId));
    if (!row) return { row, permissions: [] };
    return {
      row,
      permissions: await unlessTampered(async () => effectivePermissions(await keyRoleGrants(s.q, row.id))),
    };
  });
}

export function verifyKey(ctx: LocalContext, input: VerifyInput): Promise<VerifyResult> {
  return checkCredentials(ctx, input, (id) => loadForVerification(ctx, id));
}

type Problem = VerifyExplanation['problems'][number];

/**
 * For an administrator on a local store, who can read every key anyway: which of the checks
 * above failed. The uniform "not valid" stays the only answer anywhere else.
 */
export async function explainVerification(ctx: LocalContext, input: VerifyInput): Promise<VerifyExplanation> {
  if (!ctx.actor.admin)
    throw new DeniedError('permission denied: only tenant administrators may see why a key is not valid', {
      code: 'permission_denied',
    });
  const now = ctx.now();
  const keys = await ctx.loadKeys();
  const found = await checking(ctx, (s) => getKeyById(s.q, input.accessKeyId));
  // Another tenant's key is as unknown to this tenant's administrator as a key that does not exist.
  const row = found?.tenant_id === ctx.tenant.id ? found : undefined;
  const problems: Problem[] = [];
  if (!row) {
    problems.push({ kind: 'unknown', message: `unknown: no key ${input.accessKeyId} in tenant ${ctx.tenant.id}` });
    return { valid: false, accessKeyId: input.accessKeyId, problems };
  }
  if (input.tenantId !== undefined && input.tenantId !== row.tenant_id)
    problems.push({
      kind: 'other_tenant',
      message: `wrong tenant: the key string names tenant ${input.tenantId}, the key is in ${row.tenant_id}`,
    });
  if (!matchedSecret(keys, ctx.tenant.id, row, input.secretKey, now)) {
    const digest = secretDigest(keys, row.tenant_id, row.id, input.secretKey);
    const old = row.previous_digest?.length === DIGEST_BYTES && timingSafeEqual(digest, row.previous_digest);
    problems.push(
      old
        ? row.previous_valid_until
          ? {
              kind: 'old_secret',
              message: 'an old secret: its grace period after a rotation ended',
              at: row.previous_valid_until,
            }
          : { kind: 'old_secret', message: 'an old secret: replaced by a rotation without a grace period' }
        : { kind: 'wrong_secret', message: 'wrong secret: it is not the secret of this key' },
    );
  }
  if (row.canary === 1)
    problems.push({ kind: 'canary', message: 'a canary key: it never authenticates (and trying it raises the alarm)' });
  if (statusAt(row.status, row.inactive_until, now) === 'inactive')
    problems.push(
      row.inactive_until === null
        ? { kind: 'inactive', message: `inactive: last changed by ${row.modified_by}`, at: row.modified_at }
        : { kind: 'inactive', message: `inactive: a brownout by ${row.modified_by}, until`, at: row.inactive_until },
    );
  if (isExpired(row.expires_at, now)) problems.push({ kind: 'expired', message: 'expired', at: row.expires_at! });
  return { valid: problems.length === 0, accessKeyId: row.id, problems };
}
