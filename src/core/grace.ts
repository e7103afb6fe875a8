/**
 * The previous secret after a rotation, pure. A grace is either fixed (the old secret works
 * until a set time) or automatic: it works while something still uses it, and ends once it has
 * gone unused for the quiet period. Either way it never outlives its cap: 30 days after the
 * rotation, and never the key's own expiry.
 *
 * An automatic grace is kept as two instants, both stored with the key: `validUntil` (the cap)
 * and `quietUntil` (the last use, or the rotation, plus the quiet period). Every use of the old
 * secret moves `quietUntil` on; the grace is over at whichever instant comes first. Keeping the
 * instants, not the durations, lets every reader (SQL included) decide with one comparison.
 */
import { HOUR_MS, MINUTE_MS, parseDurationFlag } from './duration.js';
import { UsageError } from './errors.js';
import { MAX_GRACE_MS } from './expiry.js';

export const DEFAULT_QUIET_MS = HOUR_MS;
/** Uses are written once a second and graces swept once a minute: a shorter quiet period would end on noise. */
export const MIN_QUIET_MS = MINUTE_MS;

export type GraceChoice = { kind: 'none' } | { kind: 'fixed'; ms: number } | { kind: 'auto'; quietForMs: number };

/** The grace of a key as stored; all null when the key has none. */
export interface GraceState {
  /** the cap: never accepted at or after this instant */
  validUntil: string | null;
  /** automatic graces only: the quiet period, and the instant it runs out unless the old secret is used */
  quietForMs: number | null;
  quietUntil: string | null;
}

export const NO_GRACE: GraceState = { validUntil: null, quietForMs: null, quietUntil: null };

/** `--grace DURATION` or `--grace auto [--quiet-for DURATION]`; no `--grace`: none. */
export function graceFromFlags(flags: { grace?: string; quietFor?: string }): GraceChoice {
  const grace = flags.grace?.trim().toLowerCase();
  if (grace !== 'auto' && flags.quietFor !== undefined)
    throw new UsageError('--quiet-for goes with --grace auto', {
      hint: 'e.g. akm rotate deploy-bot --grace auto --quiet-for 2h',
    });
  if (grace === undefined) return { kind: 'none' };
  if (grace === 'auto') return { kind: 'auto', quietForMs: quietPeriod(flags.quietFor) };
  return {
    kind: 'fixed',
    ms: parseDurationFlag(flags.grace!, '--grace', { minMs: 1, maxMs: MAX_GRACE_MS }),
  };
}

function quietPeriod(text: string | undefined): number {
  if (text === undefined) return DEFAULT_QUIET_MS;
  return parseDurationFlag(text, '--quiet-for', { minMs: MIN_QUIET_MS, maxMs: MAX_GRACE_MS });
}

/** The service's own check of a choice from any front end (the HTTP API included). */
export function checkGraceChoice(choice: GraceChoice): GraceChoice {
  const whole = (ms: number, min: number) => Number.isInteger(ms) && ms >= min && ms <= MAX_GRACE_MS;
  if (choice.kind === 'fixed' && !whole(choice.ms, 1))
    throw new UsageError('the grace period must be a whole number of milliseconds from 1 to 30 days', {
      hint: 'e.g. --grace 12h',
      code: 'invalid_grace',
    });
  if (choice.kind === 'auto' && !whole(choice.quietForMs, MIN_QUIET_MS))
    throw new UsageError('the quiet period must be a whole number of milliseconds from 1 minute to 30 days', {
      hint: 'e.g. --grace auto --quiet-for 1h',
      code: 'invalid_grace',
    });
  if (choice.kind !== 'none' && choice.kind !== 'fixed' && choice.kind !== 'auto')
    throw new UsageError('unknown kind of grace', { code: 'invalid_grace' });
  return choice;
}

/** The older API: a number of milliseconds (0: none). */
export function graceChoiceOf(grace: number | GraceChoice): GraceChoice {
  if (typeof grace !== 'number') return checkGraceChoice(grace);
  if (grace === 0) return { kind: 'none' };
  return checkGraceChoice({ kind: 'fixed', ms: grace });
}

const earlier = (a: Date, b: Date | null) => (b !== null && b < a ? b : a);

/** What a rotation at `now` stores for the previous secret. */
export function startGrace(choice: GraceChoice, now: Date, keyExpiresAt: Date | null): GraceState {
  if (choice.kind === 'none') return NO_GRACE;
  if (choice.kind === 'fixed') {
    return {
      validUntil: earlier(new Date(now.getTime() + choice.ms), keyExpiresAt).toISOString(),
      quietForMs: null,
      quietUntil: null,
    };
  }
  const cap = earlier(new Date(now.getTime() + MAX_GRACE_MS), keyExpiresAt);
  return {
    validUntil: cap.toISOString(),
    quietForMs: choice.quietForMs,
    quietUntil: new Date(now.getTime() + choice.quietForMs).toISOString(),
  };
}

/** An instant as milliseconds; anything unreadable counts as long past, so it never extends a grace. */
function instant(iso: string | null): number {
  const at = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isFinite(at) ? at : Number.NEGATIVE_INFINITY;
}

/** The instant the grace ends if nothing changes (for an automatic one: unless the old secret is used). */
export function graceEnd(state: GraceState): string | null {
  if (state.validUntil === null) return null;
  if (state.quietUntil !== null && instant(state.quietUntil) < instant(state.validUntil)) return state.quietUntil;
  return state.validUntil;
}

/** Is the previous secret accepted at `now`? Fails closed on anything unreadable. */
export function previousAccepted(state: GraceState, now: Date): boolean {
  if (state.validUntil === null) return false;
  const quiet = state.quietForMs === null && state.quietUntil === null ? Infinity : instant(state.quietUntil);
  return now.getTime() < Math.min(instant(state.validUntil), quiet);
}

/** Why a grace that is no longer accepted at `now` ended by itself; null while it lasts (or when there is none). */
export function graceEndedBy(state: GraceState, now: Date): { reason: 'quiet' | 'cap'; at: string } | null {
  if (state.validUntil === null || previousAccepted(state, now)) return null;
  const quiet = state.quietUntil !== null && instant(state.quietUntil) < instant(state.validUntil);
  return quiet ? { reason: 'quiet', at: state.quietUntil! } : { reason: 'cap', at: state.validUntil };
}

/**
 * A use of the previous secret at `at` restarts the quiet period. Only while the grace lasts:
 * a use the server saw just before the end, written a second later, cannot bring it back.
 */
export function noteQuietUse(state: GraceState, at: string): GraceState {
  if (state.quietForMs === null || state.quietUntil === null) return state;
  const used = new Date(at);
  if (!previousAccepted(state, used)) return state;
  const quietUntil = used.getTime() + state.quietForMs;
  return quietUntil > instant(state.quietUntil) ? { ...state, quietUntil: new Date(quietUntil).toISOString() } : state;
}
