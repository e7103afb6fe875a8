/**
 * The authorization rule, case by case on the local service: the checks a weakened rule would
 * lose (each of these turns red when its check is removed or loosened), denials and their audit
 * records, listing and names within reach, and keys deactivated before migration 3.
 */
import type { ExecutionContext } from 'ava';
import { perEngine, type Engine } from '../helpers/engines.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConflictError, DeniedError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import type { KeyView } from '../../src/service/types.js';
import { actingAs } from '../helpers/acting.js';
import { tenantDump } from '../helpers/authzWorld.js';
import { rawDb } from '../helpers/db.js';
import { buildAtVersion } from '../helpers/migrations.js';
import { auditRecords, Clock, createMany, DAY, keyInput, refusal } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

async function setup(t: ExecutionContext, engine: Engine, clock = new Clock()) {
  const store = await tempStore(engine, 'akm-authz-');
  const admin = await store.open(clock.now);
  t.teardown(async () => {
    await admin.close();
    await store.cleanup();
  });
  return { store, admin, clock };
}

const denied = (code: string) => ({ instanceOf: DeniedError, exitCode: 5, code });

perEngine('delete needs keys:delete: keys:write is not enough, and keys:delete alone is', async (t, engine) => {
  const { admin } = await setup(t, engine);
  await admin.createRole('Writer', ['keys:read', 'keys:write']);
  await admin.createRole('Deleter', ['keys:read', 'keys:delete']);
  const writer = await actingAs(admin, null, ['Writer']);
  const deleter = await actingAs(admin, null, ['Deleter']);
  const target = await admin.createKey(keyInput({ name: 'plain' }));
  await refusal(t, () => writer.deleteKey(target.accessKeyId), denied('permission_denied'));
  t.is((await admin.showKey(target.accessKeyId)).accessKeyId, target.accessKeyId);
  t.is((await deleter.deleteKey(target.accessKeyId)).accessKeyId, target.accessKeyId);
});

perEngine(
  'a user key never acts on tenant-level keys, not even weaker ones, and does not list them',
  async (t, engine) => {
    const { admin } = await setup(t, engine);
    await admin.addUser('bob@acme.test', 'Bob');
    const bob = await actingAs(admin, 'bob@acme.test', ['KeyManager']);
    const weaker = await admin.createKey(keyInput({ name: 'bare', roles: [] }));
    const id = weaker.accessKeyId;
    const before = await tenantDump(admin.ctx.store, 'acme');
    const attempts: Array<() => Promise<unknown>> = [
      () => bob.showKey(id),
      () => bob.keyPermissions(id),
      () => bob.copyKey(id),
      () => bob.rotateKey(id, 0),
      () => bob.extendKey(id, { kind: 'days', days: 1 }),
      () => bob.assignKey(id, { addGroups: [], addRoles: [], removeGroups: [], removeRoles: ['KeyManager'] }),
      () => bob.setKeyStatus(id, 'inactive'),
      () => bob.deleteKey(id),
    ];
    for (const attempt of attempts) await refusal(t, attempt, denied('not_your_key'));
    t.deepEqual(await tenantDump(admin.ctx.store, 'acme'), before);
    t.false((await bob.listKeys({})).items.some((k) => k.accessKeyId === id));
    // A tenant-level key of the same strength reaches it: the owner rule is what refused Bob.
    const robot = await actingAs(admin, null, ['KeyManager']);
    t.is((await robot.showKey(id)).accessKeyId, id);
  },
);

perEngine('expired keys count toward the two-key limit', async (t, engine) => {
  const { admin, clock } = await setup(t, engine);
  await admin.addUser('bob@acme.test', 'Bob');
  await admin.createKey(keyInput({ name: 'short', owner: 'bob@acme.test', expiry: { kind: 'days', days: 1 } }));
  clock.advance(2 * DAY);
  t.is((await admin.listKeys({ owner: 'bob@acme.test' })).items[0]!.status, 'expired');
  const bob = await actingAs(admin, 'bob@acme.test', ['KeyManager']);
  const third = () => keyInput({ name: 'third', owner: 'bob@acme.test' });
  await refusal(t, () => bob.createKey(third()), { instanceOf: ConflictError, exitCode: 4, code: 'key_limit' });
  await refusal(t, () => admin.createKey(third()), { instanceOf: ConflictError, exitCode: 4, code: 'key_limit' });
});

