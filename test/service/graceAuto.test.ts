/**
 * `rotate --grace auto` across a moving clock, on both engines: the old secret keeps working
 * while a source uses it and ends by itself once it has gone quiet, at its cap at the latest,
 * or at once with --finish; each end is audited with its reason and told to the owner and to
 * whoever rotated. Uses are recorded as the server records them (test/helpers/usage.ts).
 */
import { ConflictError } from '../../src/core/errors.js';
import { perEngine } from '../helpers/engines.js';
import { auditRecords, DAY, HOUR, keyInput, refusal } from '../helpers/service.js';
import { clockedStore, usageRig } from '../helpers/usage.js';

const MINUTE = 60_000;
const BILLING = {
  address: '10.9.9.9',
  userAgent: 'billing-verifier/2',
  source: { service: 'billing', address: '10.0.0.5' },
};

async function setUp(t: Parameters<Parameters<typeof perEngine>[1]>[0], engine: 'sqlite' | 'postgres') {
  const { store, clock, admin } = await clockedStore(t, engine);
  await admin.addUser('bob@acme.test', 'Bob');
  const key = await admin.createKey(
    keyInput({ name: 'deploy', owner: 'bob@acme.test', expiry: { kind: 'days', days: 90 } }),
  );
  const rig = await usageRig(t, store, clock.now);
  return { store, clock, admin, key, rig };
}

perEngine(
  '--grace auto: the old secret works while a source uses it, and ends once quiet for the period',
  async (t, engine) => {
    const { clock, admin, key, rig } = await setUp(t, engine);
    const old = { accessKeyId: key.accessKeyId, secretKey: key.secretKey };
    const fresh = await admin.rotateKey(key.accessKeyId, { kind: 'auto', quietForMs: HOUR });
    t.is(fresh.grace?.mode, 'auto');
    t.is(fresh.previousSecretValidUntil, new Date(clock.now().getTime() + HOUR).toISOString());

    // billing keeps using the old secret every 40 minutes for five hours: far past the first
    // quiet period, the grace lasts.
    for (let i = 0; i < 8; i++) {
      clock.advance(40 * MINUTE);
      t.true((await rig.verify(old, BILLING)).valid, `use ${i}`);
      await rig.flush();
    }
    const shown = await admin.showKey(key.accessKeyId);
    t.is(shown.grace?.mode, 'auto');
    const previous = shown.secrets.find((s) => s.version === 'previous')!;
    t.deepEqual(
      previous.sources.map((s) => [s.service, s.address, s.via, s.userAgent, s.count]),
      [['billing', '10.0.0.5', '10.9.9.9', 'billing-verifier/2', 8]],
    );
    t.is(previous.lastUsedAt, clock.now().toISOString());
    t.deepEqual(shown.secrets.find((s) => s.version === 'current')!.sources, []);

    // billing moves to the new secret; the old one goes quiet. 59 minutes later it still works…
    t.true((await rig.verify({ accessKeyId: key.accessKeyId, secretKey: fresh.secretKey }, BILLING)).valid);
    await rig.flush();
    clock.advance(59 * MINUTE);
    t.true((await admin.verifyKey(old)).valid);
    // …and an hour after its last use it does not, on every path.
    clock.advance(MINUTE);
    t.false((await admin.verifyKey(old)).valid);
    t.false((await rig.verify(old, BILLING)).valid);
    t.true((await admin.verifyKey({ accessKeyId: key.accessKeyId, secretKey: fresh.secretKey })).valid);

    // The next write records the end: audited as quiet, told to the owner and to who rotated.
    await admin.addUser('carol@acme.test', 'Carol');
    const ended = await auditRecords(admin, 'key.grace_ended');
    t.is(ended.length, 1);
    t.like(JSON.parse(ended[0]!.details), { reason: 'quiet', endedAt: clock.now().toISOString() });
    t.is(ended[0]!.actor, 'akm');
    const bob = await admin.listNotifications({ user: 'bob@acme.test' });
    t.regex(bob.items[0]!.message, /old secret of your key "deploy".*no longer works.*quiet/);
    const mine = await admin.listNotifications();
    t.regex(mine.items[0]!.message, /old secret of the key "deploy".* of bob@acme\.test no longer works/);
    // Erased: nothing of the previous secret is left to accept.
    t.is((await admin.showKey(key.accessKeyId)).grace, null);
    const row = await admin.ctx.store.read((q) =>
      q.get<{ p: Buffer | null; u: string | null }>(
        'SELECT previous_sealed AS p, previous_quiet_until AS u FROM keys WHERE id = @id',
        {
          id: key.accessKeyId,
        },
      ),
    );
    t.deepEqual(row, { p: null, u: null });
  },
);

