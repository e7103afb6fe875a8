/**
 * The tenant lifetime policy on a real store, both engines: staged enforcement across a moving
 * clock (warnings before --enforce-on, refusals from it), the dry run that changes nothing, the
 * people told when it is set and 30 and 7 days before enforcement (bells, and mail through a
 * real SMTP server, once each), `apply --cap`, and who may do what.
 */
import type { ExecutionContext } from 'ava';
import { ConflictError, DeniedError, UsageError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { auditRecords, Clock, DAY, HOUR, keyInput, refusal } from '../helpers/service.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
import { tempStore, type TempStore } from '../helpers/store.js';

interface Setup {
  store: TempStore;
  clock: Clock;
  admin: LocalService;
  smtp: TestSmtp;
}

async function setup(t: ExecutionContext, engine: Engine): Promise<Setup> {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const clock = new Clock('2026-05-01T09:00:00.000Z');
  const base = await store.open(clock.now);
  t.teardown(() => base.close());
  const admin = new LocalService(base.ctx, false, smtp.settings);
  await admin.addUser('bob@acme.test', 'Bob');
  await admin.addUser('carol@acme.test', 'Carol');
  await admin.addGroupMember('Administrators', 'carol@acme.test');
  return { store, clock, admin, smtp };
}

perEngine(
  'staged: create and extend beyond the policy warn before --enforce-on and are refused from it',
  async (t, engine) => {
    const { clock, admin } = await setup(t, engine);
    const key = await admin.createKey(keyInput({ name: 'k', expiry: { kind: 'days', days: 30 } }));
    const enforceOn = new Date(clock.now().getTime() + 10 * DAY).toISOString();
    await admin.setPolicy({ maxLifetimeDays: 90, enforceOn }, { dryRun: false });

    const early = await admin.createKey(keyInput({ name: 'early', expiry: { kind: 'days', days: 120 } }));
    t.is(early.warnings?.length, 1);
    t.regex(early.warnings![0]!, /at most 90 days .* enforced on 2026-05-11T09:00:00.000Z/);
    const extended = await admin.extendKey(key.accessKeyId, { kind: 'days', days: 200 });
    t.regex(extended.warnings![0]!, /at most 90 days/);
    t.is(extended.expiresAt, new Date(clock.now().getTime() + 200 * DAY).toISOString());
    const within = await admin.createKey(keyInput({ name: 'within', expiry: { kind: 'days', days: 90 } }));
    t.is(within.warnings, undefined, 'within the policy: no warning');

    clock.advance(10 * DAY - 1);
    t.is((await admin.extendKey(key.accessKeyId, { kind: 'days', days: 91 })).warnings?.length, 1, 'a moment before');
    clock.advance(1);
    const before = await admin.showKey(key.accessKeyId);
    const refused = await refusal(
      t,
      () => admin.createKey(keyInput({ name: 'late', expiry: { kind: 'days', days: 91 } })),
      {
        instanceOf: ConflictError,
        exitCode: 4,
        code: 'policy_violation',
        message: /at most 90 days \(until 2026-08-09T09:00:00.000Z\)/,
      },
    );
    t.regex(refused.hint ?? '', /within 90 days/);
    await refusal(t, () => admin.extendKey(key.accessKeyId, { kind: 'until', at: new Date('2026-09-01T00:00:00Z') }), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'policy_violation',
    });
    t.deepEqual(await admin.showKey(key.accessKeyId), before, 'the refused extension changed nothing');
    t.is((await admin.listKeys({ name: 'late' })).items.length, 0, 'the refused key was not made');
    t.is((await admin.extendKey(key.accessKeyId, { kind: 'days', days: 90 })).warnings, undefined);
  },
);

