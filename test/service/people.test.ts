/** Users, groups and roles: the built-ins, their protection, duplicates and unknown names. */
import { perEngine, type Engine } from '../helpers/engines.js';
import { ConflictError, NotFoundError, UsageError } from '../../src/core/errors.js';
import { tempStore } from '../helpers/store.js';
import { auditRecords, keyInput, refusal } from '../helpers/service.js';

async function setup(t: import('ava').ExecutionContext, engine: Engine) {
  const store = await tempStore(engine);
  const service = await store.open();
  t.teardown(async () => {
    await service.close();
    await store.cleanup();
  });
  return service;
}

perEngine('init made the built-in group, roles and first administrator', async (t, engine) => {
  const service = await setup(t, engine);
  const groups = await service.listGroups();
  t.like(
    groups.find((g) => g.name === 'Administrators'),
    { builtin: true, members: ['admin@acme.test'], roles: ['Administrator'] },
  );
  const roles = Object.fromEntries((await service.listRoles()).map((r) => [r.name, r]));
  t.deepEqual(Object.keys(roles).sort(), ['Administrator', 'Ingestion', 'KeyManager', 'ReadOnly']);
  t.deepEqual(roles.Administrator!.permissions, ['*']);
  t.deepEqual(roles.Ingestion!.permissions, ['data:ingest']);
  t.deepEqual(roles.KeyManager!.permissions, ['keys:delete', 'keys:read', 'keys:rotate', 'keys:write']);
  t.deepEqual(roles.ReadOnly!.permissions, ['audit:read', 'keys:read']);
  t.true(Object.values(roles).every((r) => r.builtin));
  t.like((await service.listUsers())[0], { email: 'admin@acme.test', groups: ['Administrators'], keyCount: 0 });
  t.like(await service.whoami(), { tenantId: 'acme', actor: 'admin@acme.test', admin: true, mode: 'local' });
});

perEngine('users: add, list, duplicates, unknown, and who cannot be removed', async (t, engine) => {
  const service = await setup(t, engine);
  const added = await service.addUser('Dev@Acme.Test', 'Dev One');
  t.like(added, { email: 'dev@acme.test', name: 'Dev One', groups: [], keyCount: 0 });
  await refusal(t, () => service.addUser('DEV@acme.test', 'again'), {
    instanceOf: ConflictError,
    exitCode: 4,
    code: 'duplicate_user',
  });
  await refusal(t, () => service.addUser('not-an-email', ''), { instanceOf: UsageError, exitCode: 2 });
  await refusal(t, () => service.addUser('x@acme.test', 'Bad\u001b[2J'), { instanceOf: UsageError, exitCode: 2 });
  await refusal(t, () => service.removeUser('ghost@acme.test'), {
    instanceOf: NotFoundError,
    exitCode: 3,
    code: 'user_not_found',
  });
  await refusal(t, () => service.removeUser('admin@acme.test'), {
    instanceOf: ConflictError,
    exitCode: 4,
    code: 'operator_user',
  });

  const key = await service.createKey(keyInput({ owner: 'dev@acme.test' }));
  t.is((await service.listUsers()).find((u) => u.email === 'dev@acme.test')?.keyCount, 1);
  const busy = await refusal(t, () => service.removeUser('dev@acme.test'), {
    instanceOf: ConflictError,
    exitCode: 4,
    code: 'user_has_keys',
  });
  t.regex(busy.hint ?? '', /akm list --owner dev@acme.test/);
  await service.deleteKey(key.accessKeyId);
  t.is((await service.removeUser('dev@acme.test')).email, 'dev@acme.test');
  t.deepEqual(
    (await service.listUsers()).map((u) => u.email),
    ['admin@acme.test'],
  );
  t.deepEqual(
    (await auditRecords(service)).filter((r) => r.action.startsWith('user.')).map((r) => `${r.action} ${r.target}`),
    ['user.add dev@acme.test', 'user.remove dev@acme.test'],
  );
});

