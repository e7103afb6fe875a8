/**
 * Brownouts across a moving clock, on both engines: a key deactivated for a while refuses every
 * verification until its end, then works again by itself (no job runs); the attempts it refused
 * with the right secret are listed with their sources; a second --for only extends it; activate
 * ends it early, for administrators only when an administrator started it.
 */
import { ConflictError, DeniedError, UsageError } from '../../src/core/errors.js';
import { perEngine } from '../helpers/engines.js';
import { actingAs } from '../helpers/acting.js';
import { auditRecords, keyInput, refusal } from '../helpers/service.js';
import { clockedStore, usageRig } from '../helpers/usage.js';

const MINUTE = 60_000;

perEngine(
  'a brownout refuses until its end, then the key works again by itself; refusals are listed',
  async (t, engine) => {
    const { store, clock, admin } = await clockedStore(t, engine);
    const key = await admin.createKey(keyInput({ name: 'old-ci' }));
    const secret = { accessKeyId: key.accessKeyId, secretKey: key.secretKey };
    const rig = await usageRig(t, store, clock.now);

    const browned = await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 30 * MINUTE });
    const end = new Date(clock.now().getTime() + 30 * MINUTE).toISOString();
    t.is(browned.status, 'inactive');
    t.is(browned.inactiveUntil, end);
    t.deepEqual(JSON.parse((await auditRecords(admin, 'key.deactivate'))[0]!.details).inactiveUntil, end);

    // Minute by minute: refused through the brownout, on every path; each refusal recorded.
    for (let minute = 0; minute < 30; minute += 7) {
      t.false((await rig.verify(secret, { source: { service: 'reports', address: '10.0.0.7' } })).valid, `${minute}`);
      t.false((await admin.verifyKey(secret)).valid);
      t.is((await admin.listKeys({ status: 'inactive' })).items.length, 1);
      clock.advance(7 * MINUTE);
    }
    // A wrong secret during the brownout is not "what would break": not listed.
    t.false((await rig.verify({ ...secret, secretKey: key.secretKey.replace(/.{6}$/, '000000') })).valid);
    await rig.flush();
    let shown = await admin.showKey(key.accessKeyId);
    t.deepEqual(
      shown.brownoutAttempts.map((a) => [a.service, a.address, a.via, a.count]),
      [['reports', '10.0.0.7', '10.1.1.1', 5]],
    );

    clock.set(end);
    t.true((await rig.verify(secret)).valid);
    t.true((await admin.verifyKey(secret)).valid);
    shown = await admin.showKey(key.accessKeyId);
    t.is(shown.status, 'active');
    t.is(shown.inactiveUntil, null);
    t.is((await admin.listKeys({ status: 'active' })).items.length, 1);
    t.is((await admin.listKeys({ status: 'inactive' })).items.length, 0);
    // The next write records that it came back (audited, as akm).
    await admin.addUser('x@acme.test', '');
    const back = (await auditRecords(admin, 'key.activate')).map((r) => [r.actor, JSON.parse(r.details).reason]);
    t.deepEqual(back, [['akm', 'brownout_ended']]);
    const row = await admin.ctx.store.read((q) =>
      q.get<{ status: string; u: string | null }>('SELECT status, inactive_until AS u FROM keys WHERE id = @id', {
        id: key.accessKeyId,
      }),
    );
    t.deepEqual(row, { status: 'active', u: null });
  },
);

perEngine('a brownout only grows; activate ends it early; deactivate makes it permanent', async (t, engine) => {
  const { clock, admin } = await clockedStore(t, engine);
  const key = await admin.createKey(keyInput({ name: 'k' }));
  const first = await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 60 * MINUTE });
  const long = first.inactiveUntil;
  t.is(first.warnings, undefined);
  const records = (await auditRecords(admin)).length;
  // A shorter one changes nothing, records nothing, and says so: the key will not be back when asked.
  const shorter = await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 5 * MINUTE });
  t.is(shorter.inactiveUntil, long);
  t.deepEqual(shorter.warnings, [
    `${key.accessKeyId} is already in a brownout until ${long}, longer than the 5 minutes asked, so it still ends ` +
      `then: akm activate ${key.accessKeyId} ends it now, a longer --for extends it`,
  ]);
  t.is((await auditRecords(admin)).length, records, 'nothing recorded');
  const longer = await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 2 * 60 * MINUTE });
  t.true(longer.inactiveUntil! > long!);
  t.is(longer.warnings, undefined);
  const bulk = await admin.bulkKeys({ action: { kind: 'deactivate', forMs: 5 * MINUTE }, keys: ['k'], dryRun: false });
  t.like(bulk.keys[0], { changed: false });
  t.regex(bulk.warnings.join('\n'), /already in a brownout until .*, longer than the 5 minutes asked/);
  t.is((await admin.setKeyStatus(key.accessKeyId, 'active')).status, 'active');
  t.true((await admin.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey })).valid);

  await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 5 * MINUTE });
  const permanent = await admin.setKeyStatus(key.accessKeyId, 'inactive');
  t.is(permanent.inactiveUntil, null);
  clock.advance(10 * MINUTE);
  t.is((await admin.showKey(key.accessKeyId)).status, 'inactive');
  // A permanent deactivation does not become a brownout (that would re-activate it later).
  await refusal(t, () => admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 5 * MINUTE }), {
    instanceOf: ConflictError,
    exitCode: 4,
    code: 'already_inactive',
  });
  for (const forMs of [MINUTE - 1, 7 * 86_400_000 + 1, 1.5])
    await refusal(t, () => admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs }), {
      instanceOf: UsageError,
      exitCode: 2,
      code: 'invalid_brownout',
    });
  await refusal(t, () => admin.setKeyStatus(key.accessKeyId, 'active', { forMs: MINUTE }), {
    instanceOf: UsageError,
    exitCode: 2,
    code: 'invalid_brownout',
  });
});

