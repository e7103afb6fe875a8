import test from 'ava';
import { AkmError, UsageError } from '../../src/core/errors.js';
import { expiryFromFlags, isExpired, MAX_DAYS, parseDays, parseInstant, resolveExpiry } from '../../src/core/expiry.js';

const DAY = 86_400_000;
const now = new Date('2026-03-10T15:30:00.000Z');

function localDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function usage(t: import('ava').ExecutionContext, fn: () => unknown, label: string): UsageError {
  const error = t.throws<UsageError>(fn, { instanceOf: UsageError }, label);
  t.is(error.exitCode, 2);
  return error;
}

test('parseDays accepts whole numbers from 1 to 3650', (t) => {
  t.is(parseDays('30'), 30);
  t.is(parseDays(' 7 '), 7);
  t.is(parseDays('+5'), 5);
  t.is(parseDays('1'), 1);
  t.is(parseDays(String(MAX_DAYS)), 3650);
});

test('parseDays refuses non-numeric, zero, negative, fractional and absurd counts, naming the flag', (t) => {
  const bad = [
    '',
    ' ',
    'abc',
    '30days',
    '0',
    '00',
    '-0',
    '-1',
    '-30',
    '1.5',
    '1e3',
    '0x10',
    'NaN',
    'Infinity',
    '3651',
    '99999999999999999999',
    '٣٠',
    '3 0',
  ];
  for (const text of bad) {
    const error = usage(t, () => parseDays(text), JSON.stringify(text));
    t.true(error.message.includes('--expires-in'), error.message);
  }
  t.true(usage(t, () => parseDays('x', '--days'), 'custom flag').message.includes('--days'));
  t.log(`${bad.length} bad day counts refused`);
});

test('parseInstant: a bare date means the whole of that local day', (t) => {
  const at = parseInstant('2027-06-15');
  t.is(at.getTime(), new Date(2027, 5, 16, 0, 0, 0, 0).getTime());
  t.is(localDate(new Date(at.getTime() - 1)), '2027-06-15');
});

test('parseInstant refuses impossible dates such as 2027-02-30', (t) => {
  const bad = [
    '2027-02-30',
    '2027-02-29',
    '2100-02-29',
    '2027-04-31',
    '2027-13-01',
    '2027-00-10',
    '2027-01-00',
    '2027-01-32',
    '0000-01-01',
  ];
  for (const text of bad) usage(t, () => parseInstant(text), text);
});

test('parseInstant accepts leap days of leap years only', (t) => {
  for (const year of [2028, 2032, 2400, 2000])
    t.is(localDate(new Date(parseInstant(`${year}-02-29`).getTime() - 1)), `${year}-02-29`);
  for (const year of [2027, 2100, 2200, 2300]) usage(t, () => parseInstant(`${year}-02-29`), `${year}`);
});

test('parseInstant reads ISO timestamps with offsets as the instant they name', (t) => {
  const cases: Array<[string, string]> = [
    ['2027-06-01T12:00:00Z', '2027-06-01T12:00:00.000Z'],
    ['2027-06-01T12:00:00z', '2027-06-01T12:00:00.000Z'],
    ['2027-06-01T12:00Z', '2027-06-01T12:00:00.000Z'],
    ['2027-06-01 12:00:00Z', '2027-06-01T12:00:00.000Z'],
    ['2027-06-01T12:00:00+05:30', '2027-06-01T06:30:00.000Z'],
    ['2027-06-01T12:00:00+0530', '2027-06-01T06:30:00.000Z'],
    ['2027-06-01T12:00:00-08:00', '2027-06-01T20:00:00.000Z'],
    ['2027-06-01T00:30:00+14:00', '2027-05-31T10:30:00.000Z'],
    ['2027-06-01T23:59:59.250-12:00', '2027-06-02T11:59:59.250Z'],
    ['2027-12-31T23:59:59Z', '2027-12-31T23:59:59.000Z'],
  ];
  for (const [text, iso] of cases) t.is(parseInstant(text).toISOString(), iso, text);
});

test('parseInstant reads a timestamp without offset as local time', (t) => {
  t.is(parseInstant('2027-06-01T12:34:56').getTime(), new Date(2027, 5, 1, 12, 34, 56).getTime());
  t.is(parseInstant('2027-06-01T12:34:56.789').getTime(), new Date(2027, 5, 1, 12, 34, 56, 789).getTime());
  t.is(parseInstant('2027-06-01 08:00').getTime(), new Date(2027, 5, 1, 8, 0).getTime());
});

