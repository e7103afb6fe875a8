/**
 * The grace of a rotation, pure: --grace and --quiet-for as typed, and the previous secret's
 * fate over time checked against a model written here from the rule ("valid while used within
 * the quiet period, measured from the later of the rotation and its last use; never past 30 days
 * or the key's expiry").
 */
import test from 'ava';
import fc from 'fast-check';
import { UsageError } from '../../src/core/errors.js';
import {
  DEFAULT_QUIET_MS,
  checkGraceChoice,
  graceChoiceOf,
  graceEnd,
  graceEndedBy,
  graceFromFlags,
  noteQuietUse,
  previousAccepted,
  startGrace,
  type GraceChoice,
} from '../../src/core/grace.js';
import { checkProperty } from '../helpers/property.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00.000Z');

test('--grace and --quiet-for as typed', (t) => {
  t.deepEqual(graceFromFlags({}), { kind: 'none' });
  t.deepEqual(graceFromFlags({ grace: '1h' }), { kind: 'fixed', ms: 3_600_000 });
  t.deepEqual(graceFromFlags({ grace: 'auto' }), { kind: 'auto', quietForMs: DEFAULT_QUIET_MS });
  t.deepEqual(graceFromFlags({ grace: ' AUTO ' }), { kind: 'auto', quietForMs: DEFAULT_QUIET_MS });
  t.deepEqual(graceFromFlags({ grace: 'auto', quietFor: '2h' }), { kind: 'auto', quietForMs: 7_200_000 });
  for (const flags of [
    { quietFor: '1h' },
    { grace: '1h', quietFor: '1h' },
    { grace: 'auto', quietFor: '59s' },
    { grace: 'auto', quietFor: '31d' },
    { grace: 'auto', quietFor: 'soon' },
    { grace: 'automatic' },
    { grace: '31d' },
  ]) {
    const error = t.throws<UsageError>(() => graceFromFlags(flags), { instanceOf: UsageError }, JSON.stringify(flags));
    t.is(error.exitCode, 2);
    t.regex(error.message, /--(grace|quiet-for)/);
  }
});

test('the service checks a choice from any front end: whole milliseconds within bounds', (t) => {
  const bad: Array<number | GraceChoice> = [
    -1,
    1.5,
    Number.NaN,
    31 * DAY,
    { kind: 'fixed', ms: 0 },
    { kind: 'auto', quietForMs: MINUTE - 1 },
    { kind: 'auto', quietForMs: 30 * DAY + 1 },
    { kind: 'auto', quietForMs: Number.POSITIVE_INFINITY },
    { kind: 'forever' } as unknown as GraceChoice,
  ];
  for (const grace of bad) {
    const error = t.throws<UsageError>(() => graceChoiceOf(grace), { instanceOf: UsageError }, JSON.stringify(grace));
    t.is(error.code, 'invalid_grace');
  }
  t.deepEqual(graceChoiceOf(0), { kind: 'none' });
  t.deepEqual(graceChoiceOf(5000), { kind: 'fixed', ms: 5000 });
  t.deepEqual(checkGraceChoice({ kind: 'auto', quietForMs: MINUTE }), { kind: 'auto', quietForMs: MINUTE });
});

const scenario = fc.record({
  quietForMs: fc.integer({ min: MINUTE, max: 30 * DAY }),
  /** the key's expiry after the rotation, or none */
  expiresInMs: fc.option(fc.integer({ min: 1, max: 60 * DAY }), { nil: null }),
  /** uses of the old secret, as offsets from the rotation */
  uses: fc.array(fc.integer({ min: 0, max: 40 * DAY }), { maxLength: 30 }),
  at: fc.integer({ min: 0, max: 40 * DAY }),
});

