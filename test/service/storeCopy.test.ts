/**
 * `akm store copy`: every row of a store into an empty store of the other engine and back,
 * checked (row counts, every tenant's audit chain and head, every MAC); refused when the
 * target holds anything, the master key is not the source's, or the source fails its own check.
 */
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, UnavailableError, UsageError } from '../../src/core/errors.js';
import { copyStore } from '../../src/service/local/storeCopy.js';
import { LocalService } from '../../src/service/local/service.js';
import type { TableDump } from '../helpers/db.js';
import { postgresOnly } from '../helpers/engines.js';
import { postgresStoreUrl } from '../helpers/pg.js';
import { keyInput, refusal } from '../helpers/service.js';
import { closedPort } from '../helpers/smtp.js';
import { rawStore, tempStore, type TempStore } from '../helpers/store.js';

const DAY = 86_400_000;

/**
 * A store with a row in every table: two tenants, people, roles, keys in every state, a policy,
 * mail, tokens, a webhook with its deliveries, a tripped canary.
 */
async function filled(t: ExecutionContext): Promise<{ store: TempStore; keyStrings: string[] }> {
  const store = await tempStore('sqlite');
  t.teardown(store.cleanup);
  const port = await closedPort();
  const acme = await store.open();
  const mailing = new LocalService(acme.ctx, false, { url: `smtp://127.0.0.1:${port}`, from: 'akm@acme.test' });
  await acme.addUser('bob@acme.test', 'Bob');
  await acme.addUser('carol@acme.test', 'Carol');
  await acme.addGroupMember('Administrators', 'bob@acme.test');
  await acme.createRole('Deployer', ['deploy:run']);
  // Nothing listens there: its deliveries stay queued.
  await acme.addWebhook({ url: 'https://127.0.0.1:2/akm', events: ['*'] });
  await acme.createGroup('Ops');
  await acme.addGroupRole('Ops', 'Deployer');
  await acme.addGroupMember('Ops', 'carol@acme.test');
  const ops = await acme.createKey(keyInput({ name: 'ops', groups: ['Ops'], roles: ['ReadOnly'] }));
  const carols = await acme.createKey(
    keyInput({ name: 'carol', owner: 'carol@acme.test', expiry: { kind: 'days', days: 1 } }),
  );
  const rotated = await acme.rotateKey(ops.accessKeyId, DAY);
  const off = await acme.createKey(keyInput({ name: 'off' }));
  await acme.setKeyStatus(off.accessKeyId, 'inactive');
  await acme.deleteKey((await acme.createKey(keyInput({ name: 'gone' }))).accessKeyId);
  await acme.setPolicy({ maxLifetimeDays: 3650, neverExpires: 'nobody' }, { dryRun: false });
  // A canary tripped by a local verify: its alarm, and the attempt's source.
  const canary = await acme.createKey(keyInput({ name: 'bait', canary: true }));
  t.false((await acme.verifyKey({ accessKeyId: canary.accessKeyId, secretKey: canary.secretKey })).valid);
  await mailing.notifyExpiring({ withinDays: 2 }); // the mail server is down: rows stay in the outbox, failed
  await acme.close();
  const globex = await store.addTenant('globex');
  const theirs = await globex.createKey(keyInput({ name: 'theirs' }));
  await globex.close();
  const raw = await store.raw();
  await raw.run('INSERT INTO replay_tokens (token, expires_at) VALUES (@t, @e)', {
    t: randomBytes(32),
    e: Date.now() + 60_000,
  });
  await raw.run("INSERT INTO auth_failures (scope, minute, count) VALUES ('addr 127.0.0.9', 1, 3)");
  // A grace that ended by itself, not yet announced (the next write transaction would).
  await raw.run("INSERT INTO grace_ends (key_id, tenant_id, reason, ended_at) VALUES (@k, 'acme', 'quiet', @at)", {
    k: ops.accessKeyId,
    at: new Date().toISOString(),
  });
  const empty = Object.entries(await raw.dump()).filter(([, rows]) => rows.length === 0);
  await raw.close();
  t.deepEqual(empty, [], 'every table has rows to copy');
  // The previous secret of the rotation (in its grace period) must verify after the copy too.
  return { store, keyStrings: [rotated.keyString, ops.keyString, carols.keyString, theirs.keyString] };
}

async function dumpOf(location: string): Promise<TableDump> {
  const raw = await rawStore(location);
  try {
    const dump = await raw.dump();
    delete dump.akm_schema; // PostgreSQL's own version table; SQLite keeps it in a pragma
    return dump;
  } finally {
    await raw.close();
  }
}