perEngine(
  "an administrator's brownout is ended early by administrators only; once over, anyone may act",
  async (t, engine) => {
    const { clock, admin } = await clockedStore(t, engine);
    await admin.addUser('bob@acme.test', 'Bob');
    await admin.createRole('KeyWriter', ['keys:read', 'keys:write']);
    const bob = await actingAs(admin, 'bob@acme.test', ['KeyWriter']);
    const target = await admin.createKey(keyInput({ name: 'bob-app', owner: 'bob@acme.test' }));
    await admin.setKeyStatus(target.accessKeyId, 'inactive', { forMs: 30 * MINUTE });
    await refusal(t, () => bob.setKeyStatus(target.accessKeyId, 'active'), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'reactivation_denied',
    });
    // Nor by first making it his own deactivation, for good or for longer, then activating.
    t.is((await bob.setKeyStatus(target.accessKeyId, 'inactive')).status, 'inactive');
    await refusal(t, () => bob.setKeyStatus(target.accessKeyId, 'active'), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'reactivation_denied',
    });
    await refusal(t, () => bob.bulkKeys({ action: { kind: 'activate' }, keys: [target.accessKeyId], dryRun: false }), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'reactivation_denied',
    });
    await admin.setKeyStatus(target.accessKeyId, 'active');
    await admin.setKeyStatus(target.accessKeyId, 'inactive', { forMs: 30 * MINUTE });
    await bob.bulkKeys({
      action: { kind: 'deactivate', forMs: 60 * MINUTE },
      keys: [target.accessKeyId],
      dryRun: false,
    });
    await refusal(t, () => bob.setKeyStatus(target.accessKeyId, 'active'), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'reactivation_denied',
    });
    clock.advance(61 * MINUTE);
    // Over: the key is active, and whoever browned it out no longer matters.
    t.is((await bob.setKeyStatus(target.accessKeyId, 'inactive', { forMs: 5 * MINUTE })).status, 'inactive');
    t.is((await bob.setKeyStatus(target.accessKeyId, 'active')).status, 'active');
  },
);

perEngine('deactivate --for on several keys browns out each, all or none', async (t, engine) => {
  const { clock, admin } = await clockedStore(t, engine);
  const [a, b, c] = [
    await admin.createKey(keyInput({ name: 'a' })),
    await admin.createKey(keyInput({ name: 'b' })),
    await admin.createKey(keyInput({ name: 'c' })),
  ];
  const brownout = { kind: 'deactivate' as const, forMs: 30 * MINUTE };
  const end = new Date(clock.now().getTime() + 30 * MINUTE).toISOString();

  // One key deactivated until activated: a brownout would end that by itself, so nothing changes.
  await admin.setKeyStatus(c.accessKeyId, 'inactive');
  const keysOf = () => admin.ctx.store.read((q) => q.all('SELECT id, status, inactive_until FROM keys ORDER BY id'));
  const before = await keysOf();
  for (const dryRun of [true, false])
    await refusal(t, () => admin.bulkKeys({ action: brownout, keys: ['a', 'b', 'c'], dryRun }), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'already_inactive',
    });
  t.deepEqual(await keysOf(), before);
  await refusal(t, () => admin.bulkKeys({ action: { kind: 'deactivate', forMs: 1 }, keys: ['a'], dryRun: false }), {
    instanceOf: UsageError,
    exitCode: 2,
    code: 'invalid_brownout',
  });

  const preview = await admin.bulkKeys({ action: brownout, keys: ['a', 'b'], dryRun: true });
  t.deepEqual(
    preview.keys.map((k) => [k.name, k.to?.status, k.changed]),
    [
      ['a', 'inactive', true],
      ['b', 'inactive', true],
    ],
  );
  t.deepEqual(await keysOf(), before);
  const done = await admin.bulkKeys({ action: brownout, keys: ['a', 'b'], dryRun: false });
  t.true(done.keys.every((k) => k.changed));
  for (const key of [a, b]) t.is((await admin.showKey(key.accessKeyId)).inactiveUntil, end);
  const audited = (await auditRecords(admin, 'key.deactivate')).map((r) => JSON.parse(r.details).inactiveUntil);
  t.deepEqual(audited.filter(Boolean), [end, end]);

  // A bulk activate ends the brownouts; a bulk deactivate would have made them last until activated.
  clock.advance(MINUTE);
  await admin.bulkKeys({ action: { kind: 'activate' }, keys: ['a'], dryRun: false });
  t.is((await admin.showKey(a.accessKeyId)).status, 'active');
  await admin.bulkKeys({ action: { kind: 'deactivate' }, keys: ['b'], dryRun: false });
  clock.advance(60 * MINUTE);
  const shown = await admin.showKey(b.accessKeyId);
  t.deepEqual([shown.status, shown.inactiveUntil], ['inactive', null]);
  t.false((await admin.verifyKey({ accessKeyId: b.accessKeyId, secretKey: b.secretKey })).valid);
});
