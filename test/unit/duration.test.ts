import test from 'ava';
import { UsageError } from '../../src/core/errors.js';
import { MAX_GRACE_MS, parseDuration } from '../../src/core/expiry.js';

test('parseDuration reads the units a person types', (t) => {
  const cases: Array<[string, number]> = [
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    [' 12H ', 43_200_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1d12h', 129_600_000],
    ['30d', MAX_GRACE_MS],
    ['4w2d', MAX_GRACE_MS],
  ];
  for (const [text, ms] of cases) t.is(parseDuration(text), ms, text);
});

test('parseDuration refuses empty, zero, unitless, fractional, negative, unknown units and more than 30 days', (t) => {
  const bad = [
    '',
    ' ',
    '0s',
    '0m0s',
    '0ms',
    '30',
    'h',
    '1.5h',
    '-1h',
    '+1h',
    '1y',
    '2mo',
    '30 minutes',
    '1h-30m',
    '31d',
    '5w',
    '30d1ms',
    '720h1s',
    '99999999999999999999999d',
    'P1D',
    '1h;1h',
  ];
  for (const text of bad) {
    const error = t.throws<UsageError>(() => parseDuration(text), { instanceOf: UsageError }, JSON.stringify(text));
    t.is(error.exitCode, 2);
    t.true(error.message.includes('--grace'), error.message);
  }
  t.log(`${bad.length} bad durations refused`);
});