/** The rule as stated, step by step over the uses. */
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function modelAccepted(s: Scenario): boolean {
  const cap = Math.min(30 * DAY, s.expiresInMs ?? Infinity);
  let lastUse = 0; // the rotation
  for (const use of [...s.uses].sort((a, b) => a - b)) {
    if (use > s.at) break;
    if (use >= cap || use >= lastUse + s.quietForMs) break; // the grace had ended: a later use cannot revive it
    lastUse = use;
  }
  return s.at < cap && s.at < lastUse + s.quietForMs;
}

test('--grace auto: the old secret is accepted exactly while the rule says (model over random uses)', (t) => {
  checkProperty(
    t,
    'auto grace against the model',
    fc.property(scenario, (s) => {
      const expiresAt = s.expiresInMs === null ? null : new Date(T0 + s.expiresInMs);
      let state = startGrace({ kind: 'auto', quietForMs: s.quietForMs }, new Date(T0), expiresAt);
      for (const use of [...s.uses].sort((a, b) => a - b))
        if (use <= s.at) state = noteQuietUse(state, new Date(T0 + use).toISOString());
      const now = new Date(T0 + s.at);
      const accepted = previousAccepted(state, now);
      if (accepted !== modelAccepted(s)) return false;
      // Never past the cap, whatever the uses.
      if (Date.parse(graceEnd(state)!) > T0 + Math.min(30 * DAY, s.expiresInMs ?? Infinity)) return false;
      const ended = graceEndedBy(state, now);
      if (accepted) return ended === null;
      return (
        ended !== null &&
        Date.parse(ended.at) <= now.getTime() &&
        (ended.reason === 'quiet') === state.quietUntil! < state.validUntil!
      );
    }),
  );
});

test('a fixed grace ends at its time or at the key expiry, whichever is first; none is never accepted', (t) => {
  checkProperty(
    t,
    'fixed grace',
    fc.property(
      fc.integer({ min: 1, max: 30 * DAY }),
      fc.option(fc.integer({ min: 1, max: 60 * DAY }), { nil: null }),
      fc.integer({ min: 0, max: 61 * DAY }),
      (ms, expiresIn, at) => {
        const state = startGrace(
          { kind: 'fixed', ms },
          new Date(T0),
          expiresIn === null ? null : new Date(T0 + expiresIn),
        );
        const end = Math.min(ms, expiresIn ?? Infinity);
        const now = new Date(T0 + at);
        return (
          previousAccepted(state, now) === at < end &&
          noteQuietUse(state, now.toISOString()) === state &&
          !previousAccepted(startGrace({ kind: 'none' }, new Date(T0), null), now) &&
          (at < end || graceEndedBy(state, now)?.reason === 'cap')
        );
      },
    ),
  );
});

test('an unreadable end is never accepted (fails closed)', (t) => {
  const now = new Date(T0);
  t.false(previousAccepted({ validUntil: 'soon', quietForMs: null, quietUntil: null }, now));
  t.false(previousAccepted({ validUntil: '9999-12-31T00:00:00.000Z', quietForMs: MINUTE, quietUntil: 'x' }, now));
});

test('the example of the README: used by billing until 14:00, quiet for an hour, ends at 15:00 (quiet)', (t) => {
  const rotated = new Date('2026-05-01T12:00:00.000Z');
  let state = startGrace({ kind: 'auto', quietForMs: 3_600_000 }, rotated, null);
  for (const at of ['12:20', '13:10', '14:00']) state = noteQuietUse(state, `2026-05-01T${at}:00.000Z`);
  t.is(state.quietUntil, '2026-05-01T15:00:00.000Z');
  t.true(previousAccepted(state, new Date('2026-05-01T14:59:59.999Z')));
  t.false(previousAccepted(state, new Date('2026-05-01T15:00:00.000Z')));
  t.deepEqual(graceEndedBy(state, new Date('2026-05-01T15:00:01.000Z')), {
    reason: 'quiet',
    at: '2026-05-01T15:00:00.000Z',
  });
  // A use seen just after the end, written later, does not bring it back.
  t.is(noteQuietUse(state, '2026-05-01T15:00:00.500Z'), state);
});
