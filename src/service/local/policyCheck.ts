/**
 * The lifetime policy as the local service judges keys by it: the tenant's policy read from the
 * store, the keys that break it, and the verdict on an expiry given by create or extend.
 */
import { ConflictError } from '../../core/errors.js';
import {
  judgeExpiry,
  keyViolations,
  latestAllowedExpiry,
  NO_POLICY,
  stagedWarning,
  type LifetimePolicy,
} from '../../core/policy.js';
import * as keyListing from '../../store/keyListing.js';
import type * as keysTable from '../../store/keys.js';
import type * as policies from '../../store/policies.js';
import { getPolicy } from '../../store/policies.js';
import type { Queryable } from '../../store/types.js';
import type { PolicyViolation } from '../types.js';
import type { Scope } from './context.js';

const DAY_MS = 86_400_000;

export function policyOf(row: policies.PolicyRow | undefined): LifetimePolicy {
  if (!row) return NO_POLICY;
  return {
    maxLifetimeDays: row.max_lifetime_days,
    neverExpires: row.never_expires,
    rotateEveryDays: row.rotate_every_days,
    enforceOn: row.enforce_on,
  };
}

export async function currentPolicy(q: Queryable, tenantId: string): Promise<LifetimePolicy> {
  return policyOf(await getPolicy(q, tenantId));
}

/**
 * Create and extend: an expiry beyond the policy is refused once it is enforced (exit 4, the
 * message states the limit) and allowed with a warning before. Returns the warnings.
 */
export async function judgeNewExpiry(s: Scope, expiresAt: string | null): Promise<string[]> {
  const policy = await currentPolicy(s.q, s.tenant.id);
  const verdict = judgeExpiry(policy, expiresAt === null ? null : new Date(expiresAt), s.now());
  if (verdict.kind === 'ok') return [];
  if (verdict.kind === 'warn') return [stagedWarning(policy, verdict.violation)];
  throw new ConflictError(verdict.violation.message, {
    hint:
      verdict.violation.reason === 'never_expires'
        ? 'give the key an expiry (akm policy show)'
        : `choose an expiry within ${policy.maxLifetimeDays} days (akm policy show)`,
    code: 'policy_violation',
  });
}

/**
 * The keys that may break `policy`'s expiry rules (and, with `secrets`, its rotation rule):
 * the store narrows the scan, the caller judges each row.
 */
export function policyCandidates(
  s: Scope,
  policy: LifetimePolicy,
  now: Date,
  secrets: boolean,
): Promise<keysTable.ListedKeyRow[]> {
  return keyListing.policyCandidates(s.q, {
    tenantId: s.tenant.id,
    now: now.toISOString(),
    latest: latestAllowedExpiry(policy, now)?.toISOString(),
    neverToo: policy.neverExpires === 'nobody',
    secretBefore:
      !secrets || policy.rotateEveryDays === null
        ? undefined
        : new Date(now.getTime() - policy.rotateEveryDays * DAY_MS).toISOString(),
  });
}

/** Every key of the tenant that breaks `policy`, once per reason, oldest key first. */
export async function violationsOf(s: Scope, policy: LifetimePolicy): Promise<PolicyViolation[]> {
  const now = s.now();
  const rows = await policyCandidates(s, policy, now, true);
  return rows.flatMap((row) =>
    keyViolations(
      policy,
      { expiresAt: row.expires_at, secretCreatedAt: row.secret_created_at ?? row.created_at },
      now,
    ).map((v) => ({
      accessKeyId: row.id,
      name: row.name,
      owner: row.owner_email,
      expiresAt: row.expires_at,
      reason: v.reason,
    })),
  );
}
