/** The whole key lifecycle on a real store, with the clock moved by hand where time matters. */
import { perEngine, type Engine } from '../helpers/engines.js';
import { ConflictError, NotFoundError } from '../../src/core/errors.js';
import { ENCRYPTED_PREFIX, formatKeyString, parseKeyString } from '../../src/core/keyString.js';
import { tempStore } from '../helpers/store.js';
import { auditRecords, Clock, DAY, HOUR, keyInput, refusal } from '../helpers/service.js';

async function setup(t: import('ava').ExecutionContext, engine: Engine, clock = new Clock()) {
  const store = await tempStore(engine);
  const service = await store.open(clock.now);
  t.teardown(async () => {
    await service.close();
    await store.cleanup();
  });
  return { store, service, clock };
}

const valid = async (
  service: import('../../src/service/local/service.js').LocalService,
  accessKeyId: string,
  secretKey: string,
  tenantId?: string,
) => (await service.verifyKey({ accessKeyId, secretKey, tenantId })).valid;

perEngine('create with groups and roles: the issued key, its key string, show, list and verify', async (t, engine) => {
  const { service, clock } = await setup(t, engine);
  await service.createRole('Deployer', ['deploy:run']);
  await service.createGroup('Deployers');
  await service.addGroupRole('Deployers', 'Deployer');
  const key = await service.createKey(
    keyInput({ name: 'deploy-bot', groups: ['Deployers'], roles: ['ReadOnly'], expiry: { kind: 'days', days: 90 } }),
  );

  t.regex(key.accessKeyId, /^AKM[A-Z2-7]{17}$/);
  t.regex(key.secretKey, /^akms_[0-9A-Za-z]{50}$/);
  t.is(key.keyString, `key:${key.accessKeyId}::${key.secretKey},tenant id:acme`);
  t.deepEqual(parseKeyString(key.keyString), {
    accessKeyId: key.accessKeyId,
    secret: key.secretKey,
    tenantId: 'acme',
    encrypted: false,
  });
  t.like(key, {
    name: 'deploy-bot',
    type: 'access',
    status: 'active',
    tenantId: 'acme',
    owner: null,
    groups: ['Deployers'],
    roles: ['ReadOnly'],
    createdBy: 'admin@acme.test',
    lastUsedAt: null,
  });
  t.is(key.expiresAt, new Date(clock.now().getTime() + 90 * DAY).toISOString());
  t.is(key.createdAt, clock.now().toISOString());

  const shown = await service.showKey(key.accessKeyId);
  t.deepEqual(shown.permissions, ['audit:read', 'deploy:run', 'keys:read']);
  t.is(shown.previousSecretValidUntil, null);
  t.false(JSON.stringify(shown).includes(key.secretKey));
  t.is((await service.showKey('deploy-bot')).accessKeyId, key.accessKeyId, 'a unique name resolves');

  const listed = await service.listKeys({});
  t.is(listed.items.length, 1);
  t.false(JSON.stringify(listed).includes(key.secretKey));

  const verdict = await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey, tenantId: 'acme' });
  t.like(verdict, {
    valid: true,
    accessKeyId: key.accessKeyId,
    tenantId: 'acme',
    owner: null,
    name: 'deploy-bot',
    type: 'access',
    permissions: ['audit:read', 'deploy:run', 'keys:read'],
  });

  const created = await auditRecords(service, 'key.create');
  t.is(created.length, 1);
  t.is(created[0]!.target, key.accessKeyId);
  t.false(created[0]!.details.includes(key.secretKey));
});

perEngine(
  'user-level keys carry their owner; a name is unique per owner, and an ambiguous name must be given as an id',
  async (t, engine) => {
    const { service } = await setup(t, engine);
    await service.addUser('dev@acme.test', 'Dev');
    const mine = await service.createKey(keyInput({ name: 'laptop', owner: 'DEV@acme.test' }));
    t.is(mine.owner, 'dev@acme.test');
    const tenantLevel = await service.createKey(keyInput({ name: 'laptop' }));
    await refusal(t, () => service.showKey('laptop'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'ambiguous_key',
    });
    t.is((await service.showKey(mine.accessKeyId)).owner, 'dev@acme.test');
    t.is((await service.showKey(tenantLevel.accessKeyId)).owner, null);
    await refusal(t, () => service.createKey(keyInput({ name: 'LAPTOP', owner: 'dev@acme.test' })), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'duplicate_name',
    });
  },
);

