/**
 * Dates as people read them: the local date and time (`2027-06-30 23:59`) and, beside it where
 * it helps, how far away that is ("in 3 days"). Synchronous and dependency-free, so no command
 * has to prepare anything before it prints a date.
 */
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2027-06-30 23:59` (or `…23:59:07` with seconds) in the local time zone. */
export function localDateTime(date: Date, seconds = false): string {
  const day = `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}${seconds ? `:${pad(date.getSeconds())}` : ''}`;
  return `${day} ${time}`;
}

/**
 * The moment to show for an expiry. A key valid through a whole day expires at the next local
 * midnight; people read "2027-07-01 00:00" as the wrong day, so it shows as the last minute of
 * the day it is valid through: `2027-06-30 23:59`.
 */
export function expiryMoment(date: Date): Date {
  const midnight =
    date.getHours() === 0 && date.getMinutes() === 0 && date.getSeconds() === 0 && date.getMilliseconds() === 0;
  return midnight ? new Date(date.getTime() - 1) : date;
}

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 1000],
  ['minute', 60_000],
  ['hour', 3_600_000],
  ['day', 86_400_000],
  ['month', 30.44 * 86_400_000],
  ['year', 365.25 * 86_400_000],
];
/**
 * Below each limit its unit is used: just short of the next unit, so 59.8 minutes reads "in 1 hour",
 * not "in 60 minutes".
 */
const LIMITS = [59_500, 59.5 * 60_000, 23.5 * 3_600_000, 29.5 * 86_400_000, 11.5 * 30.44 * 86_400_000, Infinity];

let relativeFormat: Intl.RelativeTimeFormat | undefined;

/** "in 3 days", "2 hours ago", "now": the largest unit that still gives a whole number. */
export function relativeTime(date: Date, now: Date): string {
  relativeFormat ??= new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const diff = date.getTime() - now.getTime();
  const size = Math.abs(diff);
  if (size < 45_000) return diff >= 0 ? 'in a moment' : 'just now';
  const index = LIMITS.findIndex((limit) => size < limit);
  const [unit, ms] = STEPS[index]!;
  return relativeFormat.format(Math.round(diff / ms), unit);
}
