/**
 * Bell notifications on a real store: who is notified for each trigger (assignment changes,
 * assignments given at create, an owner's key changed by someone else), each person once, in
 * the change's own transaction; and the inbox (newest first, unread, mark read, permissions).
 */
import { perEngine, type Engine } from '../helpers/engines.js';
import { DeniedError, NotFoundError, UsageError } from '../../src/core/errors.js';
import type { LocalService } from '../../src/service/local/service.js';
import type { Notification } from '../../src/service/types.js';
import { actingAs } from '../helpers/acting.js';
import { Clock, HOUR, keyInput, refusal } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

async function setup(t: import('ava').ExecutionContext, engine: Engine) {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const clock = new Clock();
  const admin = await store.open(clock.now);
  t.teardown(() => admin.close());
  for (const who of ['alice', 'bob', 'carol', 'dave']) await admin.addUser(`${who}@acme.test`, who);
  await admin.createGroup('Deployers');
  // carol and dave act through keys of theirs carrying the Administrator role (not members of Administrators)
  const carol = await actingAs(admin, 'carol@acme.test', ['Administrator']);
  const dave = await actingAs(admin, 'dave@acme.test', ['Administrator']);
  return { store, clock, admin, carol, dave };
}

/** The notifications about one key in someone's inbox, newest first. */
async function about(service: LocalService, user: string, keyId: string): Promise<Notification[]> {
  return (await service.listNotifications({ user })).items.filter((n) => n.accessKeyId === keyId);
}

perEngine(
  'a change notifies the owner, the administrators, the creator and the last modifier, each once, never the actor',
  async (t, engine) => {
    const { clock, admin, carol, dave } = await setup(t, engine);
    const key = await carol.createKey(keyInput({ name: 'deploy', owner: 'alice@acme.test' }));
    clock.advance(HOUR);
    await dave.extendKey(key.accessKeyId, { kind: 'days', days: 60 }); // dave becomes the last modifier
    clock.advance(HOUR);
    await admin.assignKey(key.accessKeyId, {
      addGroups: ['Deployers'],
      addRoles: ['ReadOnly'],
      removeGroups: [],
      removeRoles: [],
    });

    const assigns = async (user: string) =>
      (await about(admin, user, key.accessKeyId)).filter((n) => n.action === 'key.assign');
    t.is(
      (await assigns('alice@acme.test'))[0]?.message,
      `admin@acme.test changed the assignments of your key "deploy" (${key.accessKeyId}): added group Deployers and role ReadOnly`,
    );
    for (const user of ['carol@acme.test', 'dave@acme.test']) {
      const got = await assigns(user);
      t.is(got.length, 1, user);
      t.is(
        got[0]!.message,
        `admin@acme.test changed the assignments of the key "deploy" (${key.accessKeyId}) of alice@acme.test: added group Deployers and role ReadOnly`,
      );
      t.is(got[0]!.actor, 'admin@acme.test');
      t.is(got[0]!.keyName, 'deploy');
      t.false(got[0]!.read);
    }
    // the admin made the change: told of the others' changes (as an administrator), not of their own
    t.deepEqual(
      (await about(admin, 'admin@acme.test', key.accessKeyId)).map((n) => n.action),
      ['key.extend', 'key.create'],
    );
    t.deepEqual(await about(admin, 'bob@acme.test', key.accessKeyId), [], 'bob has nothing to do with the key');
    t.deepEqual(
      (await about(admin, 'carol@acme.test', key.accessKeyId)).map((n) => n.action),
      ['key.assign', 'key.extend'],
      'carol created it: told of the others, not of her own create',
    );

    // now the admin is the last modifier, and dave no longer concerned
    await carol.assignKey(key.accessKeyId, {
      addGroups: [],
      addRoles: [],
      removeGroups: [],
      removeRoles: ['ReadOnly'],
    });
    t.is((await assigns('admin@acme.test')).length, 1);
    t.is((await assigns('dave@acme.test')).length, 1);
    t.is((await assigns('carol@acme.test')).length, 1);
    t.regex(
      (await about(admin, 'alice@acme.test', key.accessKeyId))[0]!.message,
      /^carol@acme\.test changed the assignments of your key .*: removed role ReadOnly$/,
    );
  },
);

perEngine('nobody is told of their own change, even as owner, creator and last modifier', async (t, engine) => {
  const { admin } = await setup(t, engine);
  const alice = await actingAs(admin, 'alice@acme.test', ['KeyManager']);
  const own = await alice.createKey(keyInput({ name: 'mine', owner: 'alice@acme.test', roles: ['KeyManager'] }));
  await alice.assignKey(own.accessKeyId, {
    addGroups: [],
    addRoles: [],
    removeGroups: [],
    removeRoles: ['KeyManager'],
  });
  t.deepEqual(await about(admin, 'alice@acme.test', own.accessKeyId), []);
  const told = await about(admin, 'admin@acme.test', own.accessKeyId);
  t.deepEqual(
    told.map((n) => n.action),
    ['key.assign', 'key.create'],
  );
  t.regex(
    told[1]!.message,
    /^alice@acme\.test created the key "mine" \(AKM[A-Z2-7]{17}\) of alice@acme\.test with role KeyManager$/,
  );
});

