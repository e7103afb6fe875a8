/** The lifetime policy, pure: merging changes, judging expiries across a moving clock, reminders once each. */
import test from 'ava';
import fc from 'fast-check';
import { UsageError } from '../../src/core/errors.js';
import {
  cappedExpiry,
  dueReminder,
  judgeExpiry,
  keyViolations,
  mergePolicy,
  NO_POLICY,
  parseDaysOrNone,
  parseEnforceOn,
  type LifetimePolicy,
} from '../../src/core/policy.js';
import { checkProperty } from '../helpers/property.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T12:00:00.000Z');
const at = (days: number, from = NOW) => new Date(from.getTime() + days * DAY);

function policy(changes: Partial<LifetimePolicy>): LifetimePolicy {
  return { ...NO_POLICY, enforceOn: NOW.toISOString(), ...changes };
}

test('set without --enforce-on is enforced at once; a staged date stays when other fields change', (t) => {
  const first = mergePolicy(NO_POLICY, { maxLifetimeDays: 90 }, NOW);
  t.deepEqual(first, {
    maxLifetimeDays: 90,
    neverExpires: 'admins',
    rotateEveryDays: null,
    enforceOn: NOW.toISOString(),
  });
  const staged = mergePolicy(first, { enforceOn: at(30).toISOString() }, NOW);
  t.is(staged.enforceOn, at(30).toISOString());
  const tweaked = mergePolicy(staged, { rotateEveryDays: 180 }, at(1));
  t.is(tweaked.enforceOn, at(30).toISOString(), 'the staged date is kept');
  t.is(tweaked.maxLifetimeDays, 90, 'absent fields keep their value');
  t.is(mergePolicy(tweaked, { maxLifetimeDays: null }, at(1)).maxLifetimeDays, null, 'null lifts the limit');
  t.is(mergePolicy(tweaked, { enforceOn: 'now' }, at(2)).enforceOn, at(2).toISOString());
});

test('mergePolicy refuses out-of-range days, a past or unreadable enforcement date, an unknown rule', (t) => {
  const bad: Array<[Parameters<typeof mergePolicy>[1], RegExp]> = [
    [{ maxLifetimeDays: 0 }, /1 to 3650/],
    [{ maxLifetimeDays: 3651 }, /1 to 3650/],
    [{ maxLifetimeDays: 1.5 }, /whole number/],
    [{ rotateEveryDays: -1 }, /rotation period/],
    [{ enforceOn: at(-1).toISOString() }, /in the past/],
    [{ enforceOn: at(3651).toISOString() }, /10 years/],
    [{ enforceOn: 'tomorrow' }, /ISO-8601/],
    [{ enforceOn: '2027-01-01' }, /ISO-8601/],
    [{ neverExpires: 'everyone' as never }, /admins or nobody/],
  ];
  for (const [changes, message] of bad) {
    const error = t.throws(() => mergePolicy(NO_POLICY, changes, NOW), { instanceOf: UsageError });
    t.regex(error.message, message);
  }
});

test('an expiry beyond the maximum lifetime warns before enforcement and is refused from its first moment on', (t) => {
  checkProperty(
    t,
    'staged enforcement across a moving clock',
    fc.property(
      fc.integer({ min: 1, max: 3650 }),
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: -400 * 24, max: 400 * 24 }),
      fc.integer({ min: 1, max: 3650 }),
      (maxDays, enforceInDays, clockHours, askedDays) => {
        const rules = policy({ maxLifetimeDays: maxDays, enforceOn: at(enforceInDays).toISOString() });
        const now = new Date(NOW.getTime() + clockHours * 3_600_000);
        const verdict = judgeExpiry(rules, at(askedDays, now), now);
        if (askedDays <= maxDays) return verdict.kind === 'ok';
        const enforced = now.getTime() >= at(enforceInDays).getTime();
        return (
          verdict.kind === (enforced ? 'refuse' : 'warn') &&
          verdict.violation.reason === 'lifetime_exceeded' &&
          verdict.violation.message.includes(`at most ${maxDays} days`)
        );
      },
    ),
  );
});

test('never expiring: allowed under admins (authorization decides who), a violation under nobody', (t) => {
  t.deepEqual(judgeExpiry(policy({ maxLifetimeDays: 30 }), null, NOW), { kind: 'ok' });
  const nobody = judgeExpiry(policy({ neverExpires: 'nobody' }), null, NOW);
  t.is(nobody.kind, 'refuse');
  t.is(nobody.kind !== 'ok' && nobody.violation.reason, 'never_expires');
  t.is(judgeExpiry(policy({ neverExpires: 'nobody', enforceOn: at(5).toISOString() }), null, NOW).kind, 'warn');
  t.deepEqual(judgeExpiry(NO_POLICY, null, NOW), { kind: 'ok' }, 'no policy: no limits');
});