perEngine(
  'groups: create, members, roles, duplicates, unknown names, built-in and in-use protection',
  async (t, engine) => {
    const service = await setup(t, engine);
    await service.addUser('dev@acme.test', '');
    const group = await service.createGroup('Deployers');
    t.like(group, { name: 'Deployers', builtin: false, members: [], roles: [] });
    await refusal(t, () => service.createGroup('deployers'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'duplicate_group',
    });
    await refusal(t, () => service.createGroup('-x'), { instanceOf: UsageError, exitCode: 2 });
    t.deepEqual((await service.addGroupMember('Deployers', 'dev@acme.test')).members, ['dev@acme.test']);
    t.deepEqual((await service.addGroupRole('Deployers', 'KeyManager')).roles, ['KeyManager']);
    await refusal(t, () => service.addGroupMember('Deployers', 'ghost@acme.test'), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'user_not_found',
    });
    await refusal(t, () => service.addGroupMember('Ghosts', 'dev@acme.test'), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'group_not_found',
    });
    await refusal(t, () => service.addGroupRole('Deployers', 'Ghost'), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'role_not_found',
    });

    const key = await service.createKey(keyInput({ groups: ['Deployers'] }));
    await refusal(t, () => service.deleteGroup('Deployers'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'group_in_use',
    });
    await service.assignKey(key.accessKeyId, {
      addGroups: [],
      addRoles: [],
      removeGroups: ['Deployers'],
      removeRoles: [],
    });
    t.deepEqual((await service.removeGroupMember('Deployers', 'dev@acme.test')).members, []);
    t.deepEqual((await service.removeGroupRole('Deployers', 'KeyManager')).roles, []);
    t.is((await service.deleteGroup('DEPLOYERS')).name, 'Deployers');
    await refusal(t, () => service.deleteGroup('Deployers'), { instanceOf: NotFoundError, exitCode: 3 });

    for (const name of ['Administrators', 'administrators']) {
      await refusal(t, () => service.deleteGroup(name), { instanceOf: ConflictError, exitCode: 4, code: 'builtin' });
    }
    await refusal(t, () => service.removeGroupMember('Administrators', 'admin@acme.test'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'last_admin',
    });
    await service.addGroupMember('Administrators', 'dev@acme.test');
    t.deepEqual(
      (await service.removeGroupMember('Administrators', 'admin@acme.test')).members,
      ['dev@acme.test'],
      'with another admin, one may go',
    );
  },
);

perEngine(
  'roles: create with permissions, refuse bad ones, duplicates, built-in and in-use protection',
  async (t, engine) => {
    const service = await setup(t, engine);
    const role = await service.createRole('Deployer', ['deploy:run', 'keys:read', 'deploy:run']);
    t.like(role, { name: 'Deployer', builtin: false, permissions: ['deploy:run', 'keys:read'] });
    await refusal(t, () => service.createRole('deployer', ['x:y']), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'duplicate_role',
    });
    await refusal(t, () => service.createRole('Empty', []), { instanceOf: UsageError, exitCode: 2 });
    await refusal(t, () => service.createRole('Bad', ['deploy']), { instanceOf: UsageError, exitCode: 2 });
    await refusal(t, () => service.createRole('Bad', ['Deploy:Run']), { instanceOf: UsageError, exitCode: 2 });
    for (const name of ['Administrator', 'KeyManager', 'ReadOnly', 'Ingestion', 'readonly']) {
      await refusal(t, () => service.deleteRole(name), { instanceOf: ConflictError, exitCode: 4, code: 'builtin' });
    }
    const key = await service.createKey(keyInput({ roles: ['Deployer'] }));
    await refusal(t, () => service.deleteRole('Deployer'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'role_in_use',
    });
    await service.deleteKey(key.accessKeyId);
    await service.createGroup('G');
    await service.addGroupRole('G', 'Deployer');
    await refusal(t, () => service.deleteRole('Deployer'), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'role_in_use',
    });
    await service.removeGroupRole('G', 'Deployer');
    t.is((await service.deleteRole('Deployer')).name, 'Deployer');
    await refusal(t, () => service.deleteRole('Deployer'), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'role_not_found',
    });
    t.deepEqual((await service.listRoles()).map((r) => r.name).sort(), [
      'Administrator',
      'Ingestion',
      'KeyManager',
      'ReadOnly',
    ]);
  },
);
