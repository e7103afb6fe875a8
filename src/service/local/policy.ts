/**
 * The tenant's lifetime policy on the local store: read, set (telling the people whose keys
 * break it), applied by capping, and judged when a key is created or extended.
 */
import { cappedExpiry, mergePolicy, type LifetimePolicy, type PolicyChanges } from '../../core/policy.js';
import * as keysTable from '../../store/keys.js';
import * as policies from '../../store/policies.js';
import type { BulkResult, KeyChange, PolicyPreview } from '../types.js';
import { authorize } from './authorize.js';
import { recordChange } from './changes.js';
import { checking, keyStatus, writing, type LocalContext, type Scope, type WriteScope } from './context.js';
import { currentPolicy, policyCandidates, policyOf, violationsOf } from './policyCheck.js';
import { tellPolicyBreakers } from './policyNotices.js';

export function getPolicy(ctx: LocalContext): Promise<LifetimePolicy> {
  authorize(ctx, { operation: 'policy.show' });
  return checking(ctx, (s) => currentPolicy(s.q, s.tenant.id));
}

export function setPolicy(
  ctx: LocalContext,
  changes: PolicyChanges,
  options: { dryRun: boolean },
): Promise<PolicyPreview> {
  authorize(ctx, { operation: 'policy.set' });
  const work = async (s: Scope) => {
    const before = await policies.getPolicy(s.q, s.tenant.id);
    const policy = mergePolicy(policyOf(before), changes, s.now());
    return { before, policy, violations: await violationsOf(s, policy) };
  };
  if (options.dryRun)
    return checking(ctx, async (s) => {
      const { policy, violations } = await work(s);
      return { policy, violations };
    });
  return writing(ctx, async (s) => {
    const { before, policy, violations } = await work(s);
    const at = s.now().toISOString();
    const version = await policies.putPolicy(s.q, {
      tenant_id: s.tenant.id,
      max_lifetime_days: policy.maxLifetimeDays,
      never_expires: policy.neverExpires,
      rotate_every_days: policy.rotateEveryDays,
      enforce_on: policy.enforceOn!,
      set_at: at,
      set_by: s.actor.label,
    });
    await recordChange(s, {
      action: 'policy.set',
      target: null,
      details: { version, from: before ? policyOf(before) : null, to: policy, violations: violations.length },
    });
    await tellPolicyBreakers(s, { policy, version, occasion: 'set', violations });
    return { policy, violations };
  });
}

/** The keys `policy apply --cap` shortens, with their new expiry. */
async function capPlan(s: Scope): Promise<Array<{ row: keysTable.ListedKeyRow; to: string }>> {
  const policy = await currentPolicy(s.q, s.tenant.id);
  const now = s.now();
  const rows = await policyCandidates(s, policy, now, false);
  return rows.flatMap((row) => {
    const to = cappedExpiry(policy, row.expires_at, now);
    return to === null ? [] : [{ row, to: to.toISOString() }];
  });
}

export function applyPolicy(ctx: LocalContext, options: { dryRun: boolean }): Promise<BulkResult> {
  authorize(ctx, { operation: 'policy.apply' });
  const change = (s: Scope, row: keysTable.ListedKeyRow, to: string): KeyChange => {
    const status = keyStatus(row, s.now());
    return {
      accessKeyId: row.id,
      name: row.name,
      owner: row.owner_email,
      from: { status, expiresAt: row.expires_at },
      to: { status, expiresAt: to },
      changed: true,
    };
  };
  if (options.dryRun)
    return checking(ctx, async (s) => ({
      action: 'cap',
      dryRun: true,
      keys: (await capPlan(s)).map(({ row, to }) => change(s, row, to)),
      warnings: [],
    }));
  return writing(ctx, async (s: WriteScope) => {
    const keys: KeyChange[] = [];
    const at = s.now().toISOString();
    for (const { row, to } of await capPlan(s)) {
      // Checked as it is read: a key whose row was altered is not capped but refused (exit 6).
      const before = (await keysTable.getKey(s.q, s.tenant.id, row.id))!;
      await keysTable.updateExpiry(s.q, row.id, to, at, s.actor.label);
      await recordChange(s, {
        action: 'key.extend',
        target: row.id,
        details: { name: row.name, from: row.expires_at, to, by: 'policy apply --cap' },
        key: before,
      });
      keys.push(change(s, row, to));
    }
    return { action: 'cap', dryRun: false, keys, warnings: [] };
  });
}