perEngine('type api is kept and reported', async (t, engine) => {
  const { service } = await setup(t, engine);
  const key = await service.createKey(keyInput({ name: 'ingest', type: 'api', roles: ['Ingestion'] }));
  t.is(key.type, 'api');
  const verdict = await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey });
  t.like(verdict, { valid: true, type: 'api', permissions: ['data:ingest'] });
});

perEngine('extend: days, a date, never; and an expired key revives with the same id', async (t, engine) => {
  const { service, clock } = await setup(t, engine);
  const key = await service.createKey(keyInput({ expiry: { kind: 'days', days: 1 } }));
  clock.advance(2 * DAY);
  t.is((await service.showKey(key.accessKeyId)).status, 'expired');
  t.false(await valid(service, key.accessKeyId, key.secretKey), 'an expired key fails verification');
  t.is((await service.listKeys({ status: 'expired' })).items.length, 1);
  t.is((await service.listKeys({ status: 'active' })).items.length, 0);

  const revived = await service.extendKey(key.accessKeyId, { kind: 'days', days: 30 });
  t.is(revived.accessKeyId, key.accessKeyId);
  t.is(revived.status, 'active');
  t.is(revived.expiresAt, new Date(clock.now().getTime() + 30 * DAY).toISOString());
  t.true(await valid(service, key.accessKeyId, key.secretKey), 'the same secret works again');

  const until = new Date(clock.now().getTime() + 10 * DAY);
  t.is((await service.extendKey(key.accessKeyId, { kind: 'until', at: until })).expiresAt, until.toISOString());
  t.is((await service.extendKey(key.accessKeyId, { kind: 'never' })).expiresAt, null);
  clock.advance(5000 * DAY);
  t.true(await valid(service, key.accessKeyId, key.secretKey), 'a key that never expires stays valid');
  t.deepEqual(
    (await auditRecords(service, 'key.extend')).map((r) => JSON.parse(r.details).to),
    [revived.expiresAt, until.toISOString(), null],
  );
});

perEngine('assign: add and remove groups and roles; permissions report their source', async (t, engine) => {
  const { service } = await setup(t, engine);
  await service.createRole('Deployer', ['deploy:run', 'keys:read']);
  await service.createGroup('Deployers');
  await service.addGroupRole('Deployers', 'Deployer');
  await service.addGroupRole('Deployers', 'ReadOnly');
  const key = await service.createKey(keyInput({ roles: ['Ingestion'] }));

  const assigned = await service.assignKey(key.accessKeyId, {
    addGroups: ['deployers'],
    addRoles: ['ReadOnly'],
    removeGroups: [],
    removeRoles: [],
  });
  t.deepEqual(assigned.groups, ['Deployers']);
  t.deepEqual(assigned.roles, ['Ingestion', 'ReadOnly']);
  const { permissions } = await service.keyPermissions(key.accessKeyId);
  t.deepEqual(permissions, [
    { permission: 'audit:read', role: 'ReadOnly', viaGroup: null },
    { permission: 'audit:read', role: 'ReadOnly', viaGroup: 'Deployers' },
    { permission: 'data:ingest', role: 'Ingestion', viaGroup: null },
    { permission: 'deploy:run', role: 'Deployer', viaGroup: 'Deployers' },
    { permission: 'keys:read', role: 'Deployer', viaGroup: 'Deployers' },
    { permission: 'keys:read', role: 'ReadOnly', viaGroup: null },
    { permission: 'keys:read', role: 'ReadOnly', viaGroup: 'Deployers' },
  ]);

  const auditBefore = (await auditRecords(service, 'key.assign')).length;
  await service.assignKey(key.accessKeyId, {
    addGroups: ['Deployers'],
    addRoles: [],
    removeGroups: [],
    removeRoles: ['KeyManager'],
  });
  t.is(
    (await auditRecords(service, 'key.assign')).length,
    auditBefore,
    'a change that changes nothing is not recorded',
  );

  const removed = await service.assignKey(key.accessKeyId, {
    addGroups: [],
    addRoles: [],
    removeGroups: ['Deployers'],
    removeRoles: ['Ingestion'],
  });
  t.deepEqual(removed.groups, []);
  t.deepEqual(removed.roles, ['ReadOnly']);
  t.deepEqual((await service.keyPermissions(key.accessKeyId)).permissions, [
    { permission: 'audit:read', role: 'ReadOnly', viaGroup: null },
    { permission: 'keys:read', role: 'ReadOnly', viaGroup: null },
  ]);
  const verdict = await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey });
  t.like(verdict, { valid: true, permissions: ['audit:read', 'keys:read'] });
});

