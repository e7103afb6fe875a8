/**
 * Expiry properties, run in-process and in child processes under other TZ values
 * (test/fixtures/expiry-tz.ts): whatever the zone, an accepted input never yields a past
 * expiry, a date means the whole of that local day, and an offset names one exact instant.
 */
import fc from 'fast-check';
import { UsageError } from '../../src/core/errors.js';
import { expiryFromFlags, MAX_DAYS, parseDays, parseInstant, resolveExpiry } from '../../src/core/expiry.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function localDate(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function localWall(d: Date): string {
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Milliseconds of a wall-clock text read as if it were UTC: for comparing wall times. */
function wallMs(text: string): number {
  return Date.parse(`${text}Z`);
}

const instant = (from: string, to: string) => fc.date({ min: new Date(from), max: new Date(to), noInvalidDate: true });

/** Instants at which the local UTC offset changes, found by scanning: DST edges of this zone. */
export function offsetTransitions(fromYear: number, toYear: number): Date[] {
  const found: Date[] = [];
  let t = new Date(Date.UTC(fromYear, 0, 1)).getTime();
  const end = Date.UTC(toYear, 0, 1);
  let offset = new Date(t).getTimezoneOffset();
  for (; t < end; t += 3_600_000) {
    const next = new Date(t + 3_600_000).getTimezoneOffset();
    if (next !== offset) {
      // narrow to the minute
      let lo = t;
      let hi = t + 3_600_000;
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE || lo + MINUTE;
        if (new Date(mid).getTimezoneOffset() === offset) lo = mid;
        else hi = mid;
      }
      found.push(new Date(hi));
      offset = next;
    }
  }
  return found;
}

/** The outcome of resolving a choice: the instant, null for never, or the refusal. */
function attempt(fn: () => Date | null): { ok: true; value: Date | null } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function assertUsage(error: unknown): void {
  if (!(error instanceof UsageError)) throw new Error(`expected a UsageError, got ${String(error)}`);
}

/** An accepted expiry lies strictly ahead of now and within 10 years. */
function assertAhead(value: Date | null, now: Date): void {
  if (value === null) return;
  if (!(value.getTime() > now.getTime()))
    throw new Error(`accepted a past expiry ${value.toISOString()} at ${now.toISOString()}`);
  if (value.getTime() > now.getTime() + MAX_DAYS * DAY)
    throw new Error(`accepted an expiry more than 10 years away: ${value.toISOString()}`);
}

/** Check the meaning of a bare date E = parseInstant(date): valid through that whole local day. */
function assertWholeLocalDay(date: string, expires: Date): void {
  if (localDate(new Date(expires.getTime() - 1)) !== date)
    throw new Error(
      `${date}: the last valid millisecond ${localWall(new Date(expires.getTime() - 1))} is not on that day`,
    );
  if (localDate(expires) === date) throw new Error(`${date}: the expiry ${localWall(expires)} is still on that day`);
  // local midnight, or just after it where a DST change skips midnight
  if (expires.getHours() * 60 + expires.getMinutes() > 60)
    throw new Error(`${date}: expires at ${localWall(expires)}, not at the start of the next day`);
}

export interface NamedProperty {
  name: string;
  property: fc.IProperty<never>;
}

function named<Ts extends [unknown, ...unknown[]]>(name: string, property: fc.IProperty<Ts>): NamedProperty {
  return { name, property: property as unknown as fc.IProperty<never> };
}