perEngine(
  '--grace auto does not end while a source still uses it; at 30 days it ends anyway (cap)',
  async (t, engine) => {
    const { clock, admin, key, rig } = await setUp(t, engine);
    const old = { accessKeyId: key.accessKeyId, secretKey: key.secretKey };
    await admin.rotateKey(key.accessKeyId, { kind: 'auto', quietForMs: 7 * DAY });
    for (let day = 6; day < 30; day += 6) {
      clock.advance(6 * DAY);
      t.true((await rig.verify(old, BILLING)).valid, `day ${day}`);
      await rig.flush();
      await admin.addUser(`u${day}@acme.test`, ''); // writes come and go: nothing ends
      t.is((await auditRecords(admin, 'key.grace_ended')).length, 0);
    }
    clock.advance(6 * DAY); // day 30: used 6 days ago, within its quiet period, but at its cap
    t.false((await rig.verify(old, BILLING)).valid);
    await admin.addUser('late@acme.test', '');
    const ended = await auditRecords(admin, 'key.grace_ended');
    t.is(ended.length, 1);
    t.is(JSON.parse(ended[0]!.details).reason, 'cap');
  },
);

perEngine(
  '--finish ends a grace at once (audited: finish); with none in progress it is a conflict',
  async (t, engine) => {
    const { admin, key, rig } = await setUp(t, engine);
    const old = { accessKeyId: key.accessKeyId, secretKey: key.secretKey };
    await admin.rotateKey(key.accessKeyId, { kind: 'auto', quietForMs: HOUR });
    t.true((await rig.verify(old)).valid);
    const view = await admin.finishGrace(key.accessKeyId);
    t.is(view.accessKeyId, key.accessKeyId);
    t.false((await rig.verify(old)).valid);
    t.false((await admin.verifyKey(old)).valid);
    const ended = await auditRecords(admin, 'key.grace_ended');
    t.is(JSON.parse(ended[0]!.details).reason, 'finish');
    t.is(ended[0]!.actor, 'admin@acme.test');
    await refusal(t, () => admin.finishGrace(key.accessKeyId), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'no_grace',
    });
    // A fixed grace ends with --finish too.
    await admin.rotateKey(key.accessKeyId, 3_600_000);
    await admin.finishGrace(key.accessKeyId);
    t.is((await auditRecords(admin, 'key.grace_ended')).length, 2);
  },
);

perEngine(
  'a grace never outlives the key, and a grace altered at rest is never moved on by a use',
  async (t, engine) => {
    const { store, clock, admin, rig } = await setUp(t, engine);
    const short = await admin.createKey(keyInput({ name: 'short', expiry: { kind: 'days', days: 1 } }));
    const rotated = await admin.rotateKey(short.accessKeyId, { kind: 'auto', quietForMs: 7 * DAY });
    t.is(rotated.grace!.endsBy, short.expiresAt!);
    t.is(rotated.previousSecretValidUntil, short.expiresAt);

    // Someone with write access to the store pushes the quiet period out: the key reads as
    // altered (it verifies as nothing), and a use noted before the alteration does not reseal it.
    const old = { accessKeyId: short.accessKeyId, secretKey: short.secretKey };
    t.true((await rig.verify(old)).valid);
    const raw = await store.raw();
    await raw.run("UPDATE keys SET previous_quiet_until = '2099-01-01T00:00:00.000Z' WHERE id = @id", {
      id: short.accessKeyId,
    });
    await raw.close();
    await rig.flush();
    t.false((await rig.verify(old)).valid);
    clock.advance(HOUR);
    t.false((await rig.verify({ accessKeyId: short.accessKeyId, secretKey: rotated.secretKey })).valid);
  },
);