perEngine(
  'never expiring: administrators may under admins; under nobody it is a policy refusal, for them too',
  async (t, engine) => {
    const { admin } = await setup(t, engine);
    const bob = await actingAs(admin, 'bob@acme.test', ['KeyManager']);
    await admin.setPolicy({ maxLifetimeDays: 30 }, { dryRun: false });
    const forever = await admin.createKey(keyInput({ name: 'forever', expiry: { kind: 'never' } }));
    t.is(forever.warnings, undefined);
    // The rule comes first: for a non-administrator it is a denial whatever the policy says.
    await refusal(t, () => bob.createKey(keyInput({ name: 'b', owner: undefined, expiry: { kind: 'never' } })), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'never_expiry_denied',
    });
    await admin.setPolicy({ neverExpires: 'nobody' }, { dryRun: false });
    await refusal(t, () => admin.createKey(keyInput({ name: 'forever2', expiry: { kind: 'never' } })), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'policy_violation',
      message: /no key that never expires/,
    });
    await refusal(t, () => bob.extendKey(forever.accessKeyId, { kind: 'never' }), {
      instanceOf: DeniedError,
      exitCode: 5,
    });
  },
);

perEngine(
  'the dry run lists every key that would break the policy, once per reason, and changes nothing',
  async (t, engine) => {
    const { store, clock, admin, smtp } = await setup(t, engine);
    const old = await admin.createKey(keyInput({ name: 'old', expiry: { kind: 'days', days: 400 } }));
    clock.advance(200 * DAY);
    const forever = await admin.createKey(keyInput({ name: 'forever', expiry: { kind: 'never' } }));
    clock.advance(HOUR);
    await admin.createKey(keyInput({ name: 'fine', expiry: { kind: 'days', days: 30 } }));
    clock.advance(HOUR);
    const bobs = await admin.createKey(
      keyInput({ name: 'bobs', owner: 'bob@acme.test', expiry: { kind: 'days', days: 365 } }),
    );
    const raw = await store.raw();
    const before = await raw.dump();
    const preview = await admin.setPolicy(
      // the oldest secret is 200 days and 2 hours old
      { maxLifetimeDays: 90, neverExpires: 'nobody', rotateEveryDays: 180 },
      { dryRun: true },
    );
    t.deepEqual(preview.policy, {
      maxLifetimeDays: 90,
      neverExpires: 'nobody',
      rotateEveryDays: 180,
      enforceOn: clock.now().toISOString(),
    });
    t.deepEqual(
      preview.violations.map((v) => [v.name, v.reason, v.owner]),
      [
        ['old', 'lifetime_exceeded', null],
        ['old', 'secret_too_old', null],
        ['forever', 'never_expires', null],
        ['bobs', 'lifetime_exceeded', 'bob@acme.test'],
      ],
    );
    t.is(preview.violations[0]!.accessKeyId, old.accessKeyId);
    t.is(preview.violations[2]!.expiresAt, null);
    t.is(preview.violations[3]!.expiresAt, bobs.expiresAt);
    t.deepEqual(await raw.dump(), before, 'not a row changed');
    await raw.close();
    t.deepEqual(await admin.getPolicy(), {
      maxLifetimeDays: null,
      neverExpires: 'admins',
      rotateEveryDays: null,
      enforceOn: null,
    });
    t.is(smtp.received.length, 0);
    t.truthy(forever);
  },
);

perEngine(
  'setting it tells owners about their keys and administrators about all (not the one who set it)',
  async (t, engine) => {
    const { clock, admin, smtp } = await setup(t, engine);
    await admin.createKey(keyInput({ name: 'bobs', owner: 'bob@acme.test', expiry: { kind: 'days', days: 365 } }));
    await admin.createKey(keyInput({ name: 'tenant-wide', expiry: { kind: 'days', days: 365 } }));
    await admin.createKey(keyInput({ name: 'bobs-brief', owner: 'bob@acme.test', expiry: { kind: 'days', days: 10 } }));
    const enforceOn = new Date(clock.now().getTime() + 60 * DAY).toISOString();
    await admin.setPolicy({ maxLifetimeDays: 90, enforceOn }, { dryRun: false });

    const bell = async (user: string) =>
      (await admin.listNotifications({ user })).items.filter((n) => n.action === 'policy.notice');
    const bobs = await bell('bob@acme.test');
    t.is(bobs.length, 1);
    t.regex(bobs[0]!.message, /1 of your keys breaks it: "bobs"/);
    t.notRegex(bobs[0]!.message, /tenant-wide/);
    const carols = await bell('carol@acme.test');
    t.regex(carols[0]!.message, /2 keys of the tenant break it/);
    t.is((await bell('admin@acme.test')).length, 0, 'the person who set it has seen the list');

    const result = await admin.notifyExpiring({ withinDays: 2 });
    t.is(result.failed, 0);
    const mail = smtp.received.map((m) => ({ to: m.to.join(), subject: m.subject, body: m.body }));
    t.deepEqual(mail.map((m) => m.to).sort(), ['bob@acme.test', 'carol@acme.test']);
    const bobMail = mail.find((m) => m.to === 'bob@acme.test')!;
    t.regex(bobMail.subject, /A new key lifetime policy in tenant acme: 1 of your keys breaks it/);
    t.regex(bobMail.body, /keys valid for at most 90 days/);
    t.regex(bobMail.body, /bobs/);
    t.notRegex(bobMail.body, /tenant-wide|bobs-brief/);
    t.notRegex(bobMail.body, /akms_/, 'never a secret');
    t.is(result.messages.filter((m) => m.accessKeyId === null).length, 2);
    await admin.notifyExpiring({ withinDays: 2 });
    t.is(smtp.received.length, 2, 'each notice is sent once');
  },
);

