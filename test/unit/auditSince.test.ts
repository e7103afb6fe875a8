import test from 'ava';
import { UsageError } from '../../src/core/errors.js';
import { parseSince } from '../../src/cli/commands/audit.js';
import { detailsText } from '../../src/cli/render/audit.js';

const now = new Date('2026-05-10T12:00:00.000Z');

test('--since takes a duration ago, a day (from its local start) or an ISO timestamp', (t) => {
  t.is(parseSince('7d', now), '2026-05-03T12:00:00.000Z');
  t.is(parseSince('12h', now), '2026-05-10T00:00:00.000Z');
  t.is(parseSince('30m', now), '2026-05-10T11:30:00.000Z');
  t.is(parseSince('2w', now), '2026-04-26T12:00:00.000Z');
  t.is(parseSince('2026-05-01', now), new Date(2026, 4, 1).toISOString());
  t.is(parseSince('2026-05-01T08:30:00Z', now), '2026-05-01T08:30:00.000Z');
  for (const bad of ['yesterday', '2027-02-30', '2026-05-01T25:00Z', '7 days', ''])
    t.throws(() => parseSince(bad, now), { instanceOf: UsageError }, bad);
});

test('details print as key=value pairs, neutralised', (t) => {
  t.is(
    detailsText({ name: 'ci', roles: ['A', 'B'], groups: [], to: null, n: 2 }),
    'name=ci roles=A,B groups=- to=null n=2',
  );
  t.is(detailsText({ name: 'x\u001b[2J' }), 'name=x\\x1b[2J');
});
