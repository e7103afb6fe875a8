import test from 'ava';
import { expiryMoment, localDateTime, relativeTime } from '../../src/cli/io/dates.js';

const now = new Date(2026, 10, 26, 14, 2, 0);

test('local date and time as people write it', (t) => {
  t.is(localDateTime(new Date(2027, 5, 30, 23, 59, 30)), '2027-06-30 23:59');
  t.is(localDateTime(new Date(2027, 0, 2, 3, 4, 5), true), '2027-01-02 03:04:05');
  t.is(localDateTime(new Date(999, 0, 1, 0, 0)), '0999-01-01 00:00');
});

test('an expiry at local midnight shows as the last minute of the day before; others as they are', (t) => {
  t.is(localDateTime(expiryMoment(new Date(2027, 6, 1))), '2027-06-30 23:59');
  t.is(localDateTime(expiryMoment(new Date(2027, 6, 1, 0, 0, 1))), '2027-07-01 00:00');
  t.is(localDateTime(expiryMoment(new Date(2027, 6, 1, 12, 30))), '2027-07-01 12:30');
});

test('relative time picks the unit people would say', (t) => {
  const at = (ms: number) => relativeTime(new Date(now.getTime() + ms), now);
  t.is(at(10_000), 'in a moment');
  t.is(at(-10_000), 'just now');
  t.is(at(50_000), 'in 50 seconds');
  t.is(at(-5 * 60_000), '5 minutes ago');
  t.is(at(3 * 3_600_000), 'in 3 hours');
  t.is(at(3_600_000 - 500), 'in 1 hour', 'not "in 60 minutes"');
  t.is(at(-23.8 * 3_600_000), 'yesterday');
  t.is(at(3 * 86_400_000), 'in 3 days');
  t.is(at(-86_400_000), 'yesterday');
  t.is(at(90 * 86_400_000), 'in 3 months');
  t.is(at(3 * 365 * 86_400_000), 'in 3 years');
});
