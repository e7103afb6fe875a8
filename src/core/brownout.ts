/**
 * Brownouts ("scream tests"), pure: a key deactivated for a while, to see what breaks before it
 * is deleted. The store keeps only when the brownout ends (`inactiveUntil`); whether the key is
 * inactive now is derived from it on every read, so it comes back by itself with no job running.
 */
import { DAY_MS, describeDuration, MINUTE_MS, parseDurationFlag } from './duration.js';
import { UsageError } from './errors.js';

export const MIN_BROWNOUT_MS = MINUTE_MS;
export const MAX_BROWNOUT_MS = 7 * DAY_MS;

export function parseBrownout(text: string): number {
  return parseDurationFlag(text, '--for', { minMs: MIN_BROWNOUT_MS, maxMs: MAX_BROWNOUT_MS });
}

/** The service's own check of a length from any front end. */
export function checkBrownoutMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < MIN_BROWNOUT_MS || ms > MAX_BROWNOUT_MS)
    throw new UsageError('a brownout lasts a whole number of milliseconds from 1 minute to 7 days', {
      hint: 'e.g. akm deactivate deploy-bot --for 30m',
      code: 'invalid_brownout',
    });
  return ms;
}

/**
 * The status a key has at `now`. A stored `inactive` with an end is a brownout: inactive until
 * that instant, active from then on (an unreadable end stays inactive: the safe side).
 */
export function statusAt(
  status: 'active' | 'inactive',
  inactiveUntil: string | null,
  now: Date,
): 'active' | 'inactive' {
  if (status === 'active') return 'active';
  if (inactiveUntil === null) return 'inactive';
  const end = Date.parse(inactiveUntil);
  return Number.isFinite(end) && end <= now.getTime() ? 'active' : 'inactive';
}

/** Is the key in a brownout at `now` (inactive, and coming back by itself)? */
export function inBrownout(status: 'active' | 'inactive', inactiveUntil: string | null, now: Date): boolean {
  return status === 'inactive' && inactiveUntil !== null && statusAt(status, inactiveUntil, now) === 'inactive';
}

/**
 * A brownout of `ms` asked for a key whose brownout already ends later: it keeps its end, and the
 * person is told so (it will not be back when they expect), with the two ways to change that.
 */
export function outlastedWarning(id: string, current: string | null, now: Date, ms: number): string | null {
  if (current === null || current <= new Date(now.getTime() + ms).toISOString()) return null;
  return (
    `${id} is already in a brownout until ${current}, longer than the ${describeDuration(ms)} asked, ` +
    `so it still ends then: akm activate ${id} ends it now, a longer --for extends it`
  );
}

/**
 * The end of a brownout of `ms` starting at `now`. A brownout only ever grows: a second one on a
 * key already browned out ends at the later of the two ends, so nobody shortens someone else's
 * (shortening is re-activating, which has its own rule).
 */
export function brownoutEnd(now: Date, ms: number, current: string | null): string {
  const end = new Date(now.getTime() + ms).toISOString();
  return current !== null && current > end ? current : end;
}
