import test from 'ava';
import fc from 'fast-check';
import { bellNotices, describeAssignments, type KeyChangeFacts } from '../../src/notify/bell.js';
import { uniquePeople } from '../../src/notify/recipients.js';
import { checkProperty } from '../helpers/property.js';

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
  administrators: ['admin@acme.test', 'root@acme.test'],
  ...overrides,
});
const recipients = (f: KeyChangeFacts) => bellNotices(f).map((n) => n.recipient);

test('a change goes to the owner, the administrators, the creator and the last modifier, never to the actor', (t) => {
  const notices = bellNotices(
    facts('key.assign', { addedGroups: ['Deployers'], addedRoles: [], removedGroups: [], removedRoles: ['ReadOnly'] }),
  );
  t.deepEqual(
    notices.map((n) => n.recipient),
    ['alice@acme.test', 'root@acme.test', 'carol@acme.test', 'dave@acme.test'],
  );
  const byRecipient = Object.fromEntries(notices.map((n) => [n.recipient, n.message]));
  t.is(
    byRecipient['alice@acme.test'],
    'admin@acme.test changed the assignments of your key "deploy" (AKMAAAAAAAAAAAAAAAAA): added group Deployers; removed role ReadOnly',
  );
  t.is(
    byRecipient['carol@acme.test'],
    'admin@acme.test changed the assignments of the key "deploy" (AKMAAAAAAAAAAAAAAAAA) of alice@acme.test: added group Deployers; removed role ReadOnly',
  );
});

test('each person once, whatever the case of their email; the actor never, even as owner', (t) => {
  const own = { ...key, owner_email: 'alice@acme.test', created_by: 'Alice@Acme.test', modified_by: 'ALICE@acme.test' };
  t.deepEqual(recipients(facts('key.assign', { addedRoles: ['X'] }, { key: own, actor: 'alice@acme.test' })), [
    'admin@acme.test',
    'root@acme.test',
  ]);
  t.deepEqual(
    recipients(facts('key.rotate', {}, { key: own, actor: 'ALICE@ACME.TEST', administrators: ['Alice@acme.test'] })),
    [],
  );
});

test('a tenant-level key as creator or modifier has no inbox and is skipped', (t) => {
  const tenantKey = {
    ...key,
    owner_email: null,
    created_by: 'key:AKMBBBBBBBBBBBBBBBBB',
    modified_by: 'dave@acme.test',
  };
  const notices = bellNotices(
    facts('key.assign', { addedRoles: ['X'] }, { key: tenantKey, actor: 'key:AKMBBBBBBBBBBBBBBBBB' }),
  );
  t.deepEqual(
    notices.map((n) => n.recipient),
    ['admin@acme.test', 'root@acme.test', 'dave@acme.test'],
  );
  t.regex(notices[0]!.message, /the tenant-level key "deploy"/);
});

test('every key change is told, with or without assignments; other actions are not', (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['key.create', { groups: [], roles: [] }, /^admin@acme\.test created your key "deploy" \(AKMAAAAAAAAAAAAAAAAA\)$/],
    [
      'key.create',
      { groups: ['Deployers'], roles: ['ReadOnly', 'Ingestion'] },
      /with group Deployers and roles ReadOnly, Ingestion$/,
    ],
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
  for (const [action, details, expected] of cases) {
    const notices = bellNotices(facts(action, details));
    t.true(notices.length > 0, action);
    t.regex(notices.find((n) => n.recipient === 'alice@acme.test')!.message, expected, action);
  }
  t.deepEqual(bellNotices(facts('user.add')), []);
  t.deepEqual(bellNotices(facts('key.copy')), []);
});

test('property: the recipients are exactly the people concerned, minus the actor, each once', (t) => {
  const person = fc.constantFrom(
    'a@x.test',
    'B@x.test',
    'b@x.test',
    'c@x.test',
    'd@x.test',
    'key:AKMCCCCCCCCCCCCCCCCC',
  );
  checkProperty(
    t,
    'bell recipients',
    fc.property(
      fc.record({
        owner: fc.option(person, { nil: null }),
        creator: person,
        modifier: person,
        actor: person,
        administrators: fc.array(person, { maxLength: 4 }),
        action: fc.constantFrom('key.create', 'key.assign', 'key.rotate', 'key.delete', 'key.extend'),
      }),
      (c) => {
        const got = recipients(
          facts(
            c.action,
            {},
            {
              actor: c.actor,
              administrators: c.administrators,
              key: { ...key, owner_email: c.owner, created_by: c.creator, modified_by: c.modifier },
            },
          ),
        );
        const concerned = new Set(
          ([c.owner, ...c.administrators, c.creator, c.modifier] as Array<string | null>)
            .filter((p): p is string => p !== null && !p.startsWith('key:'))
            .map((p) => p.toLowerCase()),
        );
        concerned.delete(c.actor.toLowerCase());
        return got.length === new Set(got).size && got.length === concerned.size && got.every((p) => concerned.has(p));
      },
    ),
  );
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
