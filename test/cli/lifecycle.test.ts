import test from 'ava';
import { scripted } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';

const KEY_FIELDS = [
  'accessKeyId',
  'name',
  'description',
  'type',
  'status',
  'tenantId',
  'owner',
  'groups',
  'roles',
  'createdAt',
  'createdBy',
  'modifiedAt',
  'modifiedBy',
  'expiresAt',
  'lastUsedAt',
  'secretCreatedAt',
  'canary',
  'inactiveUntil',
];

test('the whole lifecycle through the CLI, with the documented JSON fields', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());

  const created = await box.akmJson([
    'create',
    '--name',
    'deploy',
    '--expires-in',
    '30',
    '--tenant-level',
    '--role',
    'KeyManager',
    '--no-copy',
  ]);
  t.is(created.code, 0, created.stderr);
  t.deepEqual(Object.keys(created.value).sort(), [...KEY_FIELDS, 'secretKey', 'keyString'].sort());
  const key = created.value;
  t.regex(key.accessKeyId, /^AKM[A-Z2-7]{17}$/);
  t.is(key.keyString, `key:${key.accessKeyId}::${key.secretKey},tenant id:acme`);
  t.regex(created.stderr, /only time the secret key is shown/);
  t.is(key.lastUsedAt, null);
  t.regex(key.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const listed = await box.akmJson(['list']);
  t.is(listed.code, 0);
  t.deepEqual(Object.keys(listed.value[0]).sort(), [...KEY_FIELDS].sort());
  t.false(JSON.stringify(listed.value).includes(key.secretKey), 'list never shows a secret');

  t.is((await box.akm(['verify'], { input: key.keyString })).code, 0);
  const checked = await box.akmJson(['show', key.accessKeyId]);
  t.is(checked.value.lastUsedAt, null, 'a local verify is a check, not a use');

  const shown = await box.akmJson(['show', 'deploy']);
  t.deepEqual(shown.value.permissions, ['keys:delete', 'keys:read', 'keys:rotate', 'keys:write']);

  await box.akm(['groups', 'create', 'Ingesters']);
  await box.akm(['groups', 'add-role', 'Ingesters', 'Ingestion']);
  const assigned = await box.akmJson(['assign', 'deploy', '--group', 'Ingesters', '--remove-role', 'KeyManager']);
  t.deepEqual(assigned.value.groups, ['Ingesters']);
  t.deepEqual(assigned.value.roles, []);
  const perms = await box.akmJson(['permissions', 'deploy']);
  t.deepEqual(perms.value.permissions, [{ permission: 'data:ingest', role: 'Ingestion', viaGroup: 'Ingesters' }]);

  const rotated = await box.akmJson(['rotate', 'deploy', '--no-copy']);
  t.is(rotated.code, 0);
  t.not(rotated.value.secretKey, key.secretKey);
  t.is((await box.akm(['verify'], { input: key.keyString })).code, 5, 'the old secret stops working at once');
  t.is((await box.akm(['verify'], { input: rotated.value.keyString })).code, 0);

  const copied = await box.akm(['copy', 'deploy', '--print']);
  t.regex(copied.stdout.trim(), new RegExp(`^key:${key.accessKeyId}::akmenc1_[A-Za-z0-9_-]+,tenant id:acme$`));
  t.false(copied.stdout.includes(rotated.value.secretKey));

  t.is((await box.akmJson(['deactivate', 'deploy'])).value.status, 'inactive');
  t.is((await box.akm(['verify'], { input: rotated.value.keyString })).code, 5, 'inactive keys fail verify');
  t.is((await box.akmJson(['activate', 'deploy'])).value.status, 'active');
  t.is((await box.akm(['verify'], { input: rotated.value.keyString })).code, 0);

  const extended = await box.akmJson(['extend', 'deploy', '--until', '2030-01-01T00:00:00Z']);
  t.is(extended.value.expiresAt, '2030-01-01T00:00:00.000Z');
  t.is((await box.akmJson(['extend', 'deploy', '--never'])).value.expiresAt, null);

  t.is((await box.akm(['delete', 'deploy'])).code, 2, 'delete without a terminal needs --yes');
  t.is((await box.akm(['delete', 'deploy', '--yes'])).code, 0);
  t.is((await box.akm(['show', 'deploy'])).code, 3);
  t.is((await box.akm(['verify'], { input: rotated.value.keyString })).code, 5);
});