perEngine('a denial is audited once, after its transaction rolled back, and names no secret', async (t, engine) => {
  const { admin } = await setup(t, engine);
  const robot = await actingAs(admin, null, ['KeyManager']);
  const target = await admin.createKey(keyInput({ name: 'root', roles: ['Administrator'] }));
  const trail = (await auditRecords(admin)).length;
  await refusal(t, () => robot.rotateKey(target.accessKeyId, 0), denied('admin_key_protected'));
  const added = (await auditRecords(admin)).slice(trail);
  t.is(added.length, 1);
  t.like(added[0], { action: 'access.denied', target: target.accessKeyId, actor: robot.ctx.actor.label });
  t.deepEqual(JSON.parse(added[0]!.details), { operation: 'key.rotate', code: 'admin_key_protected' });
  t.false(JSON.stringify(added).includes(target.secretKey));
  // The secret did not change: the refused rotation left nothing behind.
  t.true((await admin.verifyKey({ accessKeyId: target.accessKeyId, secretKey: target.secretKey })).valid);
  t.true((await admin.verifyAudit()).ok);
});

perEngine('a non-administrator lists the keys in its reach, every one once, page by page', async (t, engine) => {
  const { admin, clock } = await setup(t, engine);
  const robot = await actingAs(admin, null, ['KeyManager']);
  const expected: string[] = [robot.ctx.actor.keyId!];
  for (let i = 0; i < 30; i++) {
    clock.advance(1000);
    const roles = [['Administrator'], ['KeyManager'], ['ReadOnly'], []][i % 4]!;
    const key = await admin.createKey(keyInput({ name: `k${i}`, roles }));
    if (i % 4 === 1 || i % 4 === 3) expected.push(key.accessKeyId);
  }
  for (const limit of [1, 2, 3, 7, 1000]) {
    const seen: KeyView[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await robot.listKeys({}, { limit, ...(after ? { after } : {}) });
      if (page.next) t.is(page.items.length, limit, 'a page with a next page is full');
      seen.push(...page.items);
      after = page.next;
      pages++;
    } while (after && pages < 100);
    t.deepEqual(
      seen.map((k) => k.accessKeyId),
      expected,
      `limit ${limit}`,
    );
  }
  t.is((await admin.listKeys({})).items.length, 31);
});

perEngine(
  'listing past a thousand keys, most of them out of reach, still shows each key in reach once',
  async (t, engine) => {
    const { admin, clock } = await setup(t, engine);
    const robot = await actingAs(admin, null, ['KeyManager']);
    const created = await createMany(admin, 2500, (i) => {
      if (i % 3 === 0) clock.advance(1000);
      return keyInput({ name: `k${i}`, roles: i % 3 === 2 ? ['KeyManager'] : ['Administrator'] });
    });
    const expected = [robot.ctx.actor.keyId!, ...created.filter((_, i) => i % 3 === 2).map((k) => k.accessKeyId)];
    for (const limit of [1000, 97]) {
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await robot.listKeys({}, { limit, ...(after ? { after } : {}) });
        seen.push(...page.items.map((k) => k.accessKeyId));
        after = page.next;
      } while (after && seen.length <= expected.length);
      t.deepEqual(seen, expected, `limit ${limit}`);
    }
  },
);

perEngine('a name is looked up among the keys in reach', async (t, engine) => {
  const { admin } = await setup(t, engine);
  await admin.addUser('alice@acme.test', 'Alice');
  await admin.addUser('bob@acme.test', 'Bob');
  await admin.createKey(keyInput({ name: 'laptop', owner: 'alice@acme.test' }));
  const bobs = await admin.createKey(keyInput({ name: 'laptop', owner: 'bob@acme.test' }));
  const bob = await actingAs(admin, 'bob@acme.test', ['KeyManager']);
  t.is((await bob.showKey('laptop')).accessKeyId, bobs.accessKeyId);
  const robot = await actingAs(admin, null, ['KeyManager']);
  await refusal(t, () => robot.showKey('laptop'), { instanceOf: ConflictError, exitCode: 4, code: 'ambiguous_key' });
});

