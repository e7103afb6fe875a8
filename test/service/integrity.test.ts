/**
 * Reproduction 7 of the authorization issue: rows that decide authentication and authorization,
 * edited in the real store (the SQLite file, or the PostgreSQL tables) by a second connection
 * that has no master key. Before, the
 * edits took effect and `audit verify` said intact. Now each one fails closed: the key does not
 * verify, a command touching the row exits 6 with tampered_record naming it, and `audit verify`
 * lists exactly the altered rows. A property applies random combinations of edits.
 */
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { LocalService } from '../../src/service/local/service.js';
import type { IssuedKey } from '../../src/service/types.js';
import { TamperedRecordError } from '../../src/store/integrity.js';
import { addKeyGroup } from '../../src/store/keyAssignments.js';
import { updateStatus } from '../../src/store/keys.js';
import { addGroupMember, removeGroupRole } from '../../src/store/people.js';
import type { Queryable } from '../../src/store/types.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { checkAsyncProperty, propertyConfig } from '../helpers/property.js';
import { Clock, HOUR, keyInput, refusal } from '../helpers/service.js';
import { snapshot, tempStore, type TempStore } from '../helpers/store.js';

interface World {
  store: TempStore;
  clock: Clock;
  /** puts the store back as the world made it */
  restore: () => Promise<void>;
  /** K1: tenant-level, ReadOnly, active, rotated with an hour of grace; K2: bob's, inactive */
  k1: IssuedKey;
  k1Previous: string;
  k2: IssuedKey;
  open(): Promise<LocalService>;
}

async function world(t: ExecutionContext, engine: Engine): Promise<World> {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const clock = new Clock(new Date());
  const s = await store.open(clock.now);
  await s.addUser('bob@acme.test', 'Bob');
  await s.addUser('eve@acme.test', 'Eve');
  await s.createGroup('Deployers');
  await s.addGroupRole('Deployers', 'ReadOnly');
  await s.addGroupMember('Deployers', 'eve@acme.test');
  await s.createRole('Custom', ['deploy:run']);
  const first = await s.createKey(keyInput({ name: 'k1', roles: ['ReadOnly'] }));
  const k1 = await s.rotateKey(first.accessKeyId, HOUR);
  const k2 = await s.createKey(keyInput({ name: 'k2', owner: 'bob@acme.test', groups: ['Deployers'] }));
  await s.setKeyStatus(k2.accessKeyId, 'inactive');
  await s.close();
  const restore = await snapshot(store);
  const open = async () => {
    const service = await store.open(clock.now);
    t.teardown(() => service.close());
    return service;
  };
  return { store, clock, restore, k1, k1Previous: first.secretKey, k2, open };
}

/** Behind akm's back: a second connection, no master key. */
async function tamper(w: World, ...statements: string[]): Promise<void> {
  const raw = await w.store.raw();
  try {
    for (const statement of statements) await raw.run(statement);
  } finally {
    await raw.close();
  }
}

interface Edit {
  name: string;
  sql: (w: World) => string[];
  /** "table:row" of every row the edit alters */
  altered: (w: World) => string[];
}

const id = (w: World, which: 'k1' | 'k2') => w[which].accessKeyId;
const role = (name: string) => `(SELECT id FROM roles WHERE name = '${name}')`;
const group = (name: string) => `(SELECT id FROM groups WHERE name = '${name}')`;
const user = (email: string) => `(SELECT id FROM users WHERE email = '${email}')`;