perEngine(
  'reminders 30 and 7 days before enforcement, once each, by the hourly job across a moving clock',
  async (t, engine) => {
    const { clock, admin, smtp } = await setup(t, engine);
    await admin.createKey(keyInput({ name: 'bobs', owner: 'bob@acme.test', expiry: { kind: 'days', days: 365 } }));
    const enforceOn = new Date(clock.now().getTime() + 45 * DAY);
    await admin.setPolicy({ maxLifetimeDays: 90, enforceOn: enforceOn.toISOString() }, { dryRun: false });
    const seen: Array<{ day: number; subject: string }> = [];
    for (let hour = 0; hour < 50 * 24; hour += 5) {
      const day = Math.floor(hour / 24);
      const before = smtp.received.length;
      await admin.notifyExpiring({ withinDays: 2 });
      for (const m of smtp.received.slice(before))
        if (m.to.includes('bob@acme.test')) seen.push({ day, subject: m.subject });
      clock.advance(5 * HOUR);
    }
    t.deepEqual(
      seen.map((s) => s.day),
      [0, 15, 38],
      'at setting, then 30 and 7 days before (enforced on day 45)',
    );
    t.regex(seen[1]!.subject, /enforced in 30 days: 1 of your keys breaks it/);
    t.regex(seen[2]!.subject, /enforced in 7 days/);
    const bells = (await admin.listNotifications({ user: 'bob@acme.test' })).items.filter(
      (n) => n.action === 'policy.notice',
    );
    t.is(bells.length, 3);
  },
);

perEngine(
  'a date less than 30 days ahead gets only the 7-day reminder; a key fixed meanwhile gets none',
  async (t, engine) => {
    const { clock, admin, smtp } = await setup(t, engine);
    const bobs = await admin.createKey(
      keyInput({ name: 'bobs', owner: 'bob@acme.test', expiry: { kind: 'days', days: 365 } }),
    );
    await admin.setPolicy(
      { maxLifetimeDays: 90, enforceOn: new Date(clock.now().getTime() + 20 * DAY).toISOString() },
      { dryRun: false },
    );
    await admin.notifyExpiring({ withinDays: 2 });
    t.is(smtp.received.length, 2, 'bob and carol, at setting');
    clock.advance(14 * DAY);
    await admin.notifyExpiring({ withinDays: 2 });
    t.deepEqual(
      smtp.received
        .slice(2)
        .map((m) => m.to.join())
        .sort(),
      ['admin@acme.test', 'bob@acme.test', 'carol@acme.test'],
      'the 7-day reminder, to everyone: the one who set the policy too',
    );
    t.true(smtp.received.slice(2).every((m) => /enforced in 7 days/.test(m.subject)));
    // A new version of the policy starts its reminders again; a key within it is not named.
    await admin.extendKey(bobs.accessKeyId, { kind: 'days', days: 30 });
    await admin.setPolicy({ enforceOn: new Date(clock.now().getTime() + 40 * DAY).toISOString() }, { dryRun: false });
    clock.advance(11 * DAY);
    await admin.notifyExpiring({ withinDays: 2 });
    t.is(smtp.received.length, 5, 'nobody breaks it: nothing to tell');
  },
);

