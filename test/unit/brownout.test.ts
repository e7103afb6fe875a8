/** Brownouts, pure: --for as typed, and the status over a moving clock. */
import test from 'ava';
import fc from 'fast-check';
import { brownoutEnd, checkBrownoutMs, inBrownout, parseBrownout, statusAt } from '../../src/core/brownout.js';
import { UsageError } from '../../src/core/errors.js';
import { checkProperty } from '../helpers/property.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00.000Z');

test('--for takes 1 minute to 7 days', (t) => {
  t.is(parseBrownout('1m'), MINUTE);
  t.is(parseBrownout('30m'), 30 * MINUTE);
  t.is(parseBrownout('7d'), 7 * DAY);
  t.is(parseBrownout('1w'), 7 * DAY);
  for (const text of ['59s', '0m', '7d1s', '2w', 'forever', '', '-5m']) {
    const error = t.throws<UsageError>(() => parseBrownout(text), { instanceOf: UsageError }, text);
    t.true(error.message.startsWith('--for'), error.message);
  }
  for (const ms of [MINUTE - 1, 7 * DAY + 1, 1.5 * MINUTE + 0.5, Number.NaN])
    t.is(t.throws<UsageError>(() => checkBrownoutMs(ms)).code, 'invalid_brownout');
});

test('across a moving clock, a brownout key is inactive before its end and active from its end on', (t) => {
  checkProperty(
    t,
    'brownout over time',
    fc.property(
      fc.integer({ min: MINUTE, max: 7 * DAY }),
      fc.array(fc.integer({ min: -DAY, max: 8 * DAY }), { minLength: 1, maxLength: 20 }),
      (ms, clock) => {
        const end = brownoutEnd(new Date(T0), ms, null);
        return clock.every((offset) => {
          const now = new Date(T0 + offset);
          const expected = offset < ms ? 'inactive' : 'active';
          return statusAt('inactive', end, now) === expected && inBrownout('inactive', end, now) === offset < ms;
        });
      },
    ),
  );
});

test('without an end, inactive stays inactive; active is active; an unreadable end stays inactive', (t) => {
  const now = new Date(T0);
  t.is(statusAt('inactive', null, now), 'inactive');
  t.is(statusAt('active', null, now), 'active');
  t.is(statusAt('active', '2000-01-01T00:00:00.000Z', now), 'active');
  t.is(statusAt('inactive', 'not a date', now), 'inactive');
  t.false(inBrownout('inactive', null, now));
});

test('a second brownout can only make it longer', (t) => {
  const long = brownoutEnd(new Date(T0), 2 * DAY, null);
  t.is(brownoutEnd(new Date(T0 + MINUTE), 30 * MINUTE, long), long);
  t.is(brownoutEnd(new Date(T0 + DAY), 2 * DAY, long), new Date(T0 + 3 * DAY).toISOString());
});
