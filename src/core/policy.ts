/**
 * A tenant's lifetime policy, pure: what it allows, which keys break it and why, and when the
 * reminders before its enforcement are due. The service keeps the policy in the store and asks
 * here; create and extend, the dry run, the report and `policy apply --cap` all judge a key the
 * same way.
 *
 * Lifetime is counted from now: a key breaks a maximum lifetime of N days when it expires more
 * than N days from now (extending sets a new expiry from now, so a key's age says nothing about
 * how long it will still work).
 */
import { UsageError } from './errors.js';
import { MAX_DAYS, parseDays, parseInstant } from './expiry.js';

const DAY_MS = 86_400_000;

export const NEVER_EXPIRES_RULES = ['admins', 'nobody'] as const;
/** who may give a key no expiry: administrators (the default), or nobody */
export type NeverExpiresRule = (typeof NEVER_EXPIRES_RULES)[number];

export interface LifetimePolicy {
  maxLifetimeDays: number | null;
  neverExpires: NeverExpiresRule;
  /** a secret older than this is a finding (rotate it) */
  rotateEveryDays: number | null;
  /** from this instant create and extend beyond the policy are refused; before it they warn. Null: no policy set */
  enforceOn: string | null;
}

/** What a tenant has before anyone sets a policy: no limits beyond the authorization rule. */
export const NO_POLICY: LifetimePolicy = {
  maxLifetimeDays: null,
  neverExpires: 'admins',
  rotateEveryDays: null,
  enforceOn: null,
};

/** A change to the policy: what is absent keeps its value; null lifts a limit. */
export interface PolicyChanges {
  maxLifetimeDays?: number | null;
  neverExpires?: NeverExpiresRule;
  rotateEveryDays?: number | null;
  /** an ISO-8601 instant, or "now"; absent: the staged date stays (now, when none was set) */
  enforceOn?: string;
}

export type ViolationReason = 'lifetime_exceeded' | 'never_expires' | 'secret_too_old';

export interface Violation {
  reason: ViolationReason;
  message: string;
}

function dayCount(value: unknown, field: string): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DAYS)
    throw new UsageError(`${field} must be a whole number of days from 1 to ${MAX_DAYS}`);
}

function enforcementInstant(text: string, now: Date): Date {
  if (text === 'now') return now;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`the enforcement date "${text.slice(0, 40)}" is not an ISO-8601 instant, or now`);
  return at;
}

/** Not before `now` (a past date would read as a typo), at most 10 years ahead; `named` is how the error calls it. */
function checkEnforcementInstant(at: Date, now: Date, named: string): void {
  if (at.getTime() < now.getTime())
    throw new UsageError(`${named} is in the past`, {
      hint: 'leave it out, or say now, to enforce the policy at once',
    });
  if (at.getTime() > now.getTime() + MAX_DAYS * DAY_MS) throw new UsageError(`${named} is more than 10 years away`);
}

/**
 * The policy after `changes`, checked. `now` is when it is set: an enforcement date must not lie
 * before it (a past date would read as a typo), and "now" means exactly then.
 */
export function mergePolicy(current: LifetimePolicy, changes: PolicyChanges, now: Date): LifetimePolicy {
  dayCount(changes.maxLifetimeDays, 'the maximum lifetime');
  dayCount(changes.rotateEveryDays, 'the rotation period');
  if (changes.neverExpires !== undefined && !NEVER_EXPIRES_RULES.includes(changes.neverExpires))
    throw new UsageError('never-expires must be admins or nobody');
  let enforceOn = current.enforceOn ?? now.toISOString();
  if (changes.enforceOn !== undefined) {
    const at = enforcementInstant(changes.enforceOn, now);
    checkEnforcementInstant(at, now, `the enforcement date ${at.toISOString()}`);
    enforceOn = at.toISOString();
  }
  return {
    maxLifetimeDays: changes.maxLifetimeDays === undefined ? current.maxLifetimeDays : changes.maxLifetimeDays,
    neverExpires: changes.neverExpires ?? current.neverExpires,
    rotateEveryDays: changes.rotateEveryDays === undefined ? current.rotateEveryDays : changes.rotateEveryDays,
    enforceOn,
  };
}

export function isEnforced(policy: LifetimePolicy, now: Date): boolean {
  return policy.enforceOn !== null && Date.parse(policy.enforceOn) <= now.getTime();
}

/** The latest expiry the policy allows for a key given one now; null: no limit. */
export function latestAllowedExpiry(policy: LifetimePolicy, now: Date): Date | null {
  return policy.maxLifetimeDays === null ? null : new Date(now.getTime() + policy.maxLifetimeDays * DAY_MS);
}

/** Does an expiry set now break the policy? Never-expiring keys only under `nobody`. */
export function expiryViolation(policy: LifetimePolicy, expiresAt: Date | null, now: Date): Violation | null {
  if (expiresAt === null)
    return policy.neverExpires === 'nobody'
      ? { reason: 'never_expires', message: 'the tenant policy allows no key that never expires' }
      : null;
  const latest = latestAllowedExpiry(policy, now);
  if (latest !== null && expiresAt.getTime() > latest.getTime())
    return {
      reason: 'lifetime_exceeded',
      message:
        `the tenant policy allows keys valid for at most ${policy.maxLifetimeDays} days ` +
        `(until ${latest.toISOString()})`,
    };
  return null;
}

