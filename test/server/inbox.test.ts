/** The bell inbox, the expiry mail job and the audit trail through the server. */
import test from 'ava';
import { serverFixture } from '../helpers/server.js';

test('notifications, audit and the expiry job work remotely as locally', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const admin = fx.remote(fx.admin);
  await admin.addUser('bob@acme.test', 'Bob');
  const bobKey = await admin.createKey({
    name: 'bob',
    type: 'access',
    expiry: { kind: 'days', days: 1 },
    owner: 'bob@acme.test',
    groups: [],
    roles: ['ReadOnly'],
  });
  await admin.assignKey(bobKey.accessKeyId, {
    addGroups: [],
    addRoles: ['KeyManager'],
    removeGroups: [],
    removeRoles: [],
  });
  const bob = fx.remote(bobKey);

  const inbox = await bob.listNotifications({ unread: true });
  t.is(inbox.user, 'bob@acme.test');
  t.true(inbox.items.length >= 1);
  t.true(inbox.items.some((n) => n.action === 'key.assign' && n.accessKeyId === bobKey.accessKeyId));
  const marked = await bob.listNotifications({ markRead: true, limit: 50 });
  t.true(marked.items.length >= 1);
  t.is((await bob.listNotifications({ unread: true })).items.length, 0);
  // Another user's inbox needs users:manage.
  await t.throwsAsync(bob.listNotifications({ user: 'admin@acme.test' }), { code: 'permission_denied' });

  const trail = await admin.listAudit({ key: bobKey.accessKeyId });
  t.deepEqual(trail.items.map((r) => r.action).sort(), ['key.assign', 'key.create']);
  t.true(trail.items.every((r) => r.source === 'http:127.0.0.1' && r.actor === 'admin@acme.test'));
  t.false(JSON.stringify(trail).includes(bobKey.secretKey));
  const paged = await admin.listAudit({ limit: 1 });
  t.is(paged.items.length, 1);
  t.truthy(paged.next);
  t.is((await admin.listAudit({ limit: 1, after: paged.next! })).items.length, 1);
  const verified = await admin.verifyAudit();
  t.true(verified.ok, JSON.stringify(verified.problems));
  t.is((await admin.verifyAudit({ expectHead: verified.head! })).ok, true);

  const planned = await admin.notifyExpiring({ withinDays: 2, dryRun: true });
  t.true(planned.dryRun);
  t.true(planned.messages.some((m) => m.accessKeyId === bobKey.accessKeyId));
  // A user key without users:manage cannot run the mail job or read the audit trail of others.
  await t.throwsAsync(fx.remote(bobKey).notifyExpiring({ withinDays: 2, dryRun: true }));
});