test('keyViolations names each reason; an expired key has no secret to rotate', (t) => {
  const rules = policy({ maxLifetimeDays: 90, rotateEveryDays: 30, neverExpires: 'nobody' });
  const reasons = (expiresAt: string | null, secretDaysOld: number) =>
    keyViolations(rules, { expiresAt, secretCreatedAt: at(-secretDaysOld).toISOString() }, NOW).map((v) => v.reason);
  t.deepEqual(reasons(at(91).toISOString(), 31), ['lifetime_exceeded', 'secret_too_old']);
  t.deepEqual(reasons(at(90).toISOString(), 30), []);
  t.deepEqual(reasons(null, 1), ['never_expires']);
  t.deepEqual(reasons(at(-1).toISOString(), 400), [], 'expired');
});

test('cappedExpiry: the latest the policy allows, 10 years for never under nobody without a maximum, null when fine', (t) => {
  t.deepEqual(cappedExpiry(policy({ maxLifetimeDays: 90 }), at(200).toISOString(), NOW), at(90));
  t.is(cappedExpiry(policy({ maxLifetimeDays: 90 }), at(10).toISOString(), NOW), null);
  t.is(cappedExpiry(policy({ maxLifetimeDays: 90 }), null, NOW), null, 'never, under admins');
  t.deepEqual(cappedExpiry(policy({ neverExpires: 'nobody' }), null, NOW), at(3650));
  t.deepEqual(cappedExpiry(policy({ neverExpires: 'nobody', maxLifetimeDays: 7 }), null, NOW), at(7));
});

test('reminders 30 and 7 days before enforcement go out once each, only when the date was that far ahead', (t) => {
  checkProperty(
    t,
    'hourly job over a moving clock',
    fc.property(fc.integer({ min: 1, max: 24 * 90 }), fc.integer({ min: 1, max: 48 }), (leadHours, stepHours) => {
      const setAt = NOW;
      const enforceOn = new Date(setAt.getTime() + leadHours * 3_600_000);
      const rules = policy({ maxLifetimeDays: 90, enforceOn: enforceOn.toISOString() });
      const sent: number[] = [];
      const sends: Array<{ days: number; at: number }> = [];
      for (let clock = setAt.getTime(); clock < enforceOn.getTime() + 10 * DAY; clock += stepHours * 3_600_000) {
        const due = dueReminder(rules, setAt.toISOString(), new Date(clock), sent);
        if (due.send !== null) sends.push({ days: due.send, at: clock });
        sent.push(...due.settle);
      }
      const ahead = (days: number) => leadHours > days * 24;
      // Each milestone at most once; none before its day or after enforcement; one whose date lay
      // that far ahead is settled by its own message or by the nearer one that replaced it.
      for (const days of [30, 7]) {
        const mine = sends.filter((s) => s.days === days);
        if (mine.length > 1) return false;
        for (const s of mine) if (s.at < enforceOn.getTime() - days * DAY || s.at >= enforceOn.getTime()) return false;
        if (ahead(days) !== sent.includes(days)) return false;
      }
      return !ahead(7) || sends.some((s) => s.days === 7) || sends.some((s) => s.days === 30);
    }),
  );
});

test('a missed 30-day reminder is settled with the 7-day one: one message, not two', (t) => {
  const rules = policy({ enforceOn: at(60).toISOString() });
  const late = dueReminder(rules, NOW.toISOString(), at(55), []);
  t.deepEqual(late, { send: 7, settle: [30, 7] });
  t.deepEqual(dueReminder(rules, NOW.toISOString(), at(35), []), { send: 30, settle: [30] });
  t.deepEqual(dueReminder(rules, NOW.toISOString(), at(35), [30]), { send: null, settle: [] });
  t.deepEqual(dueReminder(rules, NOW.toISOString(), at(60), []), { send: null, settle: [] }, 'enforced: too late');
  t.deepEqual(dueReminder(NO_POLICY, NOW.toISOString(), at(1), []), { send: null, settle: [] });
});

test('the flags: --max-lifetime none lifts the limit; --enforce-on 30d, or a date from its first local moment', (t) => {
  t.is(parseDaysOrNone('none', '--max-lifetime'), null);
  t.is(parseDaysOrNone(' 90 ', '--max-lifetime'), 90);
  t.throws(() => parseDaysOrNone('0', '--max-lifetime'), { message: /at least 1/ });
  t.throws(() => parseDaysOrNone('ninety', '--max-lifetime'), { message: /--max-lifetime needs a whole number/ });
  t.is(parseEnforceOn('now', NOW), 'now');
  t.is(parseEnforceOn('30d', NOW), at(30).toISOString());
  t.is(parseEnforceOn('2027-01-01', NOW), new Date(2027, 0, 1).toISOString());
  t.is(parseEnforceOn('2027-01-01T09:30:00Z', NOW), '2027-01-01T09:30:00.000Z');
  t.throws(() => parseEnforceOn('2027-02-30', NOW), { message: /not a real calendar date/ });
  t.throws(() => parseEnforceOn('next month', NOW), { message: /--enforce-on: cannot read/ });
});
