/**
 * Telling the people whose keys break the lifetime policy: a bell and an e-mail (through the
 * outbox, delivered by the mail job) when the policy is set, and again 30 and 7 days before it
 * is enforced. The reminders are planned by the hourly mail job, once per policy version and
 * reminder, under the tenant's write lock like the expiry notices.
 */
import { dueReminder, type LifetimePolicy } from '../../core/policy.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import {
  keyCount,
  LISTED_KEYS,
  policyBell,
  policyRecipients,
  type PolicyNoticePayload,
  type PolicyOccasion,
} from '../../notify/policyMessage.js';
import { insertNotification } from '../../store/notifications.js';
import * as outbox from '../../store/outbox.js';
import { groupMemberEmails } from '../../store/people.js';
import * as policies from '../../store/policies.js';
import type { PolicyViolation } from '../types.js';
import type { Scope } from './context.js';
import { policyOf, violationsOf } from './policyCheck.js';

export const POLICY_KIND = 'policy.notice';

export interface PlannedNotice {
  recipient: string;
  payload: PolicyNoticePayload;
  /** the outbox row's subject: what it is about and on which occasion */
  about: string;
}

/** Who hears what: each owner about their keys, each administrator about all, never the actor. */
export async function planNotices(
  s: Scope,
  notice: { policy: LifetimePolicy; version: number; occasion: PolicyOccasion; violations: PolicyViolation[] },
): Promise<PlannedNotice[]> {
  const administrators = await groupMemberEmails(s.q, s.tenant.id, BUILTIN_GROUP);
  // The person who sets a policy has just seen the list; a reminder goes to everyone.
  const actor = notice.occasion === 'set' ? s.actor.label : '';
  return policyRecipients(notice.violations, administrators, actor).map((n) => {
    const listed = new Set([...new Set(n.keys.map((k) => k.accessKeyId))].slice(0, LISTED_KEYS));
    return {
      recipient: n.recipient,
      about: `policy:v${notice.version}:${notice.occasion}`,
      payload: {
        tenantId: s.tenant.id,
        tenantName: s.tenant.name,
        occasion: notice.occasion,
        policy: notice.policy,
        reason: n.reason,
        keys: n.keys.filter((k) => listed.has(k.accessKeyId)),
        total: keyCount(n.keys),
      },
    };
  });
}

/** The bells now and the mail into the outbox, in the caller's write transaction. Returns the outbox ids. */
export async function queueNotices(s: Scope, planned: PlannedNotice[]): Promise<number[]> {
  const now = s.now();
  const at = now.toISOString();
  const ids: number[] = [];
  for (const { recipient, payload, about } of planned) {
    await insertNotification(s.q, recipient, {
      tenantId: s.tenant.id,
      at,
      action: POLICY_KIND,
      keyId: null,
      keyName: null,
      actor: s.actor.label,
      message: policyBell(payload, s.actor.label, now),
    });
    const id = await outbox.enqueueMail(s.q, {
      tenantId: s.tenant.id,
      kind: POLICY_KIND,
      keyId: about,
      expiresAt: payload.policy.enforceOn!,
      recipient,
      payload: JSON.stringify(payload),
      at,
    });
    if (id !== null) ids.push(id);
  }
  return ids;
}

/** When the policy is set: everyone whose keys break it hears of it. */
export async function tellPolicyBreakers(
  s: Scope,
  notice: { policy: LifetimePolicy; version: number; occasion: PolicyOccasion; violations: PolicyViolation[] },
): Promise<number[]> {
  return queueNotices(s, await planNotices(s, notice));
}

/**
 * The reminder due now, if any: planned (and, unless `dryRun`, queued and settled) by the mail
 * job. A reminder with no key left to tell about is settled all the same.
 */
export async function remindPolicy(s: Scope, dryRun: boolean): Promise<{ planned: PlannedNotice[]; ids: number[] }> {
  const row = await policies.getPolicy(s.q, s.tenant.id);
  if (!row) return { planned: [], ids: [] };
  const policy = policyOf(row);
  const sent = JSON.parse(row.reminded) as number[];
  const due = dueReminder(policy, row.set_at, s.now(), sent);
  if (due.send === null) return { planned: [], ids: [] };
  const violations = await violationsOf(s, policy);
  const planned = await planNotices(s, { policy, version: row.version, occasion: due.send, violations });
  if (dryRun) return { planned, ids: [] };
  const ids = await queueNotices(s, planned);
  await policies.markReminded(s.q, s.tenant.id, row.version, [...new Set([...sent, ...due.settle])]);
  return { planned, ids };
}
