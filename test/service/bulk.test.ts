/**
 * Changing many keys at once, all or nothing, on both engines: one key out of reach, one unknown
 * key, one extension the enforced policy refuses — and nothing changes, not a row; otherwise
 * every key changes in one transaction with one audit record each. The dry run changes nothing.
 * Also `akm edit` and the description and secret date of a key.
 */
import type { ExecutionContext } from 'ava';
import { ConflictError, DeniedError, NotFoundError, UsageError } from '../../src/core/errors.js';
import type { BulkAction, IssuedKey } from '../../src/service/types.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { auditRecords, Clock, DAY, keyInput, refusal } from '../helpers/service.js';
import { tempStore, type TempStore } from '../helpers/store.js';

async function setup(t: ExecutionContext, engine: Engine) {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const clock = new Clock();
  const admin = await store.open(clock.now);
  t.teardown(() => admin.close());
  const manager = await actingAs(admin, null, ['KeyManager']);
  const keys: IssuedKey[] = [];
  for (const name of ['a', 'b', 'c', 'd'])
    keys.push(await admin.createKey(keyInput({ name, roles: ['KeyManager'], expiry: { kind: 'days', days: 30 } })));
  const adminKey = await admin.createKey(keyInput({ name: 'root', roles: ['Administrator'] }));
  return { store, clock, admin, manager, keys, adminKey };
}

async function unchanged(t: ExecutionContext, store: TempStore, work: () => Promise<unknown>): Promise<void> {
  const raw = await store.raw();
  try {
    const before = await raw.dump();
    await work();
    const after = await raw.dump();
    // The refusal's own audit records aside, not a row of the store changed.
    for (const table of ['audit', 'audit_heads']) {
      delete before[table];
      delete after[table];
    }
    t.deepEqual(after, before);
  } finally {
    await raw.close();
  }
}

const ACTIONS: BulkAction[] = [
  { kind: 'deactivate' },
  { kind: 'activate' },
  { kind: 'delete' },
  { kind: 'extend', expiry: { kind: 'days', days: 10 } },
];

perEngine(
  'one key out of reach in the set: exit 5, nothing changed, one access.denied record per refused key',
  async (t, engine) => {
    const { store, admin, manager, keys, adminKey } = await setup(t, engine);
    const other = await admin.createKey(keyInput({ name: 'other-root', roles: ['Administrator'] }));
    for (const action of ACTIONS) {
      const before = (await auditRecords(admin, 'access.denied')).length;
      const refs = [keys[0]!.accessKeyId, 'b', adminKey.accessKeyId, keys[2]!.accessKeyId, other.accessKeyId];
      await unchanged(t, store, async () => {
        const error = await refusal(t, () => manager.bulkKeys({ action, keys: refs, dryRun: false }), {
          instanceOf: DeniedError,
          exitCode: 5,
          code: 'admin_key_protected',
        });
        t.regex(error.message, new RegExp(`${adminKey.accessKeyId} is an administrator's key.*2 of 5 keys refused`));
      });
      const denials = (await auditRecords(admin, 'access.denied')).slice(before);
      t.deepEqual(
        denials.map((d) => d.target),
        [adminKey.accessKeyId, other.accessKeyId],
        `${action.kind}: one record per refused key`,
      );
      await refusal(t, () => manager.bulkKeys({ action, keys: refs, dryRun: true }), {
        instanceOf: DeniedError,
        exitCode: 5,
      });
    }
  },
);

perEngine(
  'one unknown key: exit 3; a refused extension: exit 4; a bad request: exit 2; nothing changed',
  async (t, engine) => {
    const { store, admin } = await setup(t, engine);
    await admin.setPolicy({ maxLifetimeDays: 20 }, { dryRun: false });
    await unchanged(t, store, async () => {
      await refusal(t, () => admin.bulkKeys({ action: { kind: 'delete' }, keys: ['a', 'nope'], dryRun: false }), {
        instanceOf: NotFoundError,
        exitCode: 3,
        code: 'key_not_found',
      });
      const extend: BulkAction = { kind: 'extend', expiry: { kind: 'days', days: 21 } };
      await refusal(t, () => admin.bulkKeys({ action: extend, keys: ['a', 'b'], dryRun: false }), {
        instanceOf: ConflictError,
        exitCode: 4,
        code: 'policy_violation',
      });
      await refusal(t, () => admin.bulkKeys({ action: { kind: 'delete' }, keys: [], dryRun: false }), {
        instanceOf: UsageError,
        exitCode: 2,
      });
      const many = Array.from({ length: 10_001 }, (_, i) => `k${i}`);
      await refusal(t, () => admin.bulkKeys({ action: { kind: 'delete' }, keys: many, dryRun: false }), {
        instanceOf: UsageError,
        exitCode: 2,
        code: 'too_many_keys',
      });
    });
  },
);