perEngine('a create tells the owner and the administrators, with or without groups and roles', async (t, engine) => {
  const { admin, carol } = await setup(t, engine);
  const plain = await carol.createKey(keyInput({ name: 'plain', owner: 'bob@acme.test' }));
  t.is(
    (await about(admin, 'bob@acme.test', plain.accessKeyId))[0]?.message,
    `carol@acme.test created your key "plain" (${plain.accessKeyId})`,
  );
  t.is(
    (await about(admin, 'admin@acme.test', plain.accessKeyId))[0]?.message,
    `carol@acme.test created the key "plain" (${plain.accessKeyId}) of bob@acme.test`,
  );
  t.deepEqual(await about(admin, 'carol@acme.test', plain.accessKeyId), []);

  const assigned = await carol.createKey(
    keyInput({ name: 'assigned', owner: 'bob@acme.test', groups: ['Deployers'], roles: ['Ingestion'] }),
  );
  const got = await about(admin, 'bob@acme.test', assigned.accessKeyId);
  t.is(got.length, 1);
  t.is(got[0]!.action, 'key.create');
  t.is(
    got[0]!.message,
    `carol@acme.test created your key "assigned" (${assigned.accessKeyId}) with group Deployers and role Ingestion`,
  );
});

perEngine('a tenant-level key that acts has no inbox: only the people concerned are notified', async (t, engine) => {
  const { admin } = await setup(t, engine);
  const robot = await actingAs(admin, null, ['Administrator']);
  const key = await robot.createKey(keyInput({ name: 'by-robot', owner: 'alice@acme.test', roles: ['ReadOnly'] }));
  const got = await about(admin, 'alice@acme.test', key.accessKeyId);
  t.is(got.length, 1);
  t.regex(got[0]!.actor, /^key:AKM[A-Z2-7]{17}$/);
  await refusal(t, () => robot.listNotifications(), { instanceOf: UsageError, exitCode: 2, code: 'no_inbox' });
  t.is((await robot.listNotifications({ user: 'alice@acme.test' })).user, 'alice@acme.test');
});

perEngine(
  'the owner hears when someone else deactivates, activates, rotates, extends or deletes their key',
  async (t, engine) => {
    const { clock, admin, dave } = await setup(t, engine);
    const key = await admin.createKey(keyInput({ name: 'svc', owner: 'alice@acme.test' }));
    const steps: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'key.deactivate',
        () => dave.setKeyStatus(key.accessKeyId, 'inactive'),
        /^dave@acme\.test deactivated your key "svc" \(AKM[A-Z2-7]{17}\): it no longer authenticates$/,
      ],
      ['key.activate', () => dave.setKeyStatus(key.accessKeyId, 'active'), /^dave@acme\.test activated your key "svc"/],
      [
        'key.rotate',
        () => dave.rotateKey(key.accessKeyId, 2 * HOUR),
        /new secret for your key "svc" .*; the old secret works until \d{4}-/,
      ],
      [
        'key.extend',
        () => dave.extendKey(key.accessKeyId, { kind: 'never' }),
        /changed the expiry of your key "svc" .* from \d{4}-\S+ to never$/,
      ],
      ['key.delete', () => dave.deleteKey(key.accessKeyId), /^dave@acme\.test deleted your key "svc"/],
    ];
    const secrets = [key.secretKey];
    for (const [action, step, message] of steps) {
      clock.advance(HOUR);
      const result = await step();
      if (result && typeof result === 'object' && 'secretKey' in result) secrets.push(String(result.secretKey));
      const newest = (await about(admin, 'alice@acme.test', key.accessKeyId))[0];
      t.is(newest?.action, action);
      t.regex(newest?.message ?? '', message, action);
      t.is(newest?.at, clock.now().toISOString());
    }
    const all = await about(admin, 'alice@acme.test', key.accessKeyId);
    t.deepEqual(
      all.map((n) => n.action),
      ['key.delete', 'key.extend', 'key.rotate', 'key.activate', 'key.deactivate', 'key.create'],
    );
    // the administrator who created it hears of dave's changes; dave of none; no message carries a secret
    t.deepEqual(await about(admin, 'dave@acme.test', key.accessKeyId), []);
    const adminInbox = await about(admin, 'admin@acme.test', key.accessKeyId);
    t.is(adminInbox.length, 5);
    t.true(adminInbox.every((n) => n.message.includes('of alice@acme.test')));
    for (const n of [...all, ...adminInbox]) for (const secret of secrets) t.false(n.message.includes(secret));
    t.true(all.every((n) => !/akms_/.test(n.message)));
  },
);