perEngine(
  'apply --cap: asked for, every key that outlives the policy capped, one audit record each',
  async (t, engine) => {
    const { clock, admin } = await setup(t, engine);
    const long = await admin.createKey(keyInput({ name: 'long', expiry: { kind: 'days', days: 365 } }));
    const forever = await admin.createKey(keyInput({ name: 'forever', expiry: { kind: 'never' } }));
    const fine = await admin.createKey(keyInput({ name: 'fine', expiry: { kind: 'days', days: 10 } }));
    await admin.setPolicy({ maxLifetimeDays: 60 }, { dryRun: false });
    t.is((await admin.showKey(long.accessKeyId)).expiresAt, long.expiresAt, 'setting changes no key');
    const plan = await admin.applyPolicy({ dryRun: true });
    t.deepEqual(
      plan.keys.map((k) => k.name),
      ['long'],
      'never expiring keys are within a policy that allows them',
    );
    t.is((await admin.showKey(long.accessKeyId)).expiresAt, long.expiresAt, 'the dry run changes nothing');
    await admin.setPolicy({ neverExpires: 'nobody' }, { dryRun: false });
    const before = (await auditRecords(admin, 'key.extend')).length;
    const capped = await admin.applyPolicy({ dryRun: false });
    const cap = new Date(clock.now().getTime() + 60 * DAY).toISOString();
    const byName = (keys: typeof capped.keys) => [...keys].sort((a, b) => a.name.localeCompare(b.name));
    t.deepEqual(
      byName(capped.keys).map((k) => [k.accessKeyId, k.from.expiresAt, k.to?.expiresAt]),
      [
        [forever.accessKeyId, null, cap],
        [long.accessKeyId, long.expiresAt, cap],
      ],
    );
    t.is((await admin.showKey(forever.accessKeyId)).expiresAt, cap);
    t.is((await admin.showKey(fine.accessKeyId)).expiresAt, fine.expiresAt);
    const records = (await auditRecords(admin, 'key.extend')).slice(before);
    t.deepEqual(records.map((r) => r.target).sort(), [long.accessKeyId, forever.accessKeyId].sort());
    t.true(records.every((r) => r.details.includes('policy apply --cap')));
    t.deepEqual((await admin.applyPolicy({ dryRun: false })).keys, [], 'nothing left to cap');
  },
);

perEngine(
  'who: keys:read shows the policy; only administrators set or apply it (denied, audited, unchanged)',
  async (t, engine) => {
    const { admin } = await setup(t, engine);
    const reader = await actingAs(admin, null, ['ReadOnly']);
    const manager = await actingAs(admin, null, ['KeyManager']);
    const nobody = await actingAs(admin, null, ['Ingestion']);
    t.is((await reader.getPolicy()).neverExpires, 'admins');
    await refusal(t, () => nobody.getPolicy(), { instanceOf: DeniedError, exitCode: 5, code: 'permission_denied' });
    for (const call of [
      () => manager.setPolicy({ maxLifetimeDays: 1 }, { dryRun: false }),
      () => manager.setPolicy({ maxLifetimeDays: 1 }, { dryRun: true }),
      () => manager.applyPolicy({ dryRun: false }),
    ])
      await refusal(t, call, { instanceOf: DeniedError, exitCode: 5, code: 'admin_required' });
    t.is((await admin.getPolicy()).maxLifetimeDays, null);
    const denials = await auditRecords(admin, 'access.denied');
    t.deepEqual(
      denials.slice(-3).map((d) => JSON.parse(d.details).operation),
      ['policy.set', 'policy.set', 'policy.apply'],
    );
    await refusal(t, () => admin.setPolicy({ enforceOn: '2020-01-01T00:00:00Z' }, { dryRun: false }), {
      instanceOf: UsageError,
      exitCode: 2,
      message: /in the past/,
    });
    const set = await auditRecords(admin, 'policy.set');
    t.is(set.length, 0);
  },
);