perEngine(
  'all allowed: every key changed at once, one audit record each; keys named twice count once',
  async (t, engine) => {
    const { admin, manager, keys, clock } = await setup(t, engine);
    const ids = keys.map((k) => k.accessKeyId);
    const dry = await manager.bulkKeys({ action: { kind: 'deactivate' }, keys: [...ids, 'a'], dryRun: true });
    t.deepEqual(
      dry.keys.map((k) => [k.name, k.from.status, k.to?.status, k.changed]),
      ['a', 'b', 'c', 'd'].map((n) => [n, 'active', 'inactive', true]),
    );
    t.is((await admin.showKey('a')).status, 'active', 'the dry run changed nothing');

    const before = (await auditRecords(admin)).length;
    await admin.setKeyStatus('c', 'inactive');
    const done = await manager.bulkKeys({ action: { kind: 'deactivate' }, keys: [...ids, 'a'], dryRun: false });
    t.deepEqual(
      done.keys.map((k) => [k.name, k.changed]),
      [
        ['a', true],
        ['b', true],
        ['c', false],
        ['d', true],
      ],
    );
    const records = (await auditRecords(admin)).slice(before + 1);
    t.deepEqual(
      records.map((r) => [r.action, r.target]),
      [ids[0], ids[1], ids[3]].map((id) => ['key.deactivate', id]),
    );
    // c was deactivated by an administrator: only an administrator re-activates it.
    await refusal(t, () => manager.bulkKeys({ action: { kind: 'activate' }, keys: ids, dryRun: false }), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'reactivation_denied',
    });
    t.is((await admin.showKey('a')).status, 'inactive');
    const extended = await admin.bulkKeys({
      action: { kind: 'extend', expiry: { kind: 'days', days: 90 } },
      keys: ids,
      dryRun: false,
    });
    const until = new Date(clock.now().getTime() + 90 * DAY).toISOString();
    t.true(extended.keys.every((k) => k.to?.expiresAt === until));
    const deleted = await admin.bulkKeys({ action: { kind: 'delete' }, keys: ids.slice(0, 2), dryRun: false });
    t.true(deleted.keys.every((k) => k.to === null && k.changed));
    t.is((await admin.listKeys({ name: '[ab]' })).items.length, 0);
    t.is((await auditRecords(admin, 'key.delete')).length, 2);
  },
);

perEngine(
  'a non-administrator extends to never in bulk: never_expiry_denied for each key, nothing changed',
  async (t, engine) => {
    const { store, admin, manager } = await setup(t, engine);
    const before = (await auditRecords(admin, 'access.denied')).length;
    await unchanged(t, store, () =>
      refusal(
        t,
        () =>
          manager.bulkKeys({ action: { kind: 'extend', expiry: { kind: 'never' } }, keys: ['a', 'b'], dryRun: false }),
        {
          instanceOf: DeniedError,
          exitCode: 5,
          code: 'never_expiry_denied',
        },
      ),
    );
    t.is((await auditRecords(admin, 'access.denied')).length - before, 2);
  },
);

perEngine(
  'edit: a new name (unique per owner) or description, audited; secretCreatedAt moves with a rotation',
  async (t, engine) => {
    const { admin, manager, clock, adminKey } = await setup(t, engine);
    const key = await admin.createKey(keyInput({ name: 'deploy', description: 'CI deploys', roles: ['ReadOnly'] }));
    t.is(key.description, 'CI deploys');
    t.is(key.secretCreatedAt, key.createdAt);
    clock.advance(DAY);
    const renamed = await admin.editKey('deploy', { name: 'deploy-eu' });
    t.is(renamed.name, 'deploy-eu');
    t.is(renamed.description, 'CI deploys');
    const cleared = await admin.editKey(key.accessKeyId, { description: '' });
    t.is(cleared.description, '');
    await refusal(t, () => admin.editKey(key.accessKeyId, { name: 'A' }), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'duplicate_name',
    });
    t.is(
      (await admin.editKey(key.accessKeyId, { name: 'DEPLOY-EU' })).name,
      'DEPLOY-EU',
      'the same name, another case',
    );
    await refusal(t, () => admin.editKey(key.accessKeyId, { description: 'x\u001b[2J' }), {
      instanceOf: UsageError,
      exitCode: 2,
    });
    await refusal(t, () => admin.editKey(key.accessKeyId, {}), { instanceOf: UsageError, exitCode: 2 });
    await refusal(t, () => manager.editKey(adminKey.accessKeyId, { description: 'mine now' }), {
      instanceOf: DeniedError,
      exitCode: 5,
      code: 'admin_key_protected',
    });
    const edits = await auditRecords(admin, 'key.edit');
    t.is(edits.length, 3);
    t.deepEqual(JSON.parse(edits[0]!.details), {
      name: 'deploy',
      from: { name: 'deploy', description: 'CI deploys' },
      to: { name: 'deploy-eu', description: 'CI deploys' },
    });
    clock.advance(DAY);
    const rotated = await admin.rotateKey(key.accessKeyId, 0);
    t.is(rotated.secretCreatedAt, clock.now().toISOString());
    t.is(rotated.createdAt, key.createdAt);
  },
);