async function works(t: ExecutionContext, location: string, store: TempStore, keyStrings: string[]): Promise<void> {
  for (const tenantId of ['acme', 'globex']) {
    const service = await LocalService.open({ store: location, tenantId, masterKey: store.masterKeyOptions });
    try {
      const audit = await service.verifyAudit();
      t.true(audit.ok, JSON.stringify(audit));
      t.deepEqual(audit.alteredRows, []);
      if (tenantId !== 'acme') continue;
      for (const keyString of keyStrings.slice(0, 3)) {
        const [, id, secret] = /^key:(\w+)::(\S+),/.exec(keyString)!;
        t.true((await service.verifyKey({ accessKeyId: id!, secretKey: secret! })).valid, 'a copied secret verifies');
      }
      // New rows get new ids after the copied ones (PostgreSQL's identity columns follow them).
      await service.addUser('dave@acme.test', 'Dave');
      await service.createGroup('Later');
      t.truthy(await service.createKey(keyInput({ name: 'after-copy', groups: ['Later'] })));
    } finally {
      await service.close();
    }
  }
}

postgresOnly('a store copied from SQLite to PostgreSQL and back is the same store', async (t) => {
  const { store, keyStrings } = await filled(t);
  const original = await dumpOf(store.location);
  const pgUrl = await postgresStoreUrl();
  const there = await copyStore({ from: store.location, to: pgUrl, masterKey: store.masterKeyOptions });
  t.deepEqual(
    Object.fromEntries(there.tables.map((r) => [r.table, r.rows])),
    Object.fromEntries(Object.entries(original).map(([table, rows]) => [table, rows.length])),
  );
  t.deepEqual(there.tenants.map((x) => x.tenantId).sort(), ['acme', 'globex']);
  t.deepEqual(await dumpOf(pgUrl), original, 'every row, byte for byte');

  const back = join(store.dir, 'back.db');
  const again = await copyStore({ from: pgUrl, to: back, masterKey: store.masterKeyOptions });
  t.deepEqual(again.tenants, there.tenants, 'the same audit heads');
  t.deepEqual(await dumpOf(back), original);
  await works(t, pgUrl, store, keyStrings);
  await works(t, back, store, keyStrings);
});

test('the copy is refused into a store that holds anything, and changes nothing there', async (t) => {
  const { store } = await filled(t);
  const other = await tempStore('sqlite');
  t.teardown(other.cleanup);
  const before = await dumpOf(other.location);
  const error = await refusal(
    t,
    () => copyStore({ from: store.location, to: other.location, masterKey: store.masterKeyOptions }),
    {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'store_not_empty',
    },
  );
  t.regex(error.message, /is not empty/);
  t.deepEqual(await dumpOf(other.location), before);
  await refusal(t, () => copyStore({ from: store.location, to: store.location, masterKey: store.masterKeyOptions }), {
    instanceOf: UsageError,
    exitCode: 2,
  });
});

test('the copy needs the master key of the source, and refuses a source that fails its check', async (t) => {
  const { store } = await filled(t);
  const target = join(store.dir, 'copy.db');
  const otherKey = { ...store.masterKeyOptions, env: { AKM_MASTER_KEY: randomBytes(32).toString('base64') } };
  await refusal(t, () => copyStore({ from: store.location, to: target, masterKey: otherKey }), {
    instanceOf: UnavailableError,
    exitCode: 6,
    code: 'wrong_master_key',
  });
  t.false(existsSync(target), 'nothing made');

  const raw = await store.raw();
  await raw.run("UPDATE keys SET status = 'active' WHERE name = 'off'");
  await raw.close();
  const error = await refusal(
    t,
    () => copyStore({ from: store.location, to: target, masterKey: store.masterKeyOptions }),
    {
      instanceOf: UnavailableError,
      exitCode: 6,
      code: 'audit_tampered',
    },
  );
  t.regex(error.message, /source store fails its check in tenant acme: the key AKM\w+ was changed outside akm/);
  t.false(existsSync(target), 'nothing copied');
});

test('the copy keeps sealed secrets and MACs as they are: the target opens with the same master key only', async (t) => {
  const { store, keyStrings } = await filled(t);
  const target = join(store.dir, 'copy.db');
  await copyStore({ from: store.location, to: target, masterKey: store.masterKeyOptions });
  const otherKey = { ...store.masterKeyOptions, env: { AKM_MASTER_KEY: randomBytes(32).toString('base64') } };
  const wrong = await LocalService.open({ store: target, masterKey: otherKey });
  t.teardown(() => wrong.close());
  await refusal(t, () => wrong.checkMasterKey(), {
    instanceOf: UnavailableError,
    exitCode: 6,
    code: 'wrong_master_key',
  });
  await works(t, target, store, keyStrings);
});
