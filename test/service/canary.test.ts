/**
 * Canary keys on both engines: only administrators make or see them; they never authenticate;
 * any attempt raises the alarm (audit, a bell and a mail for every administrator, the webhook
 * event), at most once per key every ten minutes, every attempt counted. A local `akm verify`,
 * read-only otherwise, writes the alarm.
 */
import { join } from 'node:path';
import { generateSecretKey } from '../../src/core/credentials.js';
import { ConflictError, DeniedError, NotFoundError, UsageError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine } from '../helpers/engines.js';
import { auditRecords, Clock, keyInput, refusal } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';
import { clockedStore, usageRig } from '../helpers/usage.js';

const MINUTE = 60_000;

perEngine(
  'only administrators make and see a canary; it is tenant-level; to anyone else it does not exist',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const admin = await store.open();
    t.teardown(() => admin.close());
    const canary = await admin.createKey(keyInput({ name: 'backup-admin', canary: true, groups: ['Administrators'] }));
    t.true(canary.canary);
    t.is(canary.owner, null);
    t.true((await admin.listKeys({})).items.find((k) => k.accessKeyId === canary.accessKeyId)!.canary);
    await refusal(t, () => admin.createKey(keyInput({ name: 'x', canary: true, owner: 'admin@acme.test' })), {
      instanceOf: UsageError,
      exitCode: 2,
    });
    await admin.createRole('Keys', ['keys:*']);
    const manager = await actingAs(admin, null, ['Keys']);
    // A canary with the powers of a key the manager could act on is just as invisible.
    await admin.createRole('KeyReader', ['keys:read']);
    const modest = await admin.createKey(keyInput({ name: 'ci-reader', canary: true, roles: ['KeyReader'] }));
    const plain = await admin.createKey(keyInput({ name: 'ci-plain', roles: ['KeyReader'] }));
    const visible = (await manager.listKeys({})).items.map((k) => k.accessKeyId);
    t.true(visible.includes(plain.accessKeyId));
    t.false(visible.includes(canary.accessKeyId));
    t.false(visible.includes(modest.accessKeyId));
    for (const ref of [modest.accessKeyId, 'ci-reader'])
      await refusal(t, () => manager.showKey(ref), { instanceOf: NotFoundError, exitCode: 3, code: 'key_not_found' });
    await refusal(t, () => manager.showKey(canary.accessKeyId), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'key_not_found',
    });
    await refusal(t, () => manager.showKey('backup-admin'), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'key_not_found',
    });
    await refusal(t, () => manager.deleteKey(canary.accessKeyId), { instanceOf: NotFoundError, exitCode: 3 });
    await refusal(t, () => manager.createKey(keyInput({ name: 'y', canary: true })), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'admin_required',
    });
  },
);

perEngine(
  'a local verify of a canary is "not valid" and writes the alarm, though the store was opened read-only',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const admin = await store.open();
    t.teardown(() => admin.close());
    await admin.addUser('second@acme.test', '');
    await admin.addGroupMember('Administrators', 'second@acme.test');
    const canary = await admin.createKey(keyInput({ name: 'backup-admin', canary: true }));
    const reader = await LocalService.open({
      store: store.location,
      masterKey: store.masterKeyOptions,
      readOnly: true,
      source: 'cli:thief@laptop',
    });
    t.teardown(() => reader.close());
    t.deepEqual(await reader.verifyKey({ accessKeyId: canary.accessKeyId, secretKey: canary.secretKey }), {
      valid: false,
    });
    const tripped = await auditRecords(admin, 'key.canary_tripped');
    t.is(tripped.length, 1);
    t.is(tripped[0]!.actor, `key:${canary.accessKeyId}`);
    t.is(tripped[0]!.source, 'cli:thief@laptop');
    t.like(JSON.parse(tripped[0]!.details), { path: 'local', secretMatched: true, attempts: 1 });
    for (const user of ['admin@acme.test', 'second@acme.test']) {
      const inbox = await admin.listNotifications({ user });
      t.regex(inbox.items[0]!.message, /ALERT: someone tried the canary key "backup-admin"/);
    }
    const mail = await admin.ctx.store.read((q) =>
      q.all<{ recipient: string; kind: string }>(
        "SELECT recipient, kind FROM outbox WHERE kind = 'key.canary_tripped' ORDER BY recipient",
      ),
    );
    t.deepEqual(
      mail.map((m) => m.recipient),
      ['admin@acme.test', 'second@acme.test'],
    );
    // A wrong secret trips it too (the id alone is a leak), and says so; a mistyped one (its
    // checksum fails) is refused before any lookup, as for every key.
    const clock = new Clock(new Date(Date.now() + 11 * MINUTE));
    const later = await LocalService.open({
      store: store.location,
      masterKey: store.masterKeyOptions,
      readOnly: true,
      now: clock.now,
    });
    t.teardown(() => later.close());
    t.false(
      (
        await later.verifyKey({
          accessKeyId: canary.accessKeyId,
          secretKey: canary.secretKey.replace(/.{6}$/, 'AAAAAA'),
        })
      ).valid,
    );
    t.is((await auditRecords(admin, 'key.canary_tripped')).length, 1);
    t.false((await later.verifyKey({ accessKeyId: canary.accessKeyId, secretKey: generateSecretKey() })).valid);
    const second = await auditRecords(admin, 'key.canary_tripped');
    t.is(second.length, 2);
    t.like(JSON.parse(second[1]!.details), { secretMatched: false });
  },
);

