import test from 'ava';
import { bellNotice, describeAssignments, type KeyChangeFacts } from '../../src/notify/bell.js';
import { uniquePeople } from '../../src/notify/recipients.js';

const key = {
  id: 'AKMAAAAAAAAAAAAAAAAA',
  name: 'deploy',
  owner_email: 'alice@acme.test',
  created_by: 'carol@acme.test',
  modified_by: 'dave@acme.test',
};
const facts = (
  action: string,
  details: Record<string, unknown> = {},
  overrides: Partial<KeyChangeFacts> = {},
): KeyChangeFacts => ({
  action,
  actor: 'admin@acme.test',
  key,
  details,
  ...overrides,
});

test('an assignment change goes to the owner, the creator and the last modifier, not to a bystander actor', (t) => {
  const notice = bellNotice(
    facts('key.assign', { addedGroups: ['Deployers'], addedRoles: [], removedGroups: [], removedRoles: ['ReadOnly'] }),
  );
  t.deepEqual(notice?.recipients, ['alice@acme.test', 'carol@acme.test', 'dave@acme.test']);
  t.is(
    notice?.message,
    'admin@acme.test changed the assignments of the key "deploy" (AKMAAAAAAAAAAAAAAAAA): added group Deployers; removed role ReadOnly',
  );
});

test('each impacted person once, whatever the case of their email; the actor too when concerned', (t) => {
  const own = { ...key, owner_email: 'alice@acme.test', created_by: 'Alice@Acme.test', modified_by: 'ALICE@acme.test' };
  t.deepEqual(
    bellNotice(facts('key.assign', { addedRoles: ['X'] }, { key: own, actor: 'alice@acme.test' }))?.recipients,
    ['alice@acme.test'],
  );
});

test('a tenant-level key as creator or modifier has no inbox and is skipped', (t) => {
  const tenantKey = {
    ...key,
    owner_email: null,
    created_by: 'key:AKMBBBBBBBBBBBBBBBBB',
    modified_by: 'dave@acme.test',
  };
  t.deepEqual(bellNotice(facts('key.assign', { addedRoles: ['X'] }, { key: tenantKey }))?.recipients, [
    'dave@acme.test',
  ]);
});

test('groups and roles given at create notify like an assignment; a create without them notifies nobody', (t) => {
  const created = { ...key, modified_by: key.created_by };
  const notice = bellNotice(
    facts(
      'key.create',
      { groups: ['Deployers'], roles: ['ReadOnly', 'Ingestion'] },
      { key: created, actor: 'carol@acme.test' },
    ),
  );
  t.deepEqual(notice?.recipients, ['alice@acme.test', 'carol@acme.test']);
  t.regex(
    notice!.message,
    /created the key "deploy" \(AKMAAAAAAAAAAAAAAAAA\) with group Deployers and roles ReadOnly, Ingestion/,
  );
  t.is(bellNotice(facts('key.create', { groups: [], roles: [] }, { key: created })), null);
});

test('the owner hears of deactivate, activate, rotate, extend and delete by someone else, and only the owner', (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['key.deactivate', { from: 'active', to: 'inactive' }, /deactivated your key "deploy" \(AKMAAAAAAAAAAAAAAAAA\)/],
    ['key.activate', { from: 'inactive', to: 'active' }, /activated your key/],
    ['key.rotate', { previousSecretValidUntil: null }, /new secret for your key .*stopped working at once/],
    [
      'key.rotate',
      { previousSecretValidUntil: '2026-05-02T09:00:00.000Z' },
      /old secret works until 2026-05-02T09:00:00.000Z/,
    ],
    [
      'key.extend',
      { from: '2026-05-02T09:00:00.000Z', to: null },
      /expiry of your key .* from 2026-05-02T09:00:00.000Z to never/,
    ],
    ['key.delete', { owner: 'alice@acme.test' }, /deleted your key "deploy"/],
  ];
  for (const [action, details, message] of cases) {
    const notice = bellNotice(facts(action, details));
    t.deepEqual(notice?.recipients, ['alice@acme.test'], action);
    t.regex(notice!.message, message, action);
  }
});

test('no owner notice when the owner acts, for a tenant-level key, or for other actions', (t) => {
  t.is(bellNotice(facts('key.deactivate', {}, { actor: 'ALICE@acme.test' })), null);
  t.is(bellNotice(facts('key.delete', {}, { key: { ...key, owner_email: null } })), null);
  t.is(bellNotice(facts('user.add', {})), null);
  t.is(bellNotice(facts('key.copy', {})), null);
});

test('assignment descriptions read naturally', (t) => {
  t.is(describeAssignments(['A'], []), 'group A');
  t.is(describeAssignments(['A', 'B'], ['R']), 'groups A, B and role R');
  t.is(describeAssignments([], []), '');
  t.deepEqual(uniquePeople([null, undefined, 'key:AKMX', 'not-an-email', 'B@x.test', 'b@X.test', 'a@x.test']), [
    'b@x.test',
    'a@x.test',
  ]);
});