const EDITS: Edit[] = [
  {
    name: 'an inactive key flipped to active',
    sql: (w) => [`UPDATE keys SET status = 'active' WHERE id = '${id(w, 'k2')}'`],
    altered: (w) => [`keys:${id(w, 'k2')}`],
  },
  {
    name: "an administrator's deactivation made undoable by anyone",
    sql: (w) => [`UPDATE keys SET deactivated_by_admin = 0 WHERE id = '${id(w, 'k2')}'`],
    altered: (w) => [`keys:${id(w, 'k2')}`],
  },
  {
    name: 'an expiry moved a year out',
    sql: (w) => [`UPDATE keys SET expires_at = '2099-01-01T00:00:00.000Z' WHERE id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: 'a key given to another owner',
    sql: (w) => [`UPDATE keys SET owner_id = ${user('eve@acme.test')} WHERE id = '${id(w, 'k2')}'`],
    altered: (w) => [`keys:${id(w, 'k2')}`],
  },
  {
    name: 'a key made tenant-level',
    sql: (w) => [`UPDATE keys SET owner_id = NULL WHERE id = '${id(w, 'k2')}'`],
    altered: (w) => [`keys:${id(w, 'k2')}`],
  },
  {
    name: 'a key type changed',
    sql: (w) => [`UPDATE keys SET type = 'api' WHERE id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: 'a key_roles row added (Administrator)',
    sql: (w) => [`INSERT INTO key_roles (key_id, role_id) VALUES ('${id(w, 'k1')}', ${role('Administrator')})`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: 'a key_roles row deleted',
    sql: (w) => [`DELETE FROM key_roles WHERE key_id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: 'a key_groups row added (Administrators)',
    sql: (w) => [`INSERT INTO key_groups (key_id, group_id) VALUES ('${id(w, 'k1')}', ${group('Administrators')})`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: "'*' added to a role's permissions",
    sql: () => [`INSERT INTO role_permissions (role_id, permission) VALUES (${role('ReadOnly')}, '*')`],
    altered: () => ['roles:ReadOnly'],
  },
  {
    name: 'a permission taken from a role',
    sql: () => [`DELETE FROM role_permissions WHERE role_id = ${role('KeyManager')} AND permission = 'keys:delete'`],
    altered: () => ['roles:KeyManager'],
  },
  {
    name: 'a role renamed',
    sql: () => [`UPDATE roles SET name = 'Operator' WHERE name = 'Custom'`],
    altered: () => ['roles:Operator'],
  },
  {
    name: 'a user added to Administrators',
    sql: () => [
      `INSERT INTO group_members (group_id, user_id) VALUES (${group('Administrators')}, ${user('eve@acme.test')})`,
    ],
    altered: () => ['groups:Administrators'],
  },
  {
    name: 'a role added to a group',
    sql: () => [`INSERT INTO group_roles (group_id, role_id) VALUES (${group('Deployers')}, ${role('Administrator')})`],
    altered: () => ['groups:Deployers'],
  },
  {
    name: 'a group marked built in',
    sql: () => [`UPDATE groups SET builtin = 1 WHERE name = 'Deployers'`],
    altered: () => ['groups:Deployers'],
  },
  {
    name: 'two users swap e-mail addresses',
    sql: () => [
      `UPDATE users SET email = 'tmp' WHERE email = 'bob@acme.test'`,
      `UPDATE users SET email = 'bob@acme.test' WHERE email = 'eve@acme.test'`,
      `UPDATE users SET email = 'eve@acme.test' WHERE email = 'tmp'`,
    ],
    altered: () => ['users:bob@acme.test', 'users:eve@acme.test'],
  },
  {
    name: "a rotation's grace moved into the future",
    sql: (w) => [`UPDATE keys SET previous_valid_until = '2099-01-01T00:00:00.000Z' WHERE id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: "the previous secret's digest replaced",
    sql: (w) => [`UPDATE keys SET previous_digest = secret_digest WHERE id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: 'a deactivation turned into a brownout that has already ended',
    sql: (w) => [`UPDATE keys SET inactive_until = '2000-01-01T00:00:00.000Z' WHERE id = '${id(w, 'k2')}'`],
    altered: (w) => [`keys:${id(w, 'k2')}`],
  },
  {
    name: 'the canary flag flipped',
    sql: (w) => [`UPDATE keys SET canary = 1 WHERE id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: "a grace made automatic with a day's quiet period",
    sql: (w) => [`UPDATE keys SET grace_quiet_ms = 86400000 WHERE id = '${id(w, 'k1')}'`],
    altered: (w) => [`keys:${id(w, 'k1')}`],
  },
  {
    name: 'a key row inserted whole (a copy under a new id)',
    sql: (w) => [
      `INSERT INTO keys (id, tenant_id, name, type, status, owner_id, secret_sealed, secret_digest, expires_at,
                         created_at, created_by, modified_at, modified_by, deactivated_by_admin, mac)
       SELECT 'AKMFORGEDFORGEDFORGE', tenant_id, 'forged', type, status, owner_id, secret_sealed, secret_digest,
              expires_at, created_at, created_by, modified_at, modified_by, deactivated_by_admin, mac FROM keys WHERE id = '${id(w, 'k1')}'`,
    ],
    altered: () => ['keys:AKMFORGEDFORGEDFORGE'],
  },
];

async function altered(service: LocalService): Promise<string[]> {
  return (await service.verifyAudit()).alteredRows.map((r) => `${r.table}:${r.row}`).sort();
}

/** What a person or a service would try with each kind of row: all refused or "not valid". */
async function touches(t: ExecutionContext, w: World, s: LocalService, rows: string[], label: string): Promise<void> {
  for (const row of rows) {
    const [table, name] = row.split(/:(.*)/s) as [string, string];
    const expected = { instanceOf: TamperedRecordError, exitCode: 6, code: 'tampered_record' };
    const attempt =
      table === 'keys'
        ? () => s.showKey(name)
        : table === 'roles'
          ? () => s.createKey(keyInput({ name: `x-${name}`, roles: [name] }))
          : table === 'groups'
            ? () => s.addGroupMember(name, 'admin@acme.test')
            : () => s.createKey(keyInput({ name: `y-${name}`, owner: name }));
    const error = await refusal(t, attempt, expected);
    t.true(error?.message.includes(name), `${label}: the error names ${row}`);
  }
  const valid = async (accessKeyId: string, secretKey: string) => (await s.verifyKey({ accessKeyId, secretKey })).valid;
  const k1Altered = rows.includes(`keys:${id(w, 'k1')}`);
  t.is(await valid(id(w, 'k1'), w.k1.secretKey), !k1Altered && !rows.includes('roles:ReadOnly'), `${label}: k1`);
  t.is(await valid(id(w, 'k1'), w.k1Previous), !k1Altered && !rows.includes('roles:ReadOnly'), `${label}: k1 grace`);
  t.false(await valid(id(w, 'k2'), w.k2.secretKey), `${label}: k2 stays not valid`);
}

perEngine(
  'reproduction 7: every edit of an authorization row without the master key fails closed and is listed',
  async (t, engine) => {
    const w = await world(t, engine);
    const control = await w.open();
    t.deepEqual(await altered(control), [], 'clean before (control)');
    await control.close();
    for (const edit of EDITS) {
      await w.restore();
      await tamper(w, ...edit.sql(w));
      const s = await w.open();
      const expected = edit.altered(w).sort();
      t.deepEqual(await altered(s), expected, edit.name);
      t.false((await s.verifyAudit()).ok, edit.name);
      await touches(t, w, s, expected, edit.name);
      await s.close();
    }
    await w.restore();
    t.deepEqual(await altered(await w.open()), [], 'clean after restoring (control)');
  },
);

perEngine(
  'reproduction 7, property: any combination of edits is listed exactly, and nothing else',
  async (t, engine) => {
    const w = await world(t, engine);
    const runs = Math.min(propertyConfig().numRuns, 40);
    const property = fc.asyncProperty(fc.subarray(EDITS, { minLength: 1 }), async (edits) => {
      await w.restore();
      // Each edit touches its own rows, except the ones that touch k1 or k2: those count once.
      await tamper(w, ...edits.flatMap((e) => e.sql(w)));
      const s = await w.open();
      try {
        const expected = [...new Set(edits.flatMap((e) => e.altered(w)))].sort();
        return JSON.stringify(await altered(s)) === JSON.stringify(expected);
      } finally {
        await s.close();
      }
    });
    await checkAsyncProperty(t, 'random edits listed exactly', property, { ...propertyConfig(), numRuns: runs });
  },
);

perEngine('a previous secret is never accepted after its grace, and is erased by the next write', async (t, engine) => {
  const w = await world(t, engine);
  const s = await w.open();
  const previous = async () => {
    const raw = await w.store.raw();
    try {
      return await raw.get(
        'SELECT previous_sealed, previous_digest, previous_valid_until, grace_mac FROM keys WHERE id = @id',
        {
          id: id(w, 'k1'),
        },
      );
    } finally {
      await raw.close();
    }
  };
  t.true((await s.verifyKey({ accessKeyId: id(w, 'k1'), secretKey: w.k1Previous })).valid, 'within its grace');
  w.clock.advance(HOUR + 1);
  t.false((await s.verifyKey({ accessKeyId: id(w, 'k1'), secretKey: w.k1Previous })).valid, 'after its grace');
  t.not((await previous())!.previous_digest, null, 'not erased yet: nothing was written since');
  await s.addUser('zoe@acme.test', ''); // any write at all
  t.deepEqual(await previous(), {
    previous_sealed: null,
    previous_digest: null,
    previous_valid_until: null,
    grace_mac: null,
  });
  t.deepEqual(await altered(s), [], 'erasing needs no key and leaves the row intact');
  t.true((await s.verifyKey({ accessKeyId: id(w, 'k1'), secretKey: w.k1.secretKey })).valid);
});

perEngine(
  'a change through akm never reseals a row altered behind its back, not even by a cascade',
  async (t, engine) => {
    const w = await world(t, engine);
    await tamper(
      w,
      `INSERT INTO group_members (group_id, user_id) VALUES (${group('Deployers')}, ${user('bob@acme.test')})`,
    );
    const s = await w.open();
    // Removing a user who is in the altered group cascades into its member set: refused, nothing changes.
    await s.addUser('tmp@acme.test', '');
    await refusal(t, () => s.addGroupMember('Deployers', 'tmp@acme.test'), {
      instanceOf: TamperedRecordError,
      exitCode: 6,
      code: 'tampered_record',
    });
    await refusal(t, () => s.removeUser('eve@acme.test'), {
      instanceOf: TamperedRecordError,
      exitCode: 6,
      code: 'tampered_record',
    });
    t.deepEqual(await altered(s), ['groups:Deployers']);
    t.true((await s.listUsers()).some((u) => u.email === 'eve@acme.test'));
  },
);

perEngine('the store itself refuses to change an altered row, whatever code path writes it', async (t, engine) => {
  const w = await world(t, engine);
  await tamper(
    w,
    `UPDATE keys SET expires_at = '2099-01-01T00:00:00.000Z' WHERE id = '${id(w, 'k1')}'`,
    `INSERT INTO group_members (group_id, user_id) VALUES (${group('Deployers')}, ${user('bob@acme.test')})`,
  );
  const raw = await w.store.raw();
  t.teardown(() => raw.close());
  const before = await raw.dump();
  // Store functions called directly on a keyed store, with no checked read before them.
  const keyed = await w.store.connection();
  t.teardown(() => keyed.close());
  const at = new Date().toISOString();
  const ids = async (q: Queryable, table: string, name: string) =>
    (await q.get<{ id: number }>(`SELECT id FROM ${table} WHERE name = @name`, { name }))!.id;
  for (const [what, write] of [
    [
      'a key update',
      (q: Queryable) =>
        updateStatus(q, id(w, 'k1'), { status: 'inactive', byAdmin: true, inactiveUntil: null }, at, 'test'),
    ],
    ['a key link', async (q: Queryable) => addKeyGroup(q, id(w, 'k1'), await ids(q, 'groups', 'Deployers'))],
    ['a member added', async (q: Queryable) => addGroupMember(q, await ids(q, 'groups', 'Deployers'), 1)],
    [
      'a group link',
      async (q: Queryable) =>
        removeGroupRole(q, await ids(q, 'groups', 'Deployers'), await ids(q, 'roles', 'ReadOnly')),
    ],
  ] as const) {
    const error = await t.throwsAsync(
      keyed.write('acme', async (q) => void (await write(q))),
      { instanceOf: TamperedRecordError },
      what,
    );
    t.is(error?.code, 'tampered_record', what);
  }
  t.deepEqual(await raw.dump(), before, 'nothing written, nothing resealed');
});