perEngine(
  'alerts at most once per key every ten minutes; every attempt is counted and named in the next one',
  async (t, engine) => {
    const { store, clock, admin } = await clockedStore(t, engine);
    const canary = await admin.createKey(keyInput({ name: 'bait', canary: true }));
    const rig = await usageRig(t, store, clock.now);
    const attempt = { accessKeyId: canary.accessKeyId, secretKey: canary.secretKey };
    for (let i = 0; i < 5; i++) {
      t.deepEqual(await rig.verify(attempt, { address: `203.0.113.${i}`, userAgent: 'curl/8' }), { valid: false });
      await rig.flush();
      clock.advance(MINUTE);
    }
    t.is((await auditRecords(admin, 'key.canary_tripped')).length, 1);
    let shown = await admin.showKey(canary.accessKeyId);
    t.is(shown.canaryAlarm!.attempts, 5);
    t.is(shown.canaryAlarm!.sources.length, 5);
    clock.advance(6 * MINUTE); // ten minutes after the first alert
    await rig.verify(attempt, { address: '203.0.113.9' });
    await rig.flush();
    const alerts = await auditRecords(admin, 'key.canary_tripped');
    t.is(alerts.length, 2);
    t.like(JSON.parse(alerts[1]!.details), { attempts: 5, path: 'verify' }); // this one and the 4 in between
    shown = await admin.showKey(canary.accessKeyId);
    t.is(shown.canaryAlarm!.attempts, 6);
    t.is(shown.canaryAlarm!.lastAlertAt, clock.now().toISOString());
    t.is((await admin.listNotifications()).items.filter((n) => n.action === 'key.canary_tripped').length, 2);
    // Nothing about a canary is ever a use.
    t.is(shown.lastUsedAt, null);
  },
);

perEngine(
  "the audit trail's numbers and counts over every key (a master key rotation's) are for administrators only",
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const admin = await store.open();
    t.teardown(() => admin.close());
    await admin.createKey(keyInput({ name: 'backup-admin', canary: true }));
    await admin.createRole('Auditor', ['audit:read']);
    const auditor = await actingAs(admin, null, ['Auditor']);
    await admin.rotateMasterKey({ newKeyFile: join(store.dir, `new-${process.pid}.key`) });
    const rotation = (service: LocalService) =>
      service.listAudit({ limit: 1 }).then((page) => page.items.find((r) => r.action === 'master-key.rotate')!);
    t.like((await rotation(admin)).details, { secrets: 2 }); // the canary's and the auditor's
    const seen = await rotation(auditor);
    t.is(seen.seq, null);
    for (const count of ['secrets', 'rows', 'auditRecords', 'tenants']) t.false(count in seen.details, count);
    // A numbered cursor would find where the records left out are.
    await refusal(t, () => auditor.listAudit({ after: '3', limit: 1 }), { instanceOf: UsageError, exitCode: 2 });
    const next = (await auditor.listAudit({ limit: 1 })).next!;
    t.regex(next, /^[A-Za-z0-9_-]{43}$/);
    t.is((await auditor.listAudit({ after: next, limit: 1 })).items.length, 1);
    // An administrator who gives an ordinary key a canary's name sees both.
    await admin.createKey(keyInput({ name: 'backup-admin' }));
    await refusal(t, () => admin.showKey('backup-admin'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'ambiguous_key',
    });
  },
);