perEngine('rotate: the old secret stops working at once, the new one works, the id stays', async (t, engine) => {
  const { service } = await setup(t, engine);
  const key = await service.createKey(keyInput());
  const rotated = await service.rotateKey(key.accessKeyId, 0);
  t.is(rotated.accessKeyId, key.accessKeyId);
  t.not(rotated.secretKey, key.secretKey);
  t.is(rotated.keyString, formatKeyString(key.accessKeyId, rotated.secretKey, 'acme'));
  t.is(rotated.previousSecretValidUntil, null);
  t.false(await valid(service, key.accessKeyId, key.secretKey), 'old secret refused immediately');
  t.true(await valid(service, key.accessKeyId, rotated.secretKey));
  t.is((await service.showKey(key.accessKeyId)).previousSecretValidUntil, null);
  const again = await service.rotateKey(key.accessKeyId, 0);
  t.false(await valid(service, key.accessKeyId, rotated.secretKey));
  t.true(await valid(service, key.accessKeyId, again.secretKey));
  t.is((await auditRecords(service, 'key.rotate')).length, 2);
});

perEngine(
  'rotate with grace: the old secret works until the grace period ends, then never again',
  async (t, engine) => {
    const { service, clock } = await setup(t, engine);
    const key = await service.createKey(keyInput({ expiry: { kind: 'days', days: 30 } }));
    const rotated = await service.rotateKey(key.accessKeyId, 2 * HOUR);
    const end = new Date(clock.now().getTime() + 2 * HOUR).toISOString();
    t.is(rotated.previousSecretValidUntil, end);
    t.is((await service.showKey(key.accessKeyId)).previousSecretValidUntil, end);
    t.true(await valid(service, key.accessKeyId, key.secretKey), 'old secret inside the grace period');
    t.true(await valid(service, key.accessKeyId, rotated.secretKey), 'new secret at once');
    clock.advance(2 * HOUR - 1);
    t.true(await valid(service, key.accessKeyId, key.secretKey), 'old secret one millisecond before the end');
    clock.advance(1);
    t.false(await valid(service, key.accessKeyId, key.secretKey), 'old secret at the end of the grace period');
    t.true(await valid(service, key.accessKeyId, rotated.secretKey));
    t.is((await service.showKey(key.accessKeyId)).previousSecretValidUntil, null);
  },
);

perEngine(
  'a grace period never outlives the key, and a second rotation drops the first old secret',
  async (t, engine) => {
    const { service, clock } = await setup(t, engine);
    const key = await service.createKey(keyInput({ expiry: { kind: 'days', days: 1 } }));
    const rotated = await service.rotateKey(key.accessKeyId, 7 * DAY);
    t.is(rotated.previousSecretValidUntil, key.expiresAt, 'capped at the key expiry');
    const second = await service.rotateKey(key.accessKeyId, HOUR);
    t.false(await valid(service, key.accessKeyId, key.secretKey), 'the first secret is gone');
    t.true(await valid(service, key.accessKeyId, rotated.secretKey), 'the second is in grace');
    t.true(await valid(service, key.accessKeyId, second.secretKey));
    clock.advance(DAY);
    t.false(await valid(service, key.accessKeyId, rotated.secretKey));
    t.false(await valid(service, key.accessKeyId, second.secretKey), 'expired key: no secret works');
  },
);

perEngine('copy returns the key string with the sealed secret, which never verifies', async (t, engine) => {
  const { service } = await setup(t, engine);
  const key = await service.createKey(keyInput());
  const copied = await service.copyKey(key.accessKeyId);
  t.is(copied.accessKeyId, key.accessKeyId);
  t.false(copied.keyString.includes(key.secretKey));
  const parts = parseKeyString(copied.keyString);
  t.true(parts.encrypted);
  t.true(parts.secret.startsWith(ENCRYPTED_PREFIX));
  t.false(await valid(service, key.accessKeyId, parts.secret));
  t.not((await service.copyKey(key.accessKeyId)).keyString, '', 'copy is repeatable');
  const rotated = await service.rotateKey(key.accessKeyId, 0);
  t.not(
    (await service.copyKey(key.accessKeyId)).keyString,
    copied.keyString,
    'after rotation copy shows the new sealed secret',
  );
  t.false((await service.copyKey(key.accessKeyId)).keyString.includes(rotated.secretKey));
});

