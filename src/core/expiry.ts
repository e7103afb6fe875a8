/**
 * Expiry arithmetic, pure: every function takes `now` and returns an instant or throws a
 * UsageError. Nothing here may yield a past expiry from an input it accepts.
 *
 * - days: whole 24-hour periods from now (DST cannot shorten them: the arithmetic is in UTC).
 * - a bare date (YYYY-MM-DD): valid through that whole calendar day in the given time zone
 *   offset source, i.e. expiring at the next local midnight.
 * - an ISO timestamp: that instant (a timestamp without offset is local time).
 */
import { DAY_MS, parseDurationFlag } from './duration.js';
import { UsageError } from './errors.js';

export const MAX_DAYS = 3650;
export const MAX_GRACE_MS = 30 * DAY_MS;

export type ExpiryChoice =
  | { kind: 'days'; days: number }
  /** `input`: what the person typed ("--expires-on 2027-06-30"), so a refusal names it and not the instant it meant */
  | { kind: 'until'; at: Date; input?: string }
  | { kind: 'never' };

/** Parse a day count typed by a person: a whole number from 1 to MAX_DAYS. */
export function parseDays(text: string, flag = '--expires-in'): number {
  const trimmed = String(text).trim();
  if (!/^\+?\d+$/.test(trimmed)) {
    throw new UsageError(`${flag} needs a whole number of days, got "${trimmed.slice(0, 40)}"`, {
      hint: `e.g. ${flag} 90`,
    });
  }
  const days = Number(trimmed);
  if (days < 1) throw new UsageError(`${flag} must be at least 1 day, got ${trimmed}`);
  if (days > MAX_DAYS) {
    throw new UsageError(`${flag} ${days} is more than ${MAX_DAYS} days (10 years)`, {
      hint: 'use --never-expires for a key without expiry',
    });
  }
  return days;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function checkCalendarDate(y: number, m: number, d: number, text: string, flag: string): void {
  const probe = new Date(Date.UTC(y, m - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) {
    throw new UsageError(`${flag}: "${text}" is not a real calendar date`);
  }
}

/** Parse a date or ISO timestamp into an instant; does not check that it lies ahead. */
export function parseInstant(text: string, flag = '--expires-on'): Date {
  const value = String(text).trim();
  const date = DATE_ONLY.exec(value);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    checkCalendarDate(y, m, d, value, flag);
    // Local midnight after the named day: the key stays valid for all of that day.
    return new Date(y, m - 1, d + 1, 0, 0, 0, 0);
  }
  const ts = TIMESTAMP.exec(value);
  if (ts) {
    const [y, mo, d, h, mi] = [1, 2, 3, 4, 5].map((i) => Number(ts[i]));
    const s = ts[6] ? Number(ts[6]) : 0;
    checkCalendarDate(y!, mo!, d!, value, flag);
    if (h! > 23 || mi! > 59 || s > 59) throw new UsageError(`${flag}: "${value}" is not a real time of day`);
    const at = ts[8]
      ? new Date(value.replace(' ', 'T'))
      : new Date(y!, mo! - 1, d, h, mi, s, Math.floor(Number(ts[7] ?? 0) * 1000));
    if (Number.isNaN(at.getTime())) throw new UsageError(`${flag}: cannot read "${value}" as a date`);
    return at;
  }
  throw new UsageError(`${flag}: cannot read "${value.slice(0, 40)}" as a date`, {
    hint: 'use YYYY-MM-DD or an ISO timestamp such as 2027-01-31T12:00:00Z',
  });
}

/** The instant a choice means, checked to lie ahead of now and within 10 years. */
export function resolveExpiry(choice: ExpiryChoice, now: Date): Date | null {
  if (choice.kind === 'never') return null;
  if (choice.kind === 'days') {
    if (!Number.isInteger(choice.days) || choice.days < 1 || choice.days > MAX_DAYS) {
      throw new UsageError(`days must be a whole number from 1 to ${MAX_DAYS}`);
    }
    return new Date(now.getTime() + choice.days * DAY_MS);
  }
  const at = choice.at;
  if (Number.isNaN(at.getTime())) throw new UsageError('invalid expiry date');
  const named = choice.input ?? `the expiry ${at.toISOString()}`;
  if (at.getTime() <= now.getTime()) {
    throw new UsageError(`${named} is in the past`, { hint: 'choose a date after today' });
  }
  if (at.getTime() > now.getTime() + MAX_DAYS * DAY_MS) {
    throw new UsageError(`${named} is more than 10 years away`, {
      hint: 'use --never-expires for a key without expiry',
    });
  }
  return at;
}

/**
 * Turn the three mutually exclusive expiry flags into a choice. Returns undefined when none
 * was given, so the caller can prompt or fail with a usage error: there is no silent default.
 */
export function expiryFromFlags(
  flags: { expiresIn?: string; expiresOn?: string; neverExpires?: boolean },
  names = {
    in: '--expires-in',
    on: '--expires-on',
    never: '--never-expires',
  },
): ExpiryChoice | undefined {
  const given = [flags.expiresIn !== undefined, flags.expiresOn !== undefined, flags.neverExpires === true].filter(
    Boolean,
  ).length;
  if (given > 1) throw new UsageError(`${names.in}, ${names.on} and ${names.never} are mutually exclusive`);
  if (flags.expiresIn !== undefined) return { kind: 'days', days: parseDays(flags.expiresIn, names.in) };
  if (flags.expiresOn !== undefined)
    return {
      kind: 'until',
      at: parseInstant(flags.expiresOn, names.on),
      input: `${names.on} ${flags.expiresOn.trim().slice(0, 40)}`,
    };
  if (flags.neverExpires) return { kind: 'never' };
  return undefined;
}

/** "90s", "15m", "1h30m", "2d": a grace period, at most 30 days. */
export function parseDuration(text: string): number {
  return parseDurationFlag(text, '--grace', { minMs: 1, maxMs: MAX_GRACE_MS });
}

export function isExpired(expiresAt: string | null, now: Date): boolean {
  return expiresAt !== null && Date.parse(expiresAt) <= now.getTime();
}