test('rotation with a grace period keeps the old secret until it ends', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const { value: key } = await box.akmJson([
    'create',
    '--name',
    'svc',
    '--expires-in',
    '10',
    '--tenant-level',
    '--no-copy',
  ]);
  const rotated = await box.akmJson(['rotate', 'svc', '--grace', '1h', '--no-copy']);
  t.is(rotated.code, 0);
  const until = Date.parse(rotated.value.previousSecretValidUntil);
  t.true(Math.abs(until - (Date.now() + 3_600_000)) < 60_000);
  t.is((await box.akm(['verify'], { input: key.keyString })).code, 0, 'old secret valid during grace');
  t.is((await box.akm(['verify'], { input: rotated.value.keyString })).code, 0);
  const shown = await box.akmJson(['show', 'svc']);
  t.is(shown.value.previousSecretValidUntil, rotated.value.previousSecretValidUntil);

  // Rotating again ends that grace at once: a person is told before agreeing (and may say no).
  const answers = scripted([/Issue a new secret for svc\?/, false]);
  const again = await box.akm(['rotate', 'svc', '--no-copy'], { tty: true, env: { CI: undefined }, answers });
  t.is(again.code, 130, again.stderr);
  t.regex(answers.asked[0]!, /The secret replaced by its last rotation, still in its grace, stops working now\./);
  t.is((await box.akm(['verify'], { input: key.keyString })).code, 0, 'said no: the old secret still works');
});

test('users, groups and roles', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  t.is((await box.akmJson(['users', 'add', 'bob@acme.test', '--name', 'Bob'])).value.email, 'bob@acme.test');
  t.is(
    (await box.akm(['roles', 'create', 'Deployer', '--permission', 'deploy:run', '--permission', 'keys:read'])).code,
    0,
  );
  t.is((await box.akm(['groups', 'create', 'Deployers'])).code, 0);
  t.is((await box.akm(['groups', 'add-member', 'Deployers', 'bob@acme.test'])).code, 0);
  const group = await box.akmJson(['groups', 'add-role', 'Deployers', 'Deployer']);
  t.deepEqual(group.value.members, ['bob@acme.test']);
  t.deepEqual(group.value.roles, ['Deployer']);
  const roles = await box.akmJson(['roles', 'list']);
  t.deepEqual(
    roles.value.map((r: { name: string }) => r.name),
    ['Administrator', 'Deployer', 'Ingestion', 'KeyManager', 'ReadOnly'],
  );
  t.is((await box.akm(['roles', 'delete', 'Deployer', '--yes'])).code, 4, 'a role in use is not deleted');
  t.is((await box.akm(['groups', 'remove-role', 'Deployers', 'Deployer'])).code, 0);
  t.is((await box.akm(['roles', 'delete', 'Deployer', '--yes'])).code, 0);
  t.is((await box.akm(['groups', 'delete', 'Administrators', '--yes'])).code, 4, 'built-ins stay');
  t.is((await box.akm(['groups', 'delete', 'Deployers', '--yes'])).code, 0);
  await box.akm(['create', '--name', 'bob-laptop', '--owner', 'bob@acme.test', '--expires-in', '5', '--no-copy']);
  t.is((await box.akm(['users', 'remove', 'bob@acme.test', '--yes'])).code, 4, 'a user who owns keys stays');
  await box.akm(['delete', 'bob-laptop', '--yes']);
  t.is((await box.akm(['users', 'remove', 'bob@acme.test', '--yes'])).code, 0);
  t.is((await box.akmJson(['users', 'list'])).value.length, 1);
});

test('a user owns at most two keys; the third is refused with exit 4 and a way out', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['users', 'add', 'bob@acme.test']);
  for (const name of ['one', 'two'])
    t.is(
      (await box.akm(['create', '--name', name, '--owner', 'bob@acme.test', '--expires-in', '5', '--no-copy'])).code,
      0,
    );
  const third = await box.akm([
    'create',
    '--name',
    'three',
    '--owner',
    'bob@acme.test',
    '--expires-in',
    '5',
    '--no-copy',
  ]);
  t.is(third.code, 4);
  t.regex(third.stderr, /already owns 2 keys/);
  t.regex(third.stderr, /hint: delete one first/);
  t.is(
    (await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'])).code,
    0,
    'tenant-level keys are unlimited',
  );
});