perEngine(
  'deactivate and activate: inactive keys fail verification; repeating a status records nothing',
  async (t, engine) => {
    const { service } = await setup(t, engine);
    const key = await service.createKey(keyInput());
    t.is((await service.setKeyStatus(key.accessKeyId, 'inactive')).status, 'inactive');
    t.false(await valid(service, key.accessKeyId, key.secretKey));
    t.is((await service.listKeys({ status: 'inactive' })).items.length, 1);
    await service.setKeyStatus(key.accessKeyId, 'inactive');
    t.is((await auditRecords(service, 'key.deactivate')).length, 1);
    t.is((await service.setKeyStatus(key.accessKeyId, 'active')).status, 'active');
    t.true(await valid(service, key.accessKeyId, key.secretKey));
    t.is((await auditRecords(service, 'key.activate')).length, 1);
  },
);

perEngine('delete removes the key for good', async (t, engine) => {
  const { service } = await setup(t, engine);
  const key = await service.createKey(keyInput({ roles: ['ReadOnly'] }));
  const gone = await service.deleteKey(key.accessKeyId);
  t.is(gone.accessKeyId, key.accessKeyId);
  await refusal(t, () => service.showKey(key.accessKeyId), {
    instanceOf: NotFoundError,
    exitCode: 3,
    code: 'key_not_found',
  });
  await refusal(t, () => service.deleteKey(key.accessKeyId), { instanceOf: NotFoundError, exitCode: 3 });
  t.false(await valid(service, key.accessKeyId, key.secretKey));
  t.is((await service.listKeys({})).items.length, 0);
  const { n } = (await service.ctx.store.read((q) =>
    q.get<{ n: number }>('SELECT (SELECT count(*) FROM key_roles) + (SELECT count(*) FROM key_groups) AS n'),
  ))!;
  t.is(n, 0, 'assignments go with the key');
  t.is((await auditRecords(service, 'key.delete'))[0]?.target, key.accessKeyId);
});

perEngine(
  'verify: unknown, wrong, swapped, other-tenant, inactive and expired all answer "not valid"; a local check is not a use',
  async (t, engine) => {
    const { service, clock } = await setup(t, engine);
    const a = await service.createKey(keyInput({ name: 'a', expiry: { kind: 'days', days: 2 } }));
    const b = await service.createKey(keyInput({ name: 'b' }));
    const unknownId = 'AKM' + 'A'.repeat(17);
    const cases: Array<[string, string, string, string?]> = [
      ['unknown id', unknownId, a.secretKey],
      ['wrong secret', a.accessKeyId, b.secretKey.slice(0, 5) + 'x'.repeat(44) + b.secretKey.slice(-6)],
      ['another key’s secret', a.accessKeyId, b.secretKey],
      ['another tenant', a.accessKeyId, a.secretKey, 'globex'],
      ['empty secret', a.accessKeyId, ''],
      ['malformed id', 'akm' + a.accessKeyId.slice(3), a.secretKey],
    ];
    for (const [label, accessKeyId, secretKey, tenantId] of cases)
      t.deepEqual(await service.verifyKey({ accessKeyId, secretKey, tenantId }), { valid: false }, label);
    t.is((await service.showKey(a.accessKeyId)).lastUsedAt, null, 'failures do not count as use');

    clock.advance(HOUR);
    t.true(await valid(service, a.accessKeyId, a.secretKey, 'acme'));
    // The server's /v1/verify and signed requests stamp lastUsedAt (test/server/verify.test.ts).
    t.is((await service.showKey(a.accessKeyId)).lastUsedAt, null, 'an administrator checking a key does not use it');

    await service.setKeyStatus(b.accessKeyId, 'inactive');
    t.false(await valid(service, b.accessKeyId, b.secretKey), 'inactive');
    clock.advance(2 * DAY);
    t.false(await valid(service, a.accessKeyId, a.secretKey), 'expired');
  },
);