perEngine('a change to a group or role is judged on every key it reaches', async (t, engine) => {
  const { admin } = await setup(t, engine);
  await admin.createRole('People', ['users:manage', 'keys:*', 'data:ingest']);
  await admin.createRole('PeopleOnly', ['users:manage']);
  const manager = await actingAs(admin, null, ['People']);
  const clerk = await actingAs(admin, null, ['PeopleOnly']);
  await admin.createGroup('Deployers');
  await admin.createGroup('Bots');
  const adminKey = await admin.createKey(keyInput({ name: 'root', roles: ['Administrator'], groups: ['Deployers'] }));
  await admin.createKey(keyInput({ name: 'bot', roles: ['Ingestion'], groups: ['Bots'] }));

  // Deployers reaches an administrator's key: neither adding nor removing its roles, nor deleting it.
  await refusal(t, () => manager.addGroupRole('Deployers', 'People'), denied('admin_key_protected'));
  await refusal(t, () => manager.removeGroupRole('Deployers', 'People'), denied('admin_key_protected'));
  await refusal(t, () => manager.deleteGroup('Deployers'), denied('admin_key_protected'));
  // Bots reaches only a key the manager could change itself.
  t.deepEqual((await manager.addGroupRole('Bots', 'People')).roles, ['People']);
  t.deepEqual((await manager.removeGroupRole('Bots', 'People')).roles, []);
  // Without keys:write, a group that reaches keys is out of bounds; an unassigned one is not.
  await refusal(t, () => clerk.addGroupRole('Bots', 'PeopleOnly'), denied('permission_denied'));
  await admin.createGroup('Empty');
  t.deepEqual((await clerk.addGroupRole('Empty', 'PeopleOnly')).roles, ['PeopleOnly']);
  // A role that reaches a key more powerful than the actor is not deleted by it.
  await refusal(t, () => clerk.deleteRole('Ingestion'), denied('permission_denied'));
  await refusal(t, () => manager.deleteRole('Administrator'), denied('admin_key_protected'));
  t.like(await admin.showKey(adminKey.accessKeyId), { groups: ['Deployers'] });
});

perEngine(
  'an administrator who deactivates a key someone else deactivated takes the deactivation over',
  async (t, engine) => {
    const { admin } = await setup(t, engine);
    const robot = await actingAs(admin, null, ['KeyManager']);
    const key = await admin.createKey(keyInput({ name: 'svc', roles: ['KeyManager'] }));
    await robot.setKeyStatus(key.accessKeyId, 'inactive');
    await robot.setKeyStatus(key.accessKeyId, 'active');
    await robot.setKeyStatus(key.accessKeyId, 'inactive');
    await admin.setKeyStatus(key.accessKeyId, 'inactive');
    await refusal(t, () => robot.setKeyStatus(key.accessKeyId, 'active'), denied('reactivation_denied'));
    t.is((await admin.setKeyStatus(key.accessKeyId, 'active')).status, 'active');
    // Activating clears it: what the robot deactivates next, the robot may undo.
    await robot.setKeyStatus(key.accessKeyId, 'inactive');
    t.is((await robot.setKeyStatus(key.accessKeyId, 'active')).status, 'active');
  },
);

// A SQLite store of the version before (PostgreSQL stores start at the latest version).
perEngine(
  'a key deactivated before migration 3 is re-activated only by an administrator',
  async (t, engine) => {
    const store = await tempStore(engine, 'akm-authz-');
    t.teardown(() => store.cleanup());
    const path = join(store.dir, 'old.db');
    const master = randomBytes(32);
    const old = buildAtVersion(path, 2, master);
    const raw = rawDb(path);
    raw.prepare("UPDATE keys SET status = 'inactive' WHERE id = ?").run(old.keys[0]!.accessKeyId);
    raw.close();
    const service = await LocalService.open({
      store: path,
      masterKey: { ...store.masterKeyOptions, env: { AKM_MASTER_KEY: master.toString('base64') } },
      source: 'test',
    });
    t.teardown(() => service.close());
    await service.addUser('bob@acme.test', 'Bob');
    const robot = await actingAs(service, null, ['KeyManager', 'ReadOnly']);
    await refusal(t, () => robot.setKeyStatus(old.keys[0]!.accessKeyId, 'active'), denied('reactivation_denied'));
    t.is((await service.setKeyStatus(old.keys[0]!.accessKeyId, 'active')).status, 'active');
  },
  ['sqlite'],
);