function dstEdgeNow(transitions: Date[]): fc.Arbitrary<Date> {
  if (transitions.length === 0) return instant('2024-01-01T00:00:00Z', '2036-01-01T00:00:00Z');
  return fc
    .tuple(fc.integer({ min: 0, max: transitions.length - 1 }), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
    .map(([i, delta]) => new Date(transitions[i]!.getTime() + delta));
}

export function expiryProperties(): NamedProperty[] {
  const transitions = offsetTransitions(2024, 2036);
  const nowArb = fc.oneof(instant('2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z'), dstEdgeNow(transitions));

  return [
    named(
      'days: now + N whole days, never in the past',
      fc.property(nowArb, fc.integer({ min: 1, max: MAX_DAYS }), (now, days) => {
        const parsed = parseDays(String(days));
        const at = resolveExpiry({ kind: 'days', days: parsed }, now)!;
        if (at.getTime() !== now.getTime() + days * DAY)
          throw new Error(`${days} days from ${now.toISOString()} gave ${at.toISOString()}`);
        assertAhead(at, now);
      }),
    ),
    named(
      'dates: the whole local day; today or later accepted, earlier refused',
      fc.property(
        nowArb,
        fc.integer({ min: -5, max: MAX_DAYS + 5 }),
        fc.integer({ min: 0, max: DAY - 1 }),
        (now, dayOffset, jitter) => {
          const date = localDate(new Date(now.getTime() + dayOffset * DAY + (dayOffset === 0 ? 0 : jitter - DAY / 2)));
          const at = parseInstant(date);
          assertWholeLocalDay(date, at);
          const outcome = attempt(() => resolveExpiry({ kind: 'until', at }, now));
          const today = localDate(now);
          if (outcome.ok) assertAhead(outcome.value, now);
          else assertUsage(outcome.error);
          if (date < today && outcome.ok)
            throw new Error(`${date} is before today (${today}) yet accepted at ${now.toISOString()}`);
          if (date >= today && !outcome.ok && at.getTime() <= now.getTime() + MAX_DAYS * DAY) {
            throw new Error(`${date} (today is ${today}) refused at ${now.toISOString()}`);
          }
        },
      ),
    ),
    named(
      'leap days: YYYY-02-29 accepted exactly in leap years',
      fc.property(fc.integer({ min: 1000, max: 9999 }), (year) => {
        const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
        const outcome = attempt(() => parseInstant(`${year}-02-29`));
        if (outcome.ok !== leap)
          throw new Error(`${year}-02-29: ${outcome.ok ? 'accepted' : 'refused'} but leap=${leap}`);
        if (outcome.ok) assertWholeLocalDay(`${year}-02-29`, outcome.value!);
      }),
    ),
    named(
      'ISO timestamps with an offset name exactly one instant',
      fc.property(
        instant('1990-01-01T00:00:00Z', '2099-12-31T00:00:00Z'),
        fc.integer({ min: -48, max: 56 }).map((q) => q * 15),
        fc.constantFrom('colon', 'compact', 'zulu'),
        fc.boolean(),
        (at, offsetMinutes, style, withMs) => {
          const exact = withMs ? at : new Date(Math.floor(at.getTime() / 1000) * 1000);
          const offset = style === 'zulu' ? 0 : offsetMinutes;
          const wall = new Date(exact.getTime() + offset * MINUTE).toISOString().slice(0, withMs ? 23 : 19);
          const sign = offset < 0 ? '-' : '+';
          const hh = pad(Math.floor(Math.abs(offset) / 60));
          const mm = pad(Math.abs(offset) % 60);
          const suffix = style === 'zulu' ? 'Z' : style === 'colon' ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
          const text = `${wall}${suffix}`;
          const parsed = parseInstant(text);
          if (parsed.getTime() !== exact.getTime())
            throw new Error(`${text} read as ${parsed.toISOString()}, expected ${exact.toISOString()}`);
        },
      ),
    ),
    named(
      'local timestamps keep their wall time (or move forward across a DST gap)',
      fc.property(
        fc.oneof(instant('1990-01-01T00:00:00Z', '2099-12-31T00:00:00Z'), dstEdgeNow(transitions)),
        fc.integer({ min: -90, max: 90 }),
        (base, shiftMinutes) => {
          // a wall time near a real instant, shifted so that DST gaps and overlaps are hit
          const wall = new Date(wallMs(localWall(base).slice(0, 19)) + shiftMinutes * MINUTE)
            .toISOString()
            .slice(0, 19);
          const parsed = parseInstant(wall);
          if (Number.isNaN(parsed.getTime())) throw new Error(`${wall} parsed as an invalid date`);
          const got = wallMs(localWall(parsed).slice(0, 19));
          const wanted = wallMs(wall);
          // equal, or pushed forward by at most the size of a DST gap
          if (got < wanted || got - wanted > 60 * MINUTE) throw new Error(`${wall} read as local ${localWall(parsed)}`);
        },
      ),
    ),
    named(
      'no accepted combination of flags yields a past expiry; refusals are UsageErrors',
      fc.property(
        nowArb,
        fc.record(
          {
            expiresIn: fc.oneof(fc.integer({ min: -10, max: 4000 }).map(String), fc.string({ maxLength: 8 })),
            expiresOn: fc.oneof(
              fc
                .date({
                  min: new Date('1990-01-01T00:00:00Z'),
                  max: new Date('2120-01-01T00:00:00Z'),
                  noInvalidDate: true,
                })
                .map((d) => d.toISOString()),
              fc
                .date({
                  min: new Date('1990-01-01T00:00:00Z'),
                  max: new Date('2120-01-01T00:00:00Z'),
                  noInvalidDate: true,
                })
                .map((d) => localDate(d)),
              fc
                .date({
                  min: new Date('1990-01-01T00:00:00Z'),
                  max: new Date('2120-01-01T00:00:00Z'),
                  noInvalidDate: true,
                })
                .map((d) => localWall(d)),
              fc.string({ maxLength: 30 }),
            ),
            neverExpires: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        (now, flags) => {
          const outcome = attempt(() => {
            const choice = expiryFromFlags(flags);
            return choice === undefined ? null : resolveExpiry(choice, now);
          });
          if (outcome.ok) assertAhead(outcome.value, now);
          else assertUsage(outcome.error);
        },
      ),
    ),
  ];
}

export interface PropertyOutcome {
  tz: string;
  name: string;
  failed: boolean;
  numRuns: number;
  seed: number;
  report: string | null;
}

export function runExpiryProperties(seed: number, numRuns: number): PropertyOutcome[] {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return expiryProperties().map(({ name, property }) => {
    const details = fc.check(property, { seed, numRuns });
    return {
      tz,
      name,
      failed: details.failed,
      numRuns: details.numRuns,
      seed,
      report: details.failed ? (fc.defaultReportMessage(details) ?? 'failed') : null,
    };
  });
}