export type ExpiryVerdict = { kind: 'ok' } | { kind: 'warn' | 'refuse'; violation: Violation };

/** For create and extend: fine, allowed with a warning before the enforcement date, or refused from it on. */
export function judgeExpiry(policy: LifetimePolicy, expiresAt: Date | null, now: Date): ExpiryVerdict {
  const violation = expiryViolation(policy, expiresAt, now);
  if (violation === null) return { kind: 'ok' };
  return { kind: isEnforced(policy, now) ? 'refuse' : 'warn', violation };
}

/** The warning given before enforcement: the limit and the date from which it is refused. */
export function stagedWarning(policy: LifetimePolicy, violation: Violation): string {
  return `${violation.message}; allowed until the policy is enforced on ${policy.enforceOn ?? 'a date not set'}`;
}

export interface PolicyKeyFacts {
  expiresAt: string | null;
  secretCreatedAt: string;
}

/** Has the secret outlived the rotation period? A key that has expired no longer counts. */
export function secretTooOld(policy: LifetimePolicy, key: PolicyKeyFacts, now: Date): boolean {
  if (policy.rotateEveryDays === null) return false;
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now.getTime()) return false;
  return now.getTime() - Date.parse(key.secretCreatedAt) > policy.rotateEveryDays * DAY_MS;
}

/** Every way an existing key breaks the policy, in a fixed order. */
export function keyViolations(policy: LifetimePolicy, key: PolicyKeyFacts, now: Date): Violation[] {
  const found: Violation[] = [];
  const expiry = expiryViolation(policy, key.expiresAt === null ? null : new Date(key.expiresAt), now);
  if (expiry) found.push(expiry);
  if (secretTooOld(policy, key, now))
    found.push({
      reason: 'secret_too_old',
      message: `the secret is older than the ${policy.rotateEveryDays} days after which the policy asks for a rotation`,
    });
  return found;
}

/**
 * The expiry `policy apply --cap` gives a key that outlives the policy: the latest the policy
 * allows, or, for a never-expiring key under `nobody` with no maximum lifetime, the longest
 * expiry akm gives at all (10 years). Null: the key needs no cap.
 */
export function cappedExpiry(policy: LifetimePolicy, expiresAt: string | null, now: Date): Date | null {
  const violation = expiryViolation(policy, expiresAt === null ? null : new Date(expiresAt), now);
  if (violation === null) return null;
  return latestAllowedExpiry(policy, now) ?? new Date(now.getTime() + MAX_DAYS * DAY_MS);
}

/** Reminders before enforcement, in days before it. */
export const REMINDER_DAYS = [30, 7] as const;
export type ReminderDays = (typeof REMINDER_DAYS)[number];

/**
 * Which reminder the hourly job sends now. A reminder is due from its day on, until enforcement,
 * if the date lay that far ahead when the policy was set, and if it has not been sent. When the
 * job missed one (the server was down), only the nearest is sent and the missed ones are settled
 * with it: one message, not two at once.
 */
export function dueReminder(
  policy: LifetimePolicy,
  setAt: string,
  now: Date,
  sent: readonly number[],
): { send: ReminderDays | null; settle: ReminderDays[] } {
  if (policy.enforceOn === null) return { send: null, settle: [] };
  const enforceAt = Date.parse(policy.enforceOn);
  if (now.getTime() >= enforceAt) return { send: null, settle: [] };
  const due = REMINDER_DAYS.filter((days) => {
    const milestone = enforceAt - days * DAY_MS;
    return !sent.includes(days) && Date.parse(setAt) < milestone && now.getTime() >= milestone;
  });
  if (due.length === 0) return { send: null, settle: [] };
  return { send: Math.min(...due) as ReminderDays, settle: due };
}

/** `--max-lifetime 90`, or `none` to lift the limit. */
export function parseDaysOrNone(text: string, flag: string): number | null {
  return String(text).trim().toLowerCase() === 'none' ? null : parseDays(text, flag);
}

/**
 * `--enforce-on`: `now`, `30d` (that many days from now), a date (from the start of that local
 * day) or an ISO timestamp. Checked here against `now` too (the service checks again), so that a
 * refusal names the flag and what was typed.
 */
export function parseEnforceOn(text: string, now: Date, flag = '--enforce-on'): string {
  const value = String(text).trim();
  if (value.toLowerCase() === 'now') return 'now';
  const at = enforcementStart(value, now, flag);
  checkEnforcementInstant(at, now, `${flag} ${value.slice(0, 40)}`);
  return at.toISOString();
}

function enforcementStart(value: string, now: Date, flag: string): Date {
  const days = /^(\d{1,4})d$/i.exec(value);
  if (days) return new Date(now.getTime() + Number(days[1]) * DAY_MS);
  const at = parseInstant(value, flag);
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  // parseInstant reads a bare date as valid through that day; enforcement starts at its first moment.
  return date ? new Date(Number(date[1]), Number(date[2]) - 1, Number(date[3])) : at;
}
