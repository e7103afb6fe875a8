/**
 * What the people whose keys break a lifetime policy are told, pure: who hears about which keys,
 * the bell message and the e-mail. Owners hear about their own keys, administrators about every
 * key; the person who set the policy has just seen the list and is not told again. Names are
 * neutralised; no secret is ever part of it.
 */
import type { LifetimePolicy, ViolationReason } from '../core/policy.js';
import { printable } from '../core/validate.js';
import { relativeTo, utcMinute, type RenderedMail } from './expiryMessage.js';
import { isPersonLabel, sameLabel, uniquePeople } from './recipients.js';

/** When the notice goes out: when the policy is set, or so many days before it is enforced. */
export type PolicyOccasion = 'set' | 30 | 7;

export interface BreakingKey {
  accessKeyId: string;
  name: string;
  owner: string | null;
  expiresAt: string | null;
  reason: ViolationReason;
}

/** A mail lists at most this many keys; the rest are counted. */
export const LISTED_KEYS = 50;

export interface PolicyNotice {
  recipient: string;
  reason: 'owner' | 'administrator';
  keys: BreakingKey[];
}

export interface PolicyNoticePayload {
  tenantId: string;
  tenantName: string;
  occasion: PolicyOccasion;
  policy: LifetimePolicy;
  reason: PolicyNotice['reason'];
  /** the first LISTED_KEYS keys the reader hears about, one entry per key and reason */
  keys: BreakingKey[];
  /** how many keys the reader hears about */
  total: number;
}

/** Each owner about their keys, each administrator about all of them; never `actor`. */
export function policyRecipients(breaking: BreakingKey[], administrators: string[], actor: string): PolicyNotice[] {
  if (breaking.length === 0) return [];
  const admins = uniquePeople(administrators);
  const notices: PolicyNotice[] = admins.map((recipient) => ({ recipient, reason: 'administrator', keys: breaking }));
  for (const owner of uniquePeople(breaking.map((k) => k.owner))) {
    if (admins.some((a) => sameLabel(a, owner))) continue;
    notices.push({ recipient: owner, reason: 'owner', keys: breaking.filter((k) => sameLabel(k.owner, owner)) });
  }
  return notices.filter((n) => isPersonLabel(n.recipient) && !sameLabel(n.recipient, actor));
}

export function keyCount(keys: BreakingKey[]): number {
  return new Set(keys.map((k) => k.accessKeyId)).size;
}

/** "keys valid for at most 90 days, no key without an expiry, secrets rotated every 180 days" */
export function describePolicy(policy: LifetimePolicy): string {
  const rules = [
    policy.maxLifetimeDays === null ? null : `keys valid for at most ${policy.maxLifetimeDays} days`,
    policy.neverExpires === 'nobody' ? 'no key without an expiry' : null,
    policy.rotateEveryDays === null ? null : `secrets rotated every ${policy.rotateEveryDays} days`,
  ].filter((r): r is string => r !== null);
  return rules.length > 0 ? rules.join(', ') : 'no limits';
}

const REASONS: Record<ViolationReason, string> = {
  lifetime_exceeded: 'valid for longer than the policy allows',
  never_expires: 'never expires',
  secret_too_old: 'its secret is due for rotation',
};

function when(occasion: PolicyOccasion, enforceOn: string, now: Date): string {
  const date = utcMinute(enforceOn);
  if (occasion === 'set')
    return Date.parse(enforceOn) <= now.getTime()
      ? `enforced from now (${date})`
      : `enforced from ${date}, ${relativeTo(enforceOn, now)}`;
  return `enforced in ${occasion} days, from ${date}`;
}

function whose(p: PolicyNoticePayload): string {
  const n = p.total;
  return p.reason === 'owner'
    ? `${n} of your keys ${n === 1 ? 'breaks' : 'break'} it`
    : `${n} keys of the tenant break it`;
}

/** The bell: one line, the first keys named. */
export function policyBell(p: PolicyNoticePayload, actor: string, now: Date): string {
  const named = [...new Map(p.keys.map((k) => [k.accessKeyId, k])).values()]
    .slice(0, 3)
    .map((k) => `"${printable(k.name, 64)}" (${k.accessKeyId})`);
  const more = p.total > named.length ? ` and ${p.total - named.length} more` : '';
  const policy = describePolicy(p.policy);
  const enforced = when(p.occasion, p.policy.enforceOn!, now);
  const opening =
    p.occasion === 'set'
      ? `${actor} set the key lifetime policy (${policy}; ${enforced})`
      : `The key lifetime policy (${policy}) is ${enforced}`;
  return `${opening}: ${whose(p)}: ${named.join(', ')}${more}`;
}

export function renderPolicyMail(p: PolicyNoticePayload, now: Date): RenderedMail {
  const subject =
    p.occasion === 'set'
      ? `[akm] A new key lifetime policy in tenant ${p.tenantId}: ${whose(p)}`
      : `[akm] The key lifetime policy of tenant ${p.tenantId} is enforced in ${p.occasion} days: ${whose(p)}`;
  const listed = p.keys.map(
    (k) =>
      `  ${k.accessKeyId}  "${printable(k.name, 64)}"  ${k.owner ? printable(k.owner) : '(tenant-level)'}  ` +
      `expires ${k.expiresAt ? utcMinute(k.expiresAt) : 'never'}: ${REASONS[k.reason]}`,
  );
  const unlisted = p.total - keyCount(p.keys);
  const lines = [
    `Tenant ${printable(p.tenantName, 64)} (${p.tenantId}) has a key lifetime policy: ${describePolicy(p.policy)}.`,
    `It is ${when(p.occasion, p.policy.enforceOn!, now)}. From then on, keys cannot be created or extended`,
    'beyond it. Existing keys are not changed by the policy itself; these break it:',
    '',
    ...listed,
    ...(unlisted > 0 ? [`  … and ${unlisted} more (akm report --format csv lists them all)`] : []),
    '',
    'To bring a key within the policy, give it a shorter expiry (akm extend <key> --days N) or',
    'rotate its secret (akm rotate <key>). Administrators can cap every such key at once:',
    'akm policy apply --cap.',
    '',
    p.reason === 'owner'
      ? 'You receive this because these are your keys.'
      : 'You receive this because you are a member of Administrators.',
    '',
    '-- ',
    'akm',
    '',
  ];
  return { subject, text: lines.join('\n') };
}