test('parseInstant refuses impossible times and unreadable text, without a RangeError', (t) => {
  const bad = [
    '2027-06-01T24:00:00Z',
    '2027-06-01T12:60:00Z',
    '2027-06-01T12:00:60Z',
    '2027-02-30T12:00:00Z',
    '2027-06-01T12:00:00+99:99',
    '2027-06-01T12',
    'tomorrow',
    'next week',
    '2027/06/01',
    '01-06-2027',
    '2027-6-1',
    '1780000000',
    '',
    '2027-06-01T12:00:00Z; rm -rf /',
  ];
  for (const text of bad) usage(t, () => parseInstant(text), JSON.stringify(text));
});

test('resolveExpiry: days are whole 24-hour periods from now', (t) => {
  t.is(resolveExpiry({ kind: 'days', days: 1 }, now)!.getTime(), now.getTime() + DAY);
  t.is(resolveExpiry({ kind: 'days', days: 365 }, now)!.getTime(), now.getTime() + 365 * DAY);
  t.is(resolveExpiry({ kind: 'never' }, now), null);
});

test('resolveExpiry refuses bad day counts that bypass the parser (service input)', (t) => {
  for (const days of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_DAYS + 1])
    usage(t, () => resolveExpiry({ kind: 'days', days }, now), String(days));
});

test('resolveExpiry refuses past, present, invalid and too-distant instants', (t) => {
  for (const at of [
    new Date(now.getTime() - 1),
    new Date(now),
    new Date(0),
    new Date(Number.NaN),
    new Date(now.getTime() + MAX_DAYS * DAY + 1),
  ]) {
    usage(t, () => resolveExpiry({ kind: 'until', at }, now), String(at));
  }
  t.is(resolveExpiry({ kind: 'until', at: new Date(now.getTime() + 1) }, now)!.getTime(), now.getTime() + 1);
  t.is(
    resolveExpiry({ kind: 'until', at: new Date(now.getTime() + MAX_DAYS * DAY) }, now)!.getTime(),
    now.getTime() + MAX_DAYS * DAY,
  );
});

test('an expiry date of today is accepted (valid until midnight), yesterday is refused', (t) => {
  const real = new Date();
  const today = localDate(real);
  const expires = resolveExpiry({ kind: 'until', at: parseInstant(today) }, real)!;
  t.true(expires.getTime() > real.getTime());
  t.is(localDate(new Date(expires.getTime() - 1)), today);
  const yesterday = new Date(real.getFullYear(), real.getMonth(), real.getDate() - 1, 12);
  usage(t, () => resolveExpiry({ kind: 'until', at: parseInstant(localDate(yesterday)) }, real), 'yesterday');
});

test('expiryFromFlags: one of three, mutually exclusive, no silent default', (t) => {
  t.is(expiryFromFlags({}), undefined);
  t.is(expiryFromFlags({ neverExpires: false }), undefined);
  t.deepEqual(expiryFromFlags({ expiresIn: '90' }), { kind: 'days', days: 90 });
  t.deepEqual(expiryFromFlags({ neverExpires: true }), { kind: 'never' });
  const until = expiryFromFlags({ expiresOn: '2027-01-31T12:00:00Z' });
  t.is(until?.kind, 'until');
  t.is(until?.kind === 'until' ? until.at.toISOString() : '', '2027-01-31T12:00:00.000Z');
  const conflicts = [
    { expiresIn: '30', expiresOn: '2027-01-01' },
    { expiresIn: '30', neverExpires: true },
    { expiresOn: '2027-01-01', neverExpires: true },
    { expiresIn: '30', expiresOn: '2027-01-01', neverExpires: true },
    // the conflict is found before the values are read
    { expiresIn: 'abc', neverExpires: true },
  ];
  for (const flags of conflicts) {
    const error = usage(t, () => expiryFromFlags(flags), JSON.stringify(flags));
    t.regex(error.message, /mutually exclusive/);
  }
  const renamed = usage(
    t,
    () => expiryFromFlags({ expiresIn: '1', neverExpires: true }, { in: '--days', on: '--until', never: '--never' }),
    'renamed',
  );
  t.true(renamed.message.includes('--days') && renamed.message.includes('--never'));
  usage(t, () => expiryFromFlags({ expiresIn: '0' }), 'zero');
  usage(t, () => expiryFromFlags({ expiresOn: '2027-02-30' }), 'impossible date');
});

test('isExpired: at the expiry instant the key is expired', (t) => {
  const at = now.toISOString();
  t.true(isExpired(at, now));
  t.false(isExpired(at, new Date(now.getTime() - 1)));
  t.false(isExpired(null, new Date(8.64e15)));
});

test('errors carry exit code 2 and are AkmErrors', (t) => {
  const error = t.throws(() => parseDays('0'));
  t.true(error instanceof AkmError);
});