perEngine('a tenant-level key has no owner to tell; its administrators and creator are told', async (t, engine) => {
  const { admin, dave } = await setup(t, engine);
  const shared = await admin.createKey(keyInput({ name: 'shared', owner: null }));
  await dave.setKeyStatus(shared.accessKeyId, 'inactive');
  await dave.deleteKey(shared.accessKeyId);
  t.deepEqual(await about(admin, 'dave@acme.test', shared.accessKeyId), []);
  const told = await about(admin, 'admin@acme.test', shared.accessKeyId);
  t.deepEqual(
    told.map((n) => n.action),
    ['key.delete', 'key.deactivate'],
  );
  t.regex(told[0]!.message, /^dave@acme\.test deleted the tenant-level key "shared"/);
});

perEngine('a change that fails writes no notification: notices share the change transaction', async (t, engine) => {
  const { admin } = await setup(t, engine);
  const key = await admin.createKey(keyInput({ name: 'svc', owner: 'alice@acme.test' }));
  const before = await admin.listNotifications({ user: 'alice@acme.test' });
  await refusal(
    t,
    () =>
      admin.assignKey(key.accessKeyId, {
        addGroups: ['Deployers', 'NoSuchGroup'],
        addRoles: [],
        removeGroups: [],
        removeRoles: [],
      }),
    {
      instanceOf: NotFoundError,
      exitCode: 3,
    },
  );
  await refusal(t, () => admin.createKey(keyInput({ name: 'svc', owner: 'alice@acme.test', roles: ['ReadOnly'] })), {
    instanceOf: Error as never,
    exitCode: 4,
  });
  t.deepEqual(await admin.listNotifications({ user: 'alice@acme.test' }), before);
  t.deepEqual((await admin.showKey(key.accessKeyId)).groups, []);
});

perEngine('the inbox: newest first, unread filter, mark read, counts', async (t, engine) => {
  const { clock, admin, dave } = await setup(t, engine);
  const key = await admin.createKey(keyInput({ name: 'svc', owner: 'alice@acme.test' }));
  for (let i = 0; i < 2; i++) {
    clock.advance(HOUR);
    await dave.extendKey(key.accessKeyId, { kind: 'days', days: 10 + i });
  }
  const all = await admin.listNotifications({ user: 'alice@acme.test' });
  t.is(all.user, 'alice@acme.test');
  t.is(all.items.length, 3, 'the create and two extensions');
  t.is(all.unread, 3);
  t.deepEqual(
    all.items.map((n) => n.at),
    [...all.items.map((n) => n.at)].sort().reverse(),
  );

  const marked = await admin.listNotifications({ user: 'alice@acme.test', markRead: true, limit: 2 });
  t.deepEqual(
    marked.items.map((n) => n.read),
    [false, false],
    'returned as they were before marking',
  );
  t.is(marked.unread, 1);
  const unread = await admin.listNotifications({ user: 'alice@acme.test', unread: true });
  t.deepEqual(
    unread.items.map((n) => n.id),
    [all.items[2]!.id],
  );
  const again = await admin.listNotifications({ user: 'alice@acme.test' });
  t.deepEqual(
    again.items.map((n) => n.read),
    [true, true, false],
  );
  t.is(again.items[0]!.readAt, clock.now().toISOString());

  // the acting admin's own inbox is the default
  t.is((await admin.listNotifications()).user, 'admin@acme.test');
  await refusal(t, () => admin.listNotifications({ user: 'alice@acme.test', limit: 0 }), {
    instanceOf: UsageError,
    exitCode: 2,
  });
});

perEngine("another user's inbox needs users:manage; an unknown user is not found", async (t, engine) => {
  const { admin } = await setup(t, engine);
  const alice = await actingAs(admin, 'alice@acme.test', ['KeyManager']);
  t.is((await alice.listNotifications()).user, 'alice@acme.test');
  t.is((await alice.listNotifications({ user: 'ALICE@acme.test' })).user, 'alice@acme.test');
  await refusal(t, () => alice.listNotifications({ user: 'bob@acme.test' }), { instanceOf: DeniedError, exitCode: 5 });
  await refusal(t, () => alice.listNotifications({ user: 'bob@acme.test', markRead: true }), {
    instanceOf: DeniedError,
    exitCode: 5,
  });
  await refusal(t, () => admin.listNotifications({ user: 'nobody@acme.test' }), {
    instanceOf: NotFoundError,
    exitCode: 3,
  });
  await refusal(t, () => admin.listNotifications({ user: 'not an email' }), { instanceOf: UsageError, exitCode: 2 });
});
