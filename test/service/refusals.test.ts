/**
 * Every refusal has its documented exit code and changes nothing: the whole database is dumped
 * before and after each refused call and compared row by row.
 */
import { perEngine } from '../helpers/engines.js';
import { ConflictError, NotFoundError, UsageError, type ErrorCode } from '../../src/core/errors.js';
import type { LocalService } from '../../src/service/local/service.js';
import { tempStore, type TempStore } from '../helpers/store.js';
import { DAY, keyInput } from '../helpers/service.js';

interface Case {
  label: string;
  run: (service: LocalService, ids: Record<string, string>) => Promise<unknown>;
  error: typeof UsageError | typeof NotFoundError | typeof ConflictError;
  exitCode: 2 | 3 | 4;
  code?: ErrorCode;
}

const none = { addGroups: [], addRoles: [], removeGroups: [], removeRoles: [] };
const past = new Date(Date.now() - DAY);

const cases: Case[] = [
  // create: names
  { label: 'empty name', run: (s) => s.createKey(keyInput({ name: '' })), error: UsageError, exitCode: 2 },
  { label: 'blank name', run: (s) => s.createKey(keyInput({ name: '   ' })), error: UsageError, exitCode: 2 },
  {
    label: 'over-long name',
    run: (s) => s.createKey(keyInput({ name: 'n'.repeat(65) })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'name with escape sequence',
    run: (s) => s.createKey(keyInput({ name: '\u001b[31mred\u001b[0m' })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'name with newline',
    run: (s) => s.createKey(keyInput({ name: 'a\nfake: output' })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'name with leading dash',
    run: (s) => s.createKey(keyInput({ name: '--yes' })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'name that looks like an id',
    run: (s) => s.createKey(keyInput({ name: 'AKMABCDEFGHIJKLMNOPQ' })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'duplicate name',
    run: (s) => s.createKey(keyInput({ name: 'Taken' })),
    error: ConflictError,
    exitCode: 4,
    code: 'duplicate_name',
  },
  // create: type, owner, groups, roles
  {
    label: 'unknown type',
    run: (s) => s.createKey(keyInput({ type: 'admin' as 'api' })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'malformed owner',
    run: (s) => s.createKey(keyInput({ owner: 'dev at acme' })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'unknown owner',
    run: (s) => s.createKey(keyInput({ owner: 'ghost@acme.test' })),
    error: NotFoundError,
    exitCode: 3,
    code: 'user_not_found',
  },
  {
    label: 'unknown group',
    run: (s) => s.createKey(keyInput({ groups: ['Ghosts'] })),
    error: NotFoundError,
    exitCode: 3,
    code: 'group_not_found',
  },
  {
    label: 'unknown role after a known one',
    run: (s) => s.createKey(keyInput({ roles: ['ReadOnly', 'Ghost'] })),
    error: NotFoundError,
    exitCode: 3,
    code: 'role_not_found',
  },
  {
    label: 'third key for a user',
    run: (s) => s.createKey(keyInput({ name: 'third', owner: 'full@acme.test' })),
    error: ConflictError,
    exitCode: 4,
    code: 'key_limit',
  },
  // create: validity
  ...[0, -1, 1.5, Number.NaN, 3651, 1e9].map((days): Case => ({
    label: `${days} days`,
    run: (s) => s.createKey(keyInput({ expiry: { kind: 'days', days } })),
    error: UsageError,
    exitCode: 2,
  })),
  {
    label: 'expiry in the past',
    run: (s) => s.createKey(keyInput({ expiry: { kind: 'until', at: past } })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'invalid expiry date',
    run: (s) => s.createKey(keyInput({ expiry: { kind: 'until', at: new Date('2027-02-30x') } })),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'expiry beyond 10 years',
    run: (s) => s.createKey(keyInput({ expiry: { kind: 'until', at: new Date(Date.now() + 3651 * DAY) } })),
    error: UsageError,
    exitCode: 2,
  },
  // extend
  {
    label: 'extend unknown key',
    run: (s) => s.extendKey('AKMAAAAAAAAAAAAAAAAA', { kind: 'days', days: 1 }),
    error: NotFoundError,
    exitCode: 3,
    code: 'key_not_found',
  },
  {
    label: 'extend unknown name',
    run: (s) => s.extendKey('ghost', { kind: 'days', days: 1 }),
    error: NotFoundError,
    exitCode: 3,
  },
  {
    label: 'extend empty ref',
    run: (s) => s.extendKey(' ', { kind: 'days', days: 1 }),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'extend by 0 days',
    run: (s, k) => s.extendKey(k.taken!, { kind: 'days', days: 0 }),
    error: UsageError,
    exitCode: 2,
  },
  {
    label: 'extend into the past',
    run: (s, k) => s.extendKey(k.taken!, { kind: 'until', at: past }),
    error: UsageError,
    exitCode: 2,
  },
  // assign
  { label: 'assign nothing', run: (s, k) => s.assignKey(k.taken!, none), error: UsageError, exitCode: 2 },
  {
    label: 'assign unknown group',
    run: (s, k) => s.assignKey(k.taken!, { ...none, addGroups: ['Ghosts'] }),
    error: NotFoundError,
    exitCode: 3,
  },
  {
    label: 'assign a known role and remove an unknown one (all or nothing)',
    run: (s, k) => s.assignKey(k.taken!, { ...none, addRoles: ['KeyManager'], removeRoles: ['Ghost'] }),
    error: NotFoundError,
    exitCode: 3,
  },
  {
    label: 'assign to unknown key',
    run: (s) => s.assignKey('AKMAAAAAAAAAAAAAAAAA', { ...none, addRoles: ['ReadOnly'] }),
    error: NotFoundError,
    exitCode: 3,
  },
  // rotate, copy, status, delete, permissions
  {
    label: 'rotate unknown key',
    run: (s) => s.rotateKey('AKMAAAAAAAAAAAAAAAAA', 0),
    error: NotFoundError,
    exitCode: 3,
  },
  ...[-1, Number.NaN, Number.POSITIVE_INFINITY, 31 * DAY, 1.5].map((grace): Case => ({
    label: `rotate with grace ${grace}`,
    run: (s, k) => s.rotateKey(k.taken!, grace),
    error: UsageError,
    exitCode: 2,
  })),
  { label: 'copy unknown key', run: (s) => s.copyKey('nope'), error: NotFoundError, exitCode: 3 },
  {
    label: 'deactivate unknown key',
    run: (s) => s.setKeyStatus('AKMAAAAAAAAAAAAAAAAA', 'inactive'),
    error: NotFoundError,
    exitCode: 3,
  },
  { label: 'delete unknown key', run: (s) => s.deleteKey('AKMAAAAAAAAAAAAAAAAA'), error: NotFoundError, exitCode: 3 },
  { label: 'permissions of unknown key', run: (s) => s.keyPermissions('ghost'), error: NotFoundError, exitCode: 3 },
  {
    label: 'ambiguous name',
    run: (s) => s.deleteKey('shared'),
    error: ConflictError,
    exitCode: 4,
    code: 'ambiguous_key',
  },
  // people
  { label: 'add duplicate user', run: (s) => s.addUser('FULL@acme.test', ''), error: ConflictError, exitCode: 4 },
  { label: 'add malformed user', run: (s) => s.addUser('@acme.test', ''), error: UsageError, exitCode: 2 },
  { label: 'remove unknown user', run: (s) => s.removeUser('ghost@acme.test'), error: NotFoundError, exitCode: 3 },
  {
    label: 'remove a user who owns keys',
    run: (s) => s.removeUser('full@acme.test'),
    error: ConflictError,
    exitCode: 4,
  },
  { label: 'create duplicate group', run: (s) => s.createGroup('administrators'), error: ConflictError, exitCode: 4 },
  { label: 'create group with escape', run: (s) => s.createGroup('g\u001b]0;x\u0007'), error: UsageError, exitCode: 2 },
  { label: 'delete built-in group', run: (s) => s.deleteGroup('Administrators'), error: ConflictError, exitCode: 4 },
  {
    label: 'remove the last admin',
    run: (s) => s.removeGroupMember('Administrators', 'admin@acme.test'),
    error: ConflictError,
    exitCode: 4,
  },
  {
    label: 'member of unknown group',
    run: (s) => s.addGroupMember('Ghosts', 'full@acme.test'),
    error: NotFoundError,
    exitCode: 3,
  },
  {
    label: 'create duplicate role',
    run: (s) => s.createRole('readonly', ['keys:read']),
    error: ConflictError,
    exitCode: 4,
  },
  { label: 'create role without permissions', run: (s) => s.createRole('Nothing', []), error: UsageError, exitCode: 2 },
  {
    label: 'create role with a malformed permission',
    run: (s) => s.createRole('Bad', ['keys:read', 'keys']),
    error: UsageError,
    exitCode: 2,
  },
  { label: 'delete built-in role', run: (s) => s.deleteRole('Administrator'), error: ConflictError, exitCode: 4 },
  { label: 'delete unknown role', run: (s) => s.deleteRole('Ghost'), error: NotFoundError, exitCode: 3 },
];

async function populate(store: TempStore): Promise<{ service: LocalService; ids: Record<string, string> }> {
  const service = await store.open();
  await service.addUser('full@acme.test', 'Full');
  const taken = await service.createKey(keyInput({ name: 'Taken', roles: ['ReadOnly'] }));
  await service.createKey(keyInput({ name: 'one', owner: 'full@acme.test' }));
  await service.createKey(keyInput({ name: 'shared', owner: 'full@acme.test' }));
  await service.createKey(keyInput({ name: 'shared' }));
  return { service, ids: { taken: taken.accessKeyId } };
}

perEngine('each refused call has its exit code and leaves every table as it was', async (t, engine) => {
  const store = await tempStore(engine);
  const { service, ids } = await populate(store);
  t.teardown(async () => {
    await service.close();
    await store.cleanup();
  });
  const raw = await store.raw();
  t.teardown(() => raw.close());
  const before = await raw.dump();
  for (const c of cases) {
    const error = await t.throwsAsync(() => c.run(service, ids), undefined, c.label);
    if (!(error instanceof c.error)) {
      t.fail(`${c.label}: expected ${c.error.name}, got ${error?.constructor.name}: ${error?.message}`);
      continue;
    }
    t.is(error.exitCode, c.exitCode, c.label);
    if (c.code) t.is(error.code, c.code, c.label);
    t.false(/[\u0000-\u001f\u007f-\u009f]/.test(error.message), `${c.label}: control characters in "${error.message}"`);
    t.deepEqual(await raw.dump(), before, `${c.label} changed the store`);
  }
  t.log(`${cases.length} refused calls, store unchanged after each`);
});

perEngine(
  'the two-key limit: a third key is refused with exit 4 and a message that says how to make room',
  async (t, engine) => {
    const store = await tempStore(engine);
    const service = await store.open();
    t.teardown(async () => {
      await service.close();
      await store.cleanup();
    });
    await service.addUser('dev@acme.test', '');
    const first = await service.createKey(keyInput({ name: 'a', owner: 'dev@acme.test' }));
    await service.createKey(keyInput({ name: 'b', owner: 'dev@acme.test', type: 'api' }));
    await service.setKeyStatus(first.accessKeyId, 'inactive');
    const error = await t.throwsAsync(() => service.createKey(keyInput({ name: 'c', owner: 'dev@acme.test' })), {
      instanceOf: ConflictError,
    });
    t.is(error?.exitCode, 4);
    t.is(error?.code, 'key_limit');
    t.regex(error?.message ?? '', /dev@acme\.test already owns 2 keys/);
    t.regex(error?.hint ?? '', /akm delete/, 'says how to make room');
    t.regex(error?.hint ?? '', /akm list --owner dev@acme\.test/);
    // inactive and expired keys still count; deleting one makes room
    await service.deleteKey(first.accessKeyId);
    t.is((await service.createKey(keyInput({ name: 'c', owner: 'dev@acme.test' }))).owner, 'dev@acme.test');
    // tenant-level keys have no limit
    for (let i = 0; i < 5; i++) await service.createKey(keyInput({ name: `t${i}` }));
    t.is((await service.listKeys({})).items.length, 7);
  },
);
